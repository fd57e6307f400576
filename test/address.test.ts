// Addresses against the real kernel, in throw-away namespaces: what
// netweave adds, the kernel and `ip -j addr` report; what `ip addr add`
// creates, netweave decodes the same; errors carry the kernel's code, the
// function and the subject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress, deleteAddress, listAddresses, replaceAddress, type Address } from '../src/address.js';
import { PIPELINE_CHUNK } from '../src/pipeline.js';
import { NetlinkError } from '../src/errors.js';
import { getLink } from '../src/link.js';
import type { Namespace } from '../src/namespace.js';
import { native } from '../src/native.js';
import { listRoutes } from '../src/route.js';
import { watch } from '../src/events.js';
import { ipJson, ipRun, NsScope, whileSteady } from './helpers.js';

const scope = new NsScope();
let ns: Namespace;
let v0: number;
let v1: number;

beforeAll(async () => {
  ns = await scope.create('addr');
  ipRun(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ipRun(ns, 'link', 'set', 'v0', 'up');
  ipRun(ns, 'link', 'set', 'v1', 'up');
  v0 = ipJson(ns, 'link', 'show', 'v0')[0].ifindex;
  v1 = ipJson(ns, 'link', 'show', 'v1')[0].ifindex;
});
afterAll(() => scope.cleanup());

const FOREVER = 4294967295;

/** The fields `ip -j addr` prints, computed from a netweave Address. */
function asIp(a: Address): Record<string, unknown> {
  const flags = (a.flags as string[])
    .filter((f) => f !== 'permanent')
    .map((f) => (f === 'secondary' && a.family === 'inet6' ? 'temporary' : f))
    .concat(a.flags.includes('permanent') ? [] : ['dynamic'])
    .sort();
  return {
    family: a.family,
    local: a.address,
    peer: a.peer,
    prefixlen: a.prefix,
    broadcast: a.broadcast,
    scope: a.scope,
    label: a.label,
    metric: a.metric,
    flags,
    forever: a.validLifetime === Infinity,
  };
}

const IP_FLAGS = ['secondary', 'temporary', 'nodad', 'optimistic', 'dadfailed', 'homeaddress', 'deprecated', 'tentative', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'stable-privacy', 'dynamic'];

/** The same fields from an `ip -j addr` addr_info entry. */
function fromIp(ai: Record<string, any>): Record<string, unknown> {
  return {
    family: ai.family,
    local: ai.local,
    peer: ai.address,
    prefixlen: ai.prefixlen,
    broadcast: ai.broadcast,
    scope: ai.scope,
    label: ai.label,
    metric: ai.metric,
    flags: IP_FLAGS.filter((f) => ai[f] === true).sort(),
    forever: ai.valid_life_time === FOREVER,
  };
}

const key = (x: Record<string, unknown>) => `${x.family} ${x.local}/${x.prefixlen}`;
const byKey = <T extends Record<string, unknown>>(xs: T[]) => xs.sort((a, b) => key(a).localeCompare(key(b)));

/** Cross-check: every address of the link, as netweave decodes it and as ip reports it. */
async function crossCheck(dev: string, index: number): Promise<Address[]> {
  const { ours, oracle } = await whileSteady(
    () => listAddresses({ ns, link: index }),
    () => byKey((ipJson(ns, 'addr', 'show', 'dev', dev)[0].addr_info as Record<string, any>[]).map(fromIp)),
  );
  expect(byKey(ours.map(asIp))).toEqual(oracle);
  return ours;
}

describe('addAddress / listAddresses', () => {
  it('adds an IPv4 address with the default broadcast; the kernel and ip report it', async () => {
    await addAddress('v0', '10.0.0.1/24', { ns });
    const ours = await crossCheck('v0', v0);
    const a = ours.find((x) => x.cidr === '10.0.0.1/24')!;
    expect(a).toMatchObject({ family: 'inet', ifindex: v0, broadcast: '10.0.0.255', scope: 'global', label: 'v0', flags: ['permanent'] });
    expect(a.validLifetime).toBe(Infinity);
    // The kernel added the prefix route and the local/broadcast routes for it.
    const routes = await listRoutes({ ns, table: 'all', family: 'inet' });
    expect(routes.find((r) => r.dst === '10.0.0.0/24')).toMatchObject({ dev: v0, protocol: 'kernel', scope: 'link', src: '10.0.0.1' });
    expect(routes.find((r) => r.dst === '10.0.0.255/32')).toMatchObject({ type: 'broadcast', table: 255 });
  });

  it('decodes what `ip addr add` created the same way ip prints it', async () => {
    ipRun(ns, 'addr', 'add', '10.0.1.1/24', 'brd', '+', 'dev', 'v0', 'label', 'v0:x');
    ipRun(ns, 'addr', 'add', '10.9.0.1', 'peer', '10.9.0.2/32', 'dev', 'v0');
    ipRun(ns, 'addr', 'add', '10.0.1.5/24', 'dev', 'v0', 'valid_lft', '100', 'preferred_lft', '50', 'metric', '7');
    ipRun(ns, 'addr', 'add', 'fd00:1::1/64', 'dev', 'v0', 'nodad', 'noprefixroute');
    const ours = await crossCheck('v0', v0);
    expect(ours.find((a) => a.address === '10.0.1.1')).toMatchObject({ label: 'v0:x', broadcast: '10.0.1.255' });
    expect(ours.find((a) => a.address === '10.9.0.1')).toMatchObject({ peer: '10.9.0.2', prefix: 32 });
    const dyn = ours.find((a) => a.address === '10.0.1.5')!;
    expect(dyn.flags).toEqual(['secondary']);
    expect(dyn.metric).toBe(7);
    expect(dyn.validLifetime).toBeLessThanOrEqual(100);
    expect(dyn.preferredLifetime).toBeLessThanOrEqual(50);
    expect(ours.find((a) => a.address === 'fd00:1::1')!.flags).toEqual(['nodad', 'permanent', 'noprefixroute']);
  });

  it('adds IPv6 (nodad: usable at once), a peer, a label, noPrefixRoute, a metric and lifetimes', async () => {
    await addAddress(v0, 'fd00:2::1/64', { ns, nodad: true });
    await addAddress('v0', '10.9.1.1/32', { ns, peer: '10.9.1.2' });
    await addAddress('v0', '10.0.2.1/24', { ns, label: 'v0:web', noPrefixRoute: true });
    await addAddress('v0', '10.0.3.1/24', { ns, metric: 300, validLifetime: 600, preferredLifetime: 300 });
    const ours = await crossCheck('v0', v0);
    expect(ours.find((a) => a.address === 'fd00:2::1')).toMatchObject({ scope: 'global', flags: ['nodad', 'permanent'] });
    expect(ours.find((a) => a.address === '10.9.1.1')).toMatchObject({ peer: '10.9.1.2', prefix: 32 });
    expect(ours.find((a) => a.address === '10.9.1.1')!.broadcast).toBeUndefined();
    expect(ours.find((a) => a.address === '10.0.2.1')).toMatchObject({ label: 'v0:web', flags: ['permanent', 'noprefixroute'] });
    const timed = ours.find((a) => a.address === '10.0.3.1')!;
    expect(timed.flags).not.toContain('permanent');
    expect(timed.validLifetime).toBeLessThanOrEqual(600);
    const routes = await listRoutes({ ns, family: 'inet' });
    expect(routes.some((r) => r.dst === '10.0.2.0/24')).toBe(false); // noPrefixRoute
    expect(routes.find((r) => r.dst === '10.0.3.0/24')?.metric).toBe(300);
  });

  it('loopback addresses get host scope by default, as with ip', async () => {
    await addAddress('lo', '127.0.0.53/8', { ns });
    const a = (await listAddresses({ ns, link: 'lo', family: 'inet' })).find((x) => x.address === '127.0.0.53')!;
    expect(a.scope).toBe('host');
    await crossCheck('lo', 1);
  });

  it('an IPv6 address without nodad is tentative until DAD finishes: wait for its event', async () => {
    const w = await watch({ ns, addresses: true, family: 'inet6' });
    try {
      await addAddress('v0', 'fd00:3::1/64', { ns });
      const first = (await listAddresses({ ns, link: 'v0', family: 'inet6' })).find((a) => a.address === 'fd00:3::1')!;
      expect(first.flags).toContain('tentative');
      for await (const ev of w) {
        if (ev.type === 'address' && ev.address.address === 'fd00:3::1' && !ev.address.flags.includes('tentative')) break;
      }
      const done = (await listAddresses({ ns, link: 'v0', family: 'inet6' })).find((a) => a.address === 'fd00:3::1')!;
      expect(done.flags).toEqual(['permanent']);
    } finally {
      w.close();
    }
  });

  it('filters by link and family', async () => {
    await addAddress('v1', '10.0.0.2/24', { ns });
    const onV1 = await listAddresses({ ns, link: 'v1' });
    expect(onV1.every((a) => a.ifindex === v1)).toBe(true);
    expect(onV1.map((a) => a.cidr)).toContain('10.0.0.2/24');
    const v6 = await listAddresses({ ns, family: 'inet6' });
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every((a) => a.family === 'inet6')).toBe(true);
    const all = await listAddresses({ ns });
    expect(new Set(all.map((a) => a.ifindex))).toEqual(new Set([1, v0, v1]));
  });

  it('accepts a Link read with getLink, acting in its namespace', async () => {
    const link = await getLink('v1', { ns });
    await addAddress(link, '10.0.4.2/24');
    expect((await listAddresses({ ns, link: v1 })).map((a) => a.cidr)).toContain('10.0.4.2/24');
    await deleteAddress(link, '10.0.4.2/24');
    expect((await listAddresses({ ns, link: v1 })).map((a) => a.cidr)).not.toContain('10.0.4.2/24');
  });
});

