// Sets and maps against the real kernel: typed keys and data, concatenations,
// intervals, timeouts, verdict maps, element add/list/delete, and a 10,000
// element map in one transaction (one sendmsg).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import type { Namespace } from '../src/namespace.js';
import {
  addElements,
  addRule,
  addSet,
  addTable,
  deleteElements,
  deleteSet,
  flushSet,
  getElements,
  getSet,
  ip,
  listElements,
  listSets,
  transaction,
  type SetElement,
} from '../src/nft/index.js';
import { NsScope } from './helpers.js';
import { nft, nftJson, nftScript } from './nft-oracle.js';

const scope = new NsScope();
afterAll(() => scope.cleanup());

const family = 'inet' as const;
const table = 'S';

let ns: Namespace;
beforeAll(async () => {
  ns = await scope.create('nfs');
  await addTable({ family, name: table }, { ns });
});

const byKey = (a: SetElement, b: SetElement) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key));

/** nft -j's view of one set's elements. */
const nftElems = (name: string) => nftJson(ns, 'list', 'set', family, table, name)[0].set.elem;
const nftMapElems = (name: string) => nftJson(ns, 'list', 'map', family, table, name)[0].map.elem;

describe('maps with concatenations', () => {
  const pub = { family, table, name: 'pub', key: ['inet_proto', 'inet_service'] as const, data: ['ipv4_addr', 'inet_service'] as const };

  it('adds, lists and deletes elements; nft sees the same', async () => {
    const s = await addSet({ ...pub, key: [...pub.key], data: [...pub.data] }, { ns });
    expect(s).toMatchObject({ name: 'pub', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'], keyLen: 8, dataLen: 8, flags: ['map'] });
    await addElements({ ...pub, key: [...pub.key], data: [...pub.data] }, [
      { key: ['tcp', 8080], data: ['172.18.0.10', 5000] },
      { key: ['udp', 5353], data: ['172.18.0.11', 53] },
      { key: ['tcp', 443], data: ['172.18.0.12', 8443], comment: 'https' },
    ], { ns });
    const got = (await listElements(s, { ns })).sort(byKey);
    expect(got).toEqual([
      { key: ['tcp', 443], data: ['172.18.0.12', 8443], comment: 'https' },
      { key: ['tcp', 8080], data: ['172.18.0.10', 5000] },
      { key: ['udp', 5353], data: ['172.18.0.11', 53] },
    ]);
    expect(nftMapElems('pub')).toContainEqual([{ elem: { val: { concat: ['tcp', 443] }, comment: 'https' } }, { concat: ['172.18.0.12', 8443] }]);
    expect(nftMapElems('pub')).toContainEqual([{ concat: ['udp', 5353] }, { concat: ['172.18.0.11', 53] }]);
    // By name only: the set's types are read first.
    await deleteElements({ family, table, name: 'pub' }, [{ key: ['tcp', 8080] }], { ns });
    expect((await listElements({ family, table, name: 'pub' }, { ns })).map((e) => e.key)).toEqual(expect.arrayContaining([['tcp', 443], ['udp', 5353]]));
    expect(await listElements(s, { ns })).toHaveLength(2);
    await expect(deleteElements(s, [{ key: ['tcp', 8080] }], { ns })).rejects.toMatchObject({ code: 'ENOENT', operation: 'deleteElements' });
    await deleteElements(s, [{ key: ['tcp', 8080] }], { ns, ifExists: true });
    // Adding what exists is fine, unless exclusive.
    await addElements(s, [{ key: ['tcp', 443], data: ['172.18.0.12', 8443] }], { ns });
    await expect(addElements(s, [{ key: ['tcp', 443], data: ['172.18.0.12', 8443] }], { ns, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('gets elements by key, with their data; a missing key is ENOENT', async () => {
    expect(await getElements({ family, table, name: 'pub' }, [['tcp', 443]], { ns })).toEqual([{ key: ['tcp', 443], data: ['172.18.0.12', 8443], comment: 'https' }]);
    const two = await getElements({ ...pub, key: [...pub.key], data: [...pub.data] }, [['tcp', 443], ['udp', 5353]], { ns });
    expect(two.sort(byKey).map((e) => e.data)).toEqual([['172.18.0.12', 8443], ['172.18.0.11', 53]]);
    await expect(getElements({ family, table, name: 'pub' }, [['tcp', 1]], { ns })).rejects.toMatchObject({ code: 'ENOENT', operation: 'getElements' });
  });

  it('reads elements nft added, typed', async () => {
    nft(ns, 'add', 'element', family, table, 'pub', '{ tcp . 22 : 10.0.0.22 . 2222 }');
    expect(await listElements({ family, table, name: 'pub' }, { ns })).toContainEqual({ key: ['tcp', 22], data: ['10.0.0.22', 2222] });
  });

  it('refuses badly typed elements before sending', async () => {
    await expect(addElements({ ...pub, key: [...pub.key], data: [...pub.data] }, [{ key: ['tcp', 70000], data: ['1.2.3.4', 1] }], { ns })).rejects.toThrow(/elements\[0\]\.key\[1\]/);
    await expect(addElements({ ...pub, key: [...pub.key], data: [...pub.data] }, [{ key: ['tcp', 1] }], { ns })).rejects.toThrow(/data is required/);
    await expect(addElements({ ...pub, key: [...pub.key], data: [...pub.data] }, [{ key: ['bogus', 1], data: ['1.2.3.4', 1] }], { ns })).rejects.toThrow(TypeError);
  });

  it('10,000 elements go in one transaction, one sendmsg', async () => {
    const big = { family, table, name: 'big', key: ['inet_proto', 'inet_service'] as ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] as ['ipv4_addr', 'inet_service'] };
    await addSet(big, { ns });
    const elements: SetElement[] = [];
    for (let i = 0; i < 10_000; i++) elements.push({ key: [i % 2 ? 'udp' : 'tcp', 1024 + (i >> 1)], data: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 5000 + (i % 1000)] });
    const before = native.stats().sendmsgs;
    await addElements(big, elements, { ns });
    expect(native.stats().sendmsgs - before).toBe(1);
    const got = await listElements(big, { ns });
    expect(got).toHaveLength(10_000);
    const want = new Map(elements.map((e) => [JSON.stringify(e.key), JSON.stringify(e.data)]));
    for (const e of got) expect(JSON.stringify(e.data)).toBe(want.get(JSON.stringify(e.key)));
    expect(nftMapElems('big')).toHaveLength(10_000);
    await flushSet(big, { ns });
    expect(await listElements(big, { ns })).toEqual([]);
    await deleteSet(big, { ns });
    await expect(getSet(big, { ns })).rejects.toMatchObject({ code: 'ENOENT', operation: 'getSet' });
  });
});

describe('interval sets', () => {
  const nets = { family, table, name: 'nets', key: 'ipv4_addr' as const, flags: ['interval' as const] };

  it('takes prefixes and ranges, lists them as ranges, deletes one', async () => {
    await addSet(nets, { ns });
    await addElements(nets, [{ key: '10.0.0.0/8' }, { key: '192.168.1.1', keyEnd: '192.168.1.9' }, { key: '172.16.0.1' }, { key: '240.0.0.0/4' }], { ns });
    expect(await listElements(nets, { ns })).toEqual([
      { key: '10.0.0.0', keyEnd: '10.255.255.255' },
      { key: '172.16.0.1' },
      { key: '192.168.1.1', keyEnd: '192.168.1.9' },
      { key: '240.0.0.0', keyEnd: '255.255.255.255' },
    ]);
    expect(nftElems('nets')).toEqual([
      { prefix: { addr: '10.0.0.0', len: 8 } },
      '172.16.0.1',
      { range: ['192.168.1.1', '192.168.1.9'] },
      { prefix: { addr: '240.0.0.0', len: 4 } },
    ]);
    await deleteElements(nets, [{ key: '192.168.1.1', keyEnd: '192.168.1.9' }], { ns });
    expect((await listElements(nets, { ns })).map((e) => e.key)).toEqual(['10.0.0.0', '172.16.0.1', '240.0.0.0']);
  });

  it('refuses overlapping ranges in one call; the kernel refuses overlaps with what is there', async () => {
    await expect(addElements(nets, [{ key: '10.1.0.0/16' }, { key: '10.1.2.0/24' }], { ns })).rejects.toThrow(/overlaps/);
    await expect(addElements(nets, [{ key: '10.1.0.0/16' }], { ns })).rejects.toMatchObject({ code: 'EEXIST', operation: 'addElements' });
  });

  it('IPv6 prefixes and single addresses', async () => {
    await addSet({ family, table, name: 'nets6', key: 'ipv6_addr', flags: ['interval'], elements: [{ key: 'fd00::/8' }, { key: '2001:db8::1' }] }, { ns });
    expect(await listElements({ family, table, name: 'nets6' }, { ns })).toEqual([{ key: '2001:db8::1' }, { key: 'fd00::', keyEnd: 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' }]);
  });

  it('concatenations with intervals (pipapo) keep key and key end', async () => {
    const pairs = { family, table, name: 'pairs', key: ['ipv4_addr', 'inet_service'] as ['ipv4_addr', 'inet_service'], flags: ['interval' as const] };
    await addSet(pairs, { ns });
    await addElements(pairs, [{ key: ['10.0.0.0/8', 80], keyEnd: ['10.255.255.255', 90] }, { key: ['192.168.0.1', 22] }], { ns });
    expect((await listElements(pairs, { ns })).sort(byKey)).toEqual([{ key: ['10.0.0.0', 80], keyEnd: ['10.255.255.255', 90] }, { key: ['192.168.0.1', 22] }]);
    expect(await getSet(pairs, { ns })).toMatchObject({ flags: ['interval', 'concat'] });
  });
});

describe('other kinds', () => {
  it('verdict maps, with a catch-all element', async () => {
    const tx = transaction()
      .addChain({ family, table, name: 'to' })
      .addSet({
        family,
        table,
        name: 'byif',
        key: 'ifname',
        data: 'verdict',
        elements: [{ key: 'eth0', data: { code: 'accept' } }, { key: 'veth1', data: { code: 'goto', chain: 'to' } }, { catchall: true, data: { code: 'drop' } }],
      });
    await tx.commit({ ns });
    const els = await listElements({ family, table, name: 'byif' }, { ns });
    expect(els).toEqual(
      expect.arrayContaining([{ key: 'eth0', data: { code: 'accept' } }, { key: 'veth1', data: { code: 'goto', chain: 'to' } }, { catchall: true, data: { code: 'drop' } }]),
    );
    expect(els).toHaveLength(3);
    expect(nftMapElems('byif')).toContainEqual(['*', { drop: null }]);
  });

  it('timeouts: per set and per element', async () => {
    await addSet({ family, table, name: 'seen', key: 'ipv4_addr', flags: ['timeout'], timeout: 3_600_000 }, { ns });
    await addElements({ family, table, name: 'seen', key: 'ipv4_addr', flags: ['timeout'] }, [{ key: '1.1.1.1' }, { key: '2.2.2.2', timeout: 60_000 }], { ns });
    const els = (await listElements({ family, table, name: 'seen' }, { ns })).sort(byKey);
    expect(els.map((e) => e.key)).toEqual(['1.1.1.1', '2.2.2.2']);
    expect(els[1].timeout).toBe(60_000);
    expect(els[1].expires).toBeGreaterThan(0);
    expect(els[1].expires).toBeLessThanOrEqual(60_000);
    expect(els[0].expires).toBeLessThanOrEqual(3_600_000);
  });

  it('marks (host-endian) print right in nft', async () => {
    await addSet({ family, table, name: 'marks', key: 'mark', elements: [{ key: 0x10 }, { key: 0xff00 }] }, { ns });
    expect(nftElems('marks').sort()).toEqual([16, 65280]);
  });

  it('a set in use cannot be deleted; listSets filters by table', async () => {
    await addRule({ family, table, chain: 'to', exprs: [ip.saddr.in('nets')] }, { ns });
    await expect(deleteSet({ family, table, name: 'nets' }, { ns })).rejects.toMatchObject({ code: 'EBUSY', operation: 'deleteSet' });
    nftScript(ns, 'table ip elsewhere {\n set x { type ipv4_addr; }\n}\n');
    expect((await listSets({ ns, table })).every((s) => s.table === table)).toBe(true);
    expect((await listSets({ ns, family: 'ip' })).map((s) => s.name)).toEqual(['x']);
  });
});
