// Routes against the real kernel, in throw-away namespaces: what netweave
// adds, the kernel and `ip -j route` report; what `ip route add` creates,
// netweave decodes the same — every table, both families.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress } from '../src/address.js';
import { NetlinkError } from '../src/errors.js';
import type { Namespace } from '../src/namespace.js';
import { native } from '../src/native.js';
import { addRoute, deleteRoute, getRoute, listRoutes, replaceRoute, type Route } from '../src/route.js';
import { ipJson, ipRun, NsScope, whileSteady } from './helpers.js';

const scope = new NsScope();
let ns: Namespace;
let v0: number;
let w0: number;
let names: Map<number, string>;

beforeAll(async () => {
  ns = await scope.create('route');
  ipRun(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ipRun(ns, 'link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1');
  for (const l of ['v0', 'v1', 'w0', 'w1']) ipRun(ns, 'link', 'set', l, 'up');
  await addAddress('v0', '10.0.0.1/24', { ns });
  await addAddress('w0', '10.0.1.1/24', { ns });
  await addAddress('v0', 'fd00::1/64', { ns, nodad: true });
  names = new Map((ipJson(ns, 'link', 'show') as { ifindex: number; ifname: string }[]).map((l) => [l.ifindex, l.ifname]));
  const index = (name: string) => [...names].find(([, n]) => n === name)![0];
  v0 = index('v0');
  w0 = index('w0');
});
afterAll(() => scope.cleanup());

const TABLE_NAMES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };
const PREF: Record<number, string> = { 0: 'medium', 1: 'high', 3: 'low' };
const NH_FLAGS = ['dead', 'pervasive', 'onlink', 'offload', 'linkdown', 'unresolved', 'trap'];

/** The fields `ip -j -d route` prints, computed from a netweave Route. */
function asIp(r: Route): Record<string, unknown> {
  const hostLen = r.family === 'inet' ? '/32' : '/128';
  const gw = r.gateway;
  const crossFamily = gw !== undefined && gw.includes(':') !== (r.family === 'inet6');
  return {
    type: r.type,
    dst: r.dst.endsWith(hostLen) ? r.dst.slice(0, -hostLen.length) : r.dst,
    gateway: crossFamily ? undefined : gw,
    via: crossFamily ? { family: 'inet6', host: gw } : undefined,
    dev: r.dev === undefined ? undefined : names.get(r.dev),
    table: TABLE_NAMES[r.table] ?? String(r.table),
    protocol: String(r.protocol),
    scope: r.scope,
    metric: r.metric,
    prefsrc: r.src,
    flags: r.flags.filter((f) => NH_FLAGS.includes(f)),
    pref: r.pref === undefined ? undefined : PREF[r.pref],
    // ip's JSON leaves out RTAX_LOCK (its text says "mtu lock 1300"): compared separately.
    metrics: r.metrics === undefined ? undefined : Object.fromEntries(Object.entries(r.metrics).filter(([k]) => k !== 'unknown' && k !== 'lock')),
    nexthops: r.nexthops?.map((nh) => ({ gateway: nh.gateway, dev: names.get(nh.dev), weight: nh.weight, flags: nh.flags })),
  };
}

/** `shown`: the table ip was asked for; it leaves "table" out then, except with "all". */
function fromIp(x: Record<string, any>, shown: string): Record<string, unknown> {
  return {
    type: x.type,
    dst: x.dst,
    gateway: x.gateway,
    via: x.via,
    dev: x.dev,
    table: x.table ?? shown,
    protocol: x.protocol,
    scope: x.scope,
    metric: x.metric,
    prefsrc: x.prefsrc,
    flags: x.flags,
    pref: x.pref,
    metrics: x.metrics === undefined ? undefined : Object.assign({}, ...x.metrics),
    nexthops: x.nexthops?.map((nh: any) => ({ gateway: nh.gateway, dev: nh.dev, weight: nh.weight, flags: nh.flags })),
  };
}

const sortKey = (x: Record<string, unknown>) => `${x.table} ${x.type} ${x.dst} ${x.dev} ${x.metric} ${x.gateway}`;
const sorted = <T extends Record<string, unknown>>(xs: T[]) => xs.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));