describe('replaceAddress / deleteAddress', () => {
  it('replace updates an existing address in place', async () => {
    await addAddress('v1', '10.0.5.2/24', { ns });
    await replaceAddress('v1', '10.0.5.2/24', { ns, validLifetime: 900, preferredLifetime: 800 });
    const a = (await listAddresses({ ns, link: 'v1' })).find((x) => x.cidr === '10.0.5.2/24')!;
    expect(a.flags).not.toContain('permanent');
    expect(a.validLifetime).toBeLessThanOrEqual(900);
    await crossCheck('v1', v1);
  });

  it('deletes IPv4 and IPv6 addresses; a bare IPv4 address matches any prefix', async () => {
    await addAddress('v1', '10.0.6.2/24', { ns });
    await addAddress('v1', 'fd00:6::2/64', { ns, nodad: true });
    await deleteAddress('v1', 'fd00:6::2/64', { ns });
    await deleteAddress('v1', '10.0.6.2', { ns });
    const left = await listAddresses({ ns, link: 'v1' });
    expect(left.map((a) => a.address)).not.toContain('10.0.6.2');
    expect(left.map((a) => a.address)).not.toContain('fd00:6::2');
    expect(JSON.stringify(ipJson(ns, 'addr', 'show', 'dev', 'v1'))).not.toMatch(/10\.0\.6\.2|fd00:6::2/);
  });

  it('deletes an address ip added, and one with a peer', async () => {
    ipRun(ns, 'addr', 'add', '10.0.7.2/24', 'dev', 'v1');
    await deleteAddress('v1', '10.0.7.2/24', { ns });
    await addAddress('v1', '10.9.7.1/32', { ns, peer: '10.9.7.2' });
    await deleteAddress('v1', '10.9.7.1/32', { ns, peer: '10.9.7.2' });
    expect((await listAddresses({ ns, link: 'v1' })).map((a) => a.address)).not.toContain('10.9.7.1');
    expect(JSON.stringify(ipJson(ns, 'addr', 'show', 'dev', 'v1'))).not.toMatch(/10\.0\.7\.2|10\.9\.7\.1/);
  });
});

describe('errors', () => {
  it('EEXIST for a duplicate, EADDRNOTAVAIL for a missing one, naming function and subject', async () => {
    await addAddress('v1', '10.0.8.2/24', { ns });
    const dup = await addAddress('v1', '10.0.8.2/24', { ns }).catch((e) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', operation: 'addAddress', subject: '10.0.8.2/24 dev v1' });
    const missing = await deleteAddress('v1', '10.0.9.9/24', { ns }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'EADDRNOTAVAIL', operation: 'deleteAddress', subject: '10.0.9.9/24 dev v1' });
  });

  it('ENODEV naming a missing interface, from addAddress, deleteAddress and listAddresses', async () => {
    const calls: [string, Promise<unknown>][] = [
      ['addAddress', addAddress('nope0', '10.0.0.9/24', { ns })],
      ['deleteAddress', deleteAddress('nope0', '10.0.0.9/24', { ns })],
      ['listAddresses', listAddresses({ ns, link: 'nope0' })],
    ];
    for (const [operation, p] of calls) {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e).toMatchObject({ code: 'ENODEV', operation, subject: 'nope0' });
    }
    const byIndex = await listAddresses({ ns, link: 9999 }).catch((e) => e);
    expect(byIndex).toMatchObject({ code: 'ENODEV', operation: 'listAddresses' });
  });

  it('rejects bad arguments before sending anything', async () => {
    const before = native.stats().requests;
    await expect(addAddress('v0', '10.0.0.256/24', { ns })).rejects.toThrow(TypeError);
    await expect(addAddress('v0', '10.0.0.1/40', { ns })).rejects.toThrow(RangeError);
    await expect(addAddress('bad name', '10.0.0.1/24', { ns })).rejects.toThrow(/link/);
    await expect(addAddress('v0', '10.0.0.1/24', { ns, lable: 'x' } as never)).rejects.toThrow(/unknown option "lable"/);
    await expect(deleteAddress('v0', 'fd00::1', { ns })).rejects.toThrow(/prefix/);
    await expect(listAddresses({ ns, family: 'ipx' as never })).rejects.toThrow(/family/);
    expect(native.stats().requests).toBe(before);
  });
});