/** `ip -6 route show table N`; ip fails where the IPv6 table was never created, which is an empty table. */
function ip6Routes(table: string): Record<string, any>[] {
  try {
    const out = execFileSync('ip', ['-n', ns.name!, '-j', '-d', '-6', 'route', 'show', 'table', table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim() ? JSON.parse(out) : [];
  } catch (e) {
    if (/FIB table does not exist/.test(String((e as { stderr?: string }).stderr))) return [];
    throw e;
  }
}

/** Cross-check one table (or all) in both families: netweave's decode against ip's. */
async function crossCheck(table: 'all' | number | 'main' | 'local'): Promise<Route[]> {
  const shown = typeof table === 'number' ? String(table) : table;
  const { ours, oracle } = await whileSteady(
    () => listRoutes({ ns, table }),
    () => {
      const theirs = ipJson(ns, 'route', 'show', 'table', String(table)) as Record<string, any>[];
      // `ip route` without -6 lists IPv4 only unless the table is "all".
      const all = table === 'all' ? theirs : [...theirs, ...ip6Routes(String(table))];
      return sorted(all.map((x) => fromIp(x, shown)));
    },
  );
  expect(sorted(ours.map(asIp))).toEqual(oracle);
  return ours;
}

describe('addRoute / listRoutes', () => {
  it('adds a route via a gateway in main; the kernel and ip report it', async () => {
    await addRoute({ ns, dst: '10.1.0.0/16', gateway: '10.0.0.2' });
    const ours = await crossCheck('main');
    expect(ours.find((r) => r.dst === '10.1.0.0/16')).toEqual({
      family: 'inet',
      dst: '10.1.0.0/16',
      tos: 0,
      table: 254,
      protocol: 'boot',
      scope: 'global',
      type: 'unicast',
      flags: [],
      rawFlags: 0,
      gateway: '10.0.0.2',
      dev: v0,
    });
  });

  it('adds default routes in main and in a table above 255 (RTA_TABLE)', async () => {
    await addRoute({ ns, dst: 'default', gateway: '10.0.0.2', metric: 100 });
    await addRoute({ ns, dst: 'default', gateway: '10.0.1.2', table: 1000, protocol: 'static' });
    await addRoute({ ns, dst: '10.2.0.0/16', dev: 'w0', table: 1000, src: '10.0.1.1' });
    const t1000 = await crossCheck(1000);
    expect(t1000.map((r) => r.dst).sort()).toEqual(['10.2.0.0/16', 'default']);
    expect(t1000.find((r) => r.dst === 'default')).toMatchObject({ table: 1000, protocol: 'static', gateway: '10.0.1.2' });
    expect(t1000.find((r) => r.dst === '10.2.0.0/16')).toMatchObject({ scope: 'link', src: '10.0.1.1' });
    expect((await listRoutes({ ns })).find((r) => r.dst === 'default')).toMatchObject({ table: 254, metric: 100 });
  });

  it('adds IPv6 routes with a metric and RTAX metrics', async () => {
    await addRoute({ ns, dst: 'fd01::/64', gateway: 'fd00::2', metric: 42, metrics: { mtu: 1400, advmss: 1300 } });
    await addRoute({ ns, dst: 'default', gateway: 'fd00::2', dev: 'v0' });
    const ours = await crossCheck('main');
    expect(ours.find((r) => r.dst === 'fd01::/64')).toMatchObject({ family: 'inet6', gateway: 'fd00::2', dev: v0, metric: 42, metrics: { mtu: 1400, advmss: 1300 } });
    expect(ours.find((r) => r.family === 'inet6' && r.dst === 'default')).toMatchObject({ gateway: 'fd00::2', metric: 1024 });
  });

  it('adds multipath routes (IPv4 and IPv6) with weights', async () => {
    await addRoute({ ns, dst: '10.3.0.0/16', nexthops: [{ gateway: '10.0.0.2', weight: 1 }, { gateway: '10.0.1.2', dev: 'w0', weight: 3 }] });
    await addRoute({ ns, dst: 'fd03::/64', nexthops: [{ gateway: 'fd00::2', dev: 'v0' }, { gateway: 'fd00::3', dev: 'v0', weight: 2 }] });
    const ours = await crossCheck('main');
    expect(ours.find((r) => r.dst === '10.3.0.0/16')!.nexthops).toEqual([
      { gateway: '10.0.0.2', dev: v0, weight: 1, flags: [] },
      { gateway: '10.0.1.2', dev: w0, weight: 3, flags: [] },
    ]);
    expect(ours.find((r) => r.dst === 'fd03::/64')!.nexthops!.map((nh) => [nh.gateway, nh.weight])).toEqual([
      ['fd00::2', 1],
      ['fd00::3', 2],
    ]);
  });

  it('adds on-link gateways, blackhole/unreachable/prohibit/throw types and an IPv6 gateway for IPv4 (RTA_VIA)', async () => {
    await addRoute({ ns, dst: '192.168.5.0/24', gateway: '192.168.99.1', dev: 'v0', onlink: true });
    await addRoute({ ns, dst: '10.6.0.0/16', type: 'blackhole' });
    await addRoute({ ns, dst: '10.7.0.0/16', type: 'unreachable', table: 300 });
    await addRoute({ ns, dst: '10.8.0.0/16', type: 'prohibit', table: 300 });
    await addRoute({ ns, dst: '10.9.0.0/16', type: 'throw', table: 300 });
    await addRoute({ ns, dst: '10.10.0.0/16', gateway: 'fe80::1', dev: v0 });
    const ours = await crossCheck('all');
    expect(ours.find((r) => r.dst === '192.168.5.0/24')!.flags).toEqual(['onlink']);
    expect(ours.filter((r) => r.table === 300).map((r) => r.type).sort()).toEqual(['prohibit', 'throw', 'unreachable']);
    expect(ours.find((r) => r.dst === '10.10.0.0/16')).toMatchObject({ family: 'inet', gateway: 'fe80::1', dev: v0 });
  });

  it('decodes what `ip route add` created the same way ip prints it', async () => {
    ipRun(ns, 'route', 'add', '10.20.0.0/16', 'via', '10.0.0.3', 'proto', 'static', 'metric', '7', 'table', '2000');
    ipRun(ns, 'route', 'add', '10.21.0.0/16', 'dev', 'w0', 'src', '10.0.1.1', 'scope', 'link', 'proto', '99');
    ipRun(ns, 'route', 'add', '10.22.0.0/16', 'nexthop', 'via', '10.0.0.2', 'weight', '2', 'nexthop', 'dev', 'w0');
    ipRun(ns, 'route', 'add', 'unreachable', '10.23.0.0/16', 'metric', '9');
    ipRun(ns, 'route', 'add', '10.24.0.0/16', 'via', 'inet6', 'fe80::9', 'dev', 'v0', 'table', '2000');
    ipRun(ns, '-6', 'route', 'add', 'fd20::/64', 'via', 'fd00::9', 'mtu', '1280', 'hoplimit', '9', 'pref', 'high');
    ipRun(ns, 'route', 'add', '10.25.0.0/16', 'via', '10.0.0.9', 'mtu', 'lock', '1300', 'initcwnd', '20');
    const ours = await crossCheck('all');
    expect(ours.find((r) => r.dst === '10.20.0.0/16')).toMatchObject({ table: 2000, protocol: 'static', metric: 7 });
    expect(ours.find((r) => r.dst === '10.21.0.0/16')!.protocol).toBe('openr');
    expect(ours.find((r) => r.dst === 'fd20::/64')).toMatchObject({ pref: 1, metrics: { mtu: 1280, hoplimit: 9 } });
    expect(ours.find((r) => r.dst === '10.25.0.0/16')!.metrics).toEqual({ lock: 1 << 2, mtu: 1300, initcwnd: 20 }); // lock bit 1 << RTAX_MTU
    expect(ipRun(ns, 'route', 'show', '10.25.0.0/16')).toMatch(/mtu lock 1300 initcwnd 20/);
  });

  it('filters by table, family, dev, protocol and type', async () => {
    expect(await listRoutes({ ns, table: 4242 })).toEqual([]);
    expect(await listRoutes({ ns, table: 4242, family: 'inet' })).toEqual([]);
    const local = await listRoutes({ ns, table: 'local', family: 'inet' });
    expect(local.length).toBeGreaterThan(0);
    expect(local.every((r) => r.table === 255 && r.family === 'inet')).toBe(true);
    const viaW0 = await listRoutes({ ns, table: 'all', dev: 'w0' });
    expect(viaW0.length).toBeGreaterThan(0);
    // A multipath route matches when one of its next hops leaves through the device.
    expect(viaW0.every((r) => r.dev === w0 || r.nexthops?.some((nh) => nh.dev === w0))).toBe(true);
    expect(viaW0.map((r) => r.dst).sort()).toEqual(
      (await listRoutes({ ns, table: 'all' })).filter((r) => r.dev === w0 || r.nexthops?.some((nh) => nh.dev === w0)).map((r) => r.dst).sort(),
    );
    const statics = await listRoutes({ ns, table: 'all', protocol: 'static' });
    expect(statics.map((r) => r.dst).sort()).toEqual(['10.20.0.0/16', 'default']);
    const holes = await listRoutes({ ns, table: 'all', type: 'blackhole' });
    expect(holes.map((r) => r.dst)).toEqual(['10.6.0.0/16']);
    expect((await listRoutes({ ns, family: 'inet6' })).every((r) => r.family === 'inet6')).toBe(true);
  });
});

describe('replaceRoute / deleteRoute / getRoute', () => {
  it('replaceRoute changes the gateway of an existing route and creates a missing one', async () => {
    await replaceRoute({ ns, dst: '10.1.0.0/16', gateway: '10.0.0.5' });
    await replaceRoute({ ns, dst: '10.30.0.0/16', gateway: '10.0.0.5' });
    const ours = await crossCheck('main');
    expect(ours.filter((r) => r.dst === '10.1.0.0/16').map((r) => r.gateway)).toEqual(['10.0.0.5']);
    expect(ours.find((r) => r.dst === '10.30.0.0/16')?.gateway).toBe('10.0.0.5');
  });

  it('deleteRoute removes exactly a listed Route, or the first match of a partial spec', async () => {
    await addRoute({ ns, dst: '10.31.0.0/16', gateway: '10.0.0.2', metric: 10 });
    await addRoute({ ns, dst: '10.31.0.0/16', gateway: '10.0.1.2', metric: 20 });
    const pair = (await listRoutes({ ns })).filter((r) => r.dst === '10.31.0.0/16');
    expect(pair).toHaveLength(2);
    await deleteRoute({ ...pair.find((r) => r.metric === 20)!, ns });
    expect((await listRoutes({ ns })).filter((r) => r.dst === '10.31.0.0/16').map((r) => r.metric)).toEqual([10]);
    await deleteRoute({ ns, dst: '10.31.0.0/16' });
    expect((await listRoutes({ ns })).some((r) => r.dst === '10.31.0.0/16')).toBe(false);
    // Everything in table 1000 and 300, removed from what listRoutes returned.
    for (const r of [...(await listRoutes({ ns, table: 1000 })), ...(await listRoutes({ ns, table: 300 }))]) await deleteRoute({ ...r, ns });
    expect(ipJson(ns, 'route', 'show', 'table', '1000')).toEqual([]);
    expect(ipJson(ns, 'route', 'show', 'table', '300')).toEqual([]);
    await crossCheck('all');
  });

  it('deletes IPv6 and multipath routes and routes ip made', async () => {
    const listed = await listRoutes({ ns });
    // Listed Routes as they are: a multipath one (next hops and all), an IPv6 one with metrics, preference and cacheinfo.
    for (const dst of ['10.3.0.0/16', 'fd01::/64']) await deleteRoute({ ...listed.find((r) => r.dst === dst)!, ns });
    for (const dst of ['fd03::/64', '10.22.0.0/16']) await deleteRoute({ ns, dst });
    await deleteRoute({ ns, dst: '10.20.0.0/16', table: 2000 });
    const left = (await listRoutes({ ns, table: 'all' })).map((r) => r.dst);
    for (const dst of ['fd01::/64', 'fd03::/64', '10.3.0.0/16', '10.22.0.0/16', '10.20.0.0/16']) expect(left).not.toContain(dst);
    await crossCheck('all');
  });

  it('getRoute answers like `ip route get`', async () => {
    for (const dst of ['10.1.2.3', '10.0.0.7', '8.8.8.8', 'fd00::7']) {
      const ours = await getRoute(dst, { ns });
      const [theirs] = ipJson(ns, 'route', 'get', dst) as Record<string, any>[];
      expect({ dst: ours.dst.split('/')[0], gateway: ours.gateway, dev: names.get(ours.dev!), prefsrc: ours.src }).toEqual({
        dst: theirs.dst,
        gateway: theirs.gateway,
        dev: theirs.dev,
        prefsrc: theirs.prefsrc,
      });
    }
    expect((await getRoute('10.0.1.9', { ns, dev: 'w0' })).dev).toBe(w0);
    const fromW0 = await getRoute('10.1.2.3', { ns, from: '10.0.1.1' });
    expect(fromW0.from).toBe('10.0.1.1/32');
    expect(ipJson(ns, 'route', 'get', '10.1.2.3', 'from', '10.0.1.1')[0].from).toBe('10.0.1.1');
  });
});

describe('errors', () => {
  it('EEXIST, ESRCH, ENETUNREACH and ENODEV carry the function and the route', async () => {
    const dup = await addRoute({ ns, dst: '10.1.0.0/16', gateway: '10.0.0.2' }).catch((e) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', operation: 'addRoute', subject: '10.1.0.0/16 via 10.0.0.2' });
    const gone = await deleteRoute({ ns, dst: '10.99.0.0/16', table: 1234 }).catch((e) => e);
    expect(gone).toMatchObject({ code: 'ESRCH', operation: 'deleteRoute', subject: '10.99.0.0/16 table 1234' });
    const far = await addRoute({ ns, dst: '10.98.0.0/16', gateway: '172.31.0.1' }).catch((e) => e);
    expect(far).toMatchObject({ code: 'ENETUNREACH', operation: 'addRoute' });
    const nodev = await addRoute({ ns, dst: '10.97.0.0/16', dev: 'nope0' }).catch((e) => e);
    expect(nodev).toMatchObject({ code: 'ENODEV', operation: 'addRoute', subject: 'nope0' });
    const nodev2 = await listRoutes({ ns, dev: 'nope0' }).catch((e) => e);
    expect(nodev2).toMatchObject({ code: 'ENODEV', operation: 'listRoutes', subject: 'nope0' });
  });

  it('rejects bad routes before sending anything', async () => {
    const before = native.stats().requests;
    await expect(addRoute({ ns, dst: '10.1.2.3/16' })).rejects.toThrow(RangeError);
    await expect(addRoute({ ns, dst: 'fd00::/64', gateway: '10.0.0.1' })).rejects.toThrow(TypeError);
    await expect(addRoute({ ns, dst: '10.1.0.0/16', dev: 'bad/name' })).rejects.toThrow(/dev/);
    await expect(addRoute({ ns, dst: '10.1.0.0/16', metric: -1 })).rejects.toThrow(/metric/);
    await expect(addRoute({ ns, dst: '10.1.0.0/16', via: '10.0.0.1' } as never)).rejects.toThrow(/unknown option "via"/);
    await expect(listRoutes({ ns, table: 'everything' as never })).rejects.toThrow(/table/);
    await expect(getRoute('10.0.0.1/24', { ns })).rejects.toThrow(/dst/);
    expect(native.stats().requests).toBe(before);
  });
});

describe('pipelining', () => {
  it('300 route adds in flight all land, then 300 deletes', async () => {
    const dsts = Array.from({ length: 300 }, (_, i) => `10.200.${i >> 8}.${i & 255}/32`);
    await Promise.all(dsts.map((dst) => addRoute({ ns, dst, gateway: '10.0.0.2', table: 500 })));
    expect((await listRoutes({ ns, table: 500 })).map((r) => r.dst).sort()).toEqual([...dsts].sort());
    expect(ipJson(ns, 'route', 'show', 'table', '500')).toHaveLength(300);
    await Promise.all(dsts.map((dst) => deleteRoute({ ns, dst, table: 500 })));
    expect(await listRoutes({ ns, table: 500 })).toEqual([]);
  });

  it('lists a table larger than a streamed part (6,000 routes, ~0.6 MB of dump) completely and once each, like ip', async () => {
    const n = 6000;
    const dst = (i: number) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    execFileSync('ip', ['-n', ns.name!, '-batch', '-'], { input: Array.from({ length: n }, (_, i) => `route add ${dst(i)}/32 via 10.0.0.2 table 600`).join('\n') });
    const before = native.stats().requests;
    const routes = await listRoutes({ ns, table: 600 });
    expect(native.stats().requests - before).toBe(1);
    const got = routes.map((r) => r.dst);
    expect(new Set(got).size).toBe(n);
    expect(new Set(got)).toEqual(new Set(Array.from({ length: n }, (_, i) => `${dst(i)}/32`)));
    expect(ipJson(ns, 'route', 'show', 'table', '600')).toHaveLength(n);
    ipRun(ns, 'route', 'flush', 'table', '600');
  });
});