describe('pipelining', () => {
  it('500 adds in flight naming one interface: one lookup, messages coalesced into few requests, all land', async () => {
    ipRun(ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
    const n = 500;
    const addrs = Array.from({ length: n }, (_, i) => `10.50.${(i + 1) >> 8}.${(i + 1) & 255}/32`);
    const before = native.stats().requests;
    await Promise.all(addrs.map((a) => addAddress('p0', a, { ns })));
    // One RTM_GETLINK for "p0", then the n RTM_NEWADDR in request buffers of PIPELINE_CHUNK messages.
    expect(native.stats().requests - before).toBe(1 + Math.ceil(n / PIPELINE_CHUNK));
    const got = (await listAddresses({ ns, link: 'p0', family: 'inet' })).map((a) => a.cidr);
    expect(new Set(got)).toEqual(new Set(addrs));
    expect(ipJson(ns, 'addr', 'show', 'dev', 'p0')[0].addr_info.filter((a: any) => a.family === 'inet')).toHaveLength(n);
  });

  it('a list issued in the same run as changes sees them (requests leave in call order)', async () => {
    const [, , list] = await Promise.all([
      addAddress('p0', '10.70.0.1/32', { ns }),
      addAddress('p0', '10.70.0.2/32', { ns }),
      listAddresses({ ns, link: 'p0', family: 'inet' }),
    ]);
    expect(list.map((a) => a.cidr)).toEqual(expect.arrayContaining(['10.70.0.1/32', '10.70.0.2/32']));
  });

  it('100,000 failures in one run are each reported, none lost to a receive-buffer overrun', async () => {
    // Every failed message is answered with an error message. Unthrottled, the engine packs up to
    // 1 MiB of requests (26,000 deletes) into one sendmsg, their errors overflow the socket's
    // 8 MiB receive buffer before it can read, and about half the calls fail with ENOBUFS.
    ipRun(ns, 'link', 'add', 'q0', 'type', 'veth', 'peer', 'name', 'q1');
    const addrs = Array.from({ length: 100_000 }, (_, i) => `10.${80 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const results = await Promise.allSettled(addrs.map((a) => deleteAddress('q0', a, { ns })));
    const codes = new Set(results.map((r) => (r.status === 'rejected' ? (r.reason as NetlinkError).code : 'ok')));
    expect(codes).toEqual(new Set(['EADDRNOTAVAIL']));
    results.forEach((r, i) => expect((r as PromiseRejectedResult).reason.subject).toBe(`${addrs[i]} dev q0`));
  });

  it('an error in the middle of a burst fails only that call', async () => {
    const results = await Promise.allSettled(['10.60.0.1/32', '10.60.0.1/32', '10.60.0.2/32'].map((a) => addAddress('p0', a, { ns })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'EEXIST', subject: '10.60.0.1/32 dev p0' });
  });
});
