// Neighbours (ARP/NDP) and bridge FDB entries against the real kernel, in
// throw-away namespaces, cross-checked with `ip -j neigh` and
// `bridge -j fdb` in both directions.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../src/errors.js';
import type { Namespace } from '../src/namespace.js';
import { native } from '../src/native.js';
import {
  addFdb,
  addNeighbour,
  appendFdb,
  deleteFdb,
  deleteNeighbour,
  listFdb,
  listNeighbours,
  replaceFdb,
  replaceNeighbour,
  type FdbEntry,
  type Neighbour,
} from '../src/neighbour.js';
import { release } from 'node:os';
import { ipJson, ipRun, kernelHasLinkKind, NsScope, whileSteady } from './helpers.js';

function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = release().split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

const scope = new NsScope();
let ns: Namespace;
let names: Map<number, string>;
const index = (name: string) => [...names].find(([, n]) => n === name)![0];

function refreshNames(): void {
  names = new Map((ipJson(ns, 'link', 'show') as { ifindex: number; ifname: string }[]).map((l) => [l.ifindex, l.ifname]));
}

beforeAll(async () => {
  ns = await scope.create('neigh');
  ipRun(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ipRun(ns, 'link', 'set', 'v0', 'up');
  ipRun(ns, 'link', 'set', 'v1', 'up');
  ipRun(ns, 'addr', 'add', '10.0.0.1/24', 'dev', 'v0');
  ipRun(ns, 'addr', 'add', 'fd00::1/64', 'dev', 'v0', 'nodad');
  refreshNames();
});
afterAll(() => scope.cleanup());

/** `bridge -n NS -j …` (test oracle). */
function bridgeJson(...args: string[]): Record<string, any>[] {
  const out = execFileSync('bridge', ['-n', ns.name!, '-j', ...args], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

/** The fields `ip -j neigh` prints, from a netweave Neighbour. */
function neighAsIp(n: Neighbour): Record<string, unknown> {
  return {
    dst: n.address,
    dev: names.get(n.ifindex),
    lladdr: n.mac,
    state: [String(n.state).toUpperCase()],
    router: n.flags.includes('router'),
    extern_learn: n.flags.includes('extern_learn'),
  };
}

function neighFromIp(x: Record<string, any>): Record<string, unknown> {
  return { dst: x.dst, dev: x.dev, lladdr: x.lladdr, state: x.state, router: 'router' in x, extern_learn: 'extern_learn' in x };
}

const nKey = (x: Record<string, unknown>) => `${x.dev} ${x.dst}`;
const sortBy = <T extends Record<string, unknown>>(xs: T[], key: (x: T) => string) => xs.sort((a, b) => key(a).localeCompare(key(b)));

async function crossCheckNeighbours(dev?: string): Promise<Neighbour[]> {
  const { ours, oracle } = await whileSteady(
    () => listNeighbours({ ns, link: dev }),
    () => sortBy((ipJson(ns, 'neigh', 'show', 'nud', 'all', ...(dev ? ['dev', dev] : [])) as Record<string, any>[]).map((x) => neighFromIp({ dev, ...x })), nKey),
  );
  expect(sortBy(ours.map(neighAsIp), nKey)).toEqual(oracle);
  return ours;
}

const FDB_FLAGS = ['self', 'router', 'extern_learn', 'offload', 'sticky'];
// bridge prints NUD_REACHABLE (a learned, ageing entry) as an empty state.
const BRIDGE_STATE: Record<string, string> = { permanent: 'permanent', static: 'static', stale: 'stale', dynamic: '' };

/** The fields `bridge -j fdb` prints, from a netweave FdbEntry. */
function fdbAsBridge(e: FdbEntry): Record<string, unknown> {
  return {
    mac: e.mac,
    ifname: names.get(e.ifindex),
    dst: e.dst,
    port: e.port,
    vni: e.vni,
    via: e.via === undefined ? undefined : names.get(e.via),
    vlan: e.vlan,
    master: e.master === undefined ? undefined : names.get(e.master),
    flags: e.flags.filter((f) => FDB_FLAGS.includes(f)),
    state: typeof e.state === 'string' ? BRIDGE_STATE[e.state] : e.state,
  };
}

function fdbFromBridge(x: Record<string, any>): Record<string, unknown> {
  return { mac: x.mac, ifname: x.ifname, dst: x.dst, port: x.port, vni: x.vni, via: x.viaIf, vlan: x.vlan, master: x.master, flags: x.flags, state: x.state };
}

const fKey = (x: Record<string, unknown>) => `${x.ifname} ${x.mac} ${x.dst} ${x.master} ${x.vni}`;

async function crossCheckFdb(filter: { link?: string; master?: string } = {}): Promise<FdbEntry[]> {
  const args = filter.link ? ['dev', filter.link] : filter.master ? ['br', filter.master] : [];
  const { ours, oracle } = await whileSteady(
    () => listFdb({ ns, ...filter }),
    () => sortBy(bridgeJson('fdb', 'show', ...args).map((x) => fdbFromBridge({ ifname: filter.link, ...x })), fKey),
  );
  expect(sortBy(ours.map(fdbAsBridge), fKey)).toEqual(oracle);
  return ours;
}

describe('neighbours', () => {
  it('adds permanent IPv4 and IPv6 entries; the kernel and ip report them', async () => {
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.9', mac: '02:00:00:00:00:09' });
    await addNeighbour({ ns, link: index('v0'), address: 'fd00::9', mac: '02:00:00:00:00:19', router: true });
    const ours = await crossCheckNeighbours('v0');
    expect(ours.find((n) => n.address === '10.0.0.9')).toMatchObject({ family: 'inet', ifindex: index('v0'), mac: '02:00:00:00:00:09', state: 'permanent', flags: [] });
    expect(ours.find((n) => n.address === 'fd00::9')).toMatchObject({ family: 'inet6', state: 'permanent', flags: ['router'] });
  });

  it('decodes what `ip neigh add` created the same way ip prints it', async () => {
    ipRun(ns, 'neigh', 'add', '10.0.0.20', 'lladdr', '02:00:00:00:00:20', 'dev', 'v0', 'nud', 'reachable');
    ipRun(ns, 'neigh', 'add', '10.0.0.21', 'lladdr', '02:00:00:00:00:21', 'dev', 'v0', 'nud', 'stale');
    ipRun(ns, 'neigh', 'add', '10.0.0.22', 'lladdr', '02:00:00:00:00:22', 'dev', 'v0', 'nud', 'noarp');
    ipRun(ns, 'neigh', 'add', 'fd00::23', 'lladdr', '02:00:00:00:00:23', 'dev', 'v0', 'nud', 'stale', 'router');
    ipRun(ns, 'neigh', 'add', '10.0.0.24', 'lladdr', '02:00:00:00:00:24', 'dev', 'v0', 'extern_learn');
    const ours = await crossCheckNeighbours();
    expect(ours.find((n) => n.address === '10.0.0.20')!.state).toBe('reachable');
    expect(ours.find((n) => n.address === '10.0.0.21')!.state).toBe('stale');
    expect(ours.find((n) => n.address === '10.0.0.22')!.state).toBe('noarp');
    expect(ours.find((n) => n.address === 'fd00::23')).toMatchObject({ state: 'stale', flags: ['router'] });
    expect(ours.find((n) => n.address === '10.0.0.24')!.flags).toEqual(['extern_learn']);
    const r = ours.find((n) => n.address === '10.0.0.20')!;
    expect(r.cacheinfo).toBeDefined();
    expect(r.probes).toBe(0);
  });

  it('adds entries in the other states and with extLearned', async () => {
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.30', mac: '02:00:00:00:00:30', state: 'stale' });
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.31', mac: '02:00:00:00:00:31', state: 'noarp' });
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.32', mac: '02:00:00:00:00:32', extLearned: true });
    const ours = await crossCheckNeighbours('v0');
    expect(ours.find((n) => n.address === '10.0.0.30')!.state).toBe('stale');
    expect(ours.find((n) => n.address === '10.0.0.31')!.state).toBe('noarp');
    expect(ours.find((n) => n.address === '10.0.0.32')!.flags).toContain('extern_learn');
  });

  it('replaceNeighbour overwrites the link-layer address and state', async () => {
    await replaceNeighbour({ ns, link: 'v0', address: '10.0.0.9', mac: '02:00:00:00:00:99', state: 'reachable' });
    await replaceNeighbour({ ns, link: 'v0', address: '10.0.0.40', mac: '02:00:00:00:00:40' });
    const ours = await crossCheckNeighbours('v0');
    expect(ours.find((n) => n.address === '10.0.0.9')).toMatchObject({ mac: '02:00:00:00:00:99', state: 'reachable' });
    expect(ours.find((n) => n.address === '10.0.0.40')!.state).toBe('permanent');
  });

  it('deleteNeighbour removes entries it and ip made', async () => {
    await deleteNeighbour({ ns, link: 'v0', address: '10.0.0.40' });
    await deleteNeighbour({ ns, link: 'v0', address: '10.0.0.20' });
    await deleteNeighbour({ ns, link: 'v0', address: 'fd00::23' });
    const left = (await crossCheckNeighbours('v0')).map((n) => n.address);
    for (const a of ['10.0.0.40', '10.0.0.20', 'fd00::23']) expect(left).not.toContain(a);
  });

  it('proxy entries: add, list (`ip neigh show proxy`), delete', async () => {
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.77', proxy: true });
    await addNeighbour({ ns, link: 'v0', address: 'fd00::77', proxy: true });
    const ours = await listNeighbours({ ns, proxy: true });
    const theirs = ipJson(ns, 'neigh', 'show', 'proxy') as Record<string, any>[];
    expect(ours.map((n) => `${names.get(n.ifindex)} ${n.address}`).sort()).toEqual(theirs.map((x) => `${x.dev} ${x.dst}`).sort());
    expect(ours.every((n) => n.flags.includes('proxy'))).toBe(true);
    expect((await listNeighbours({ ns })).some((n) => n.address === '10.0.0.77')).toBe(false);
    await deleteNeighbour({ ns, link: 'v0', address: '10.0.0.77', proxy: true });
    expect((await listNeighbours({ ns, proxy: true })).map((n) => n.address)).toEqual(['fd00::77']);
  });

  it('filters by link and family', async () => {
    await addNeighbour({ ns, link: 'v1', address: '10.0.0.50', mac: '02:00:00:00:00:50' });
    const onV1 = await listNeighbours({ ns, link: 'v1' });
    expect(onV1.every((n) => n.ifindex === index('v1'))).toBe(true);
    expect(onV1.map((n) => n.address)).toContain('10.0.0.50');
    const v6 = await listNeighbours({ ns, family: 'inet6' });
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every((n) => n.family === 'inet6')).toBe(true);
  });

  it.skipIf(!kernelAtLeast(5, 16))('managed entries (NTF_EXT_MANAGED: Linux 5.16+)', async () => {
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.60', managed: true });
    const n = (await listNeighbours({ ns, link: 'v0' })).find((x) => x.address === '10.0.0.60')!;
    expect(n.managed).toBe(true);
    expect('managed' in (ipJson(ns, 'neigh', 'show', '10.0.0.60', 'dev', 'v0')[0] as object)).toBe(true);
  });

  it('errors: EEXIST, ENOENT, ENODEV with function and subject; bad arguments before any syscall', async () => {
    const dup = await addNeighbour({ ns, link: 'v0', address: '10.0.0.9', mac: '02:00:00:00:00:09' }).catch((e) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', operation: 'addNeighbour', subject: '10.0.0.9 dev v0' });
    const gone = await deleteNeighbour({ ns, link: 'v0', address: '10.0.0.254' }).catch((e) => e);
    expect(gone).toMatchObject({ code: 'ENOENT', operation: 'deleteNeighbour', subject: '10.0.0.254 dev v0' });
    const nodev = await listNeighbours({ ns, link: 'nope0' }).catch((e) => e);
    expect(nodev).toMatchObject({ code: 'ENODEV', operation: 'listNeighbours', subject: 'nope0' });
    const before = native.stats().requests;
    await expect(addNeighbour({ ns, link: 'v0', address: '10.0.0.1/24', mac: '02:00:00:00:00:01' })).rejects.toThrow(/address/);
    await expect(addNeighbour({ ns, link: 'v0', address: '10.0.0.2', mac: '02:00:00:00:00:0g' })).rejects.toThrow(/mac/);
    await expect(addNeighbour({ ns, link: 'v0', address: '10.0.0.2', state: 'gone' as never })).rejects.toThrow(/state/);
    await expect(listNeighbours({ ns, prxy: true } as never)).rejects.toThrow(/unknown option "prxy"/);
    expect(native.stats().requests).toBe(before);
  });
});

const hasVxlan = kernelHasLinkKind('vxlan');
const hasBridge = kernelHasLinkKind('bridge');

describe.skipIf(!hasBridge)('bridge FDB (needs the bridge link kind)', () => {
  beforeAll(() => {
    if (hasVxlan) ipRun(ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.0.0.1', 'nolearning');
    ipRun(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipRun(ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
    ipRun(ns, 'link', 'set', 'p0', 'master', 'br0');
    for (const l of [...(hasVxlan ? ['vx0'] : []), 'br0', 'p0', 'p1']) ipRun(ns, 'link', 'set', l, 'up');
    refreshNames();
  });

  it.skipIf(!hasVxlan)('appends remote VTEPs to a vxlan device (the flood list of an overlay) (vxlan)', async () => {
    await appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.7' });
    await appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.8', vni: 100, port: 4790 });
    await appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.9', via: 'v0' });
    await addFdb({ ns, link: 'vx0', mac: '02:00:00:00:01:01', dst: '10.0.0.7' });
    const ours = await crossCheckFdb({ link: 'vx0' });
    const flood = ours.filter((e) => e.mac === '00:00:00:00:00:00');
    expect(flood.map((e) => e.dst).sort()).toEqual(['10.0.0.7', '10.0.0.8', '10.0.0.9']);
    expect(flood.find((e) => e.dst === '10.0.0.8')).toMatchObject({ vni: 100, port: 4790, state: 'permanent', flags: ['self'], ifindex: index('vx0') });
    expect(flood.find((e) => e.dst === '10.0.0.9')!.via).toBe(index('v0'));
  });

  it.skipIf(!hasVxlan)('deleteFdb with dst removes one remote; replaceFdb moves a MAC to another VTEP (vxlan)', async () => {
    // The remote is matched on dst, port, vni and via together: this one was added with via.
    await deleteFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.9', via: 'v0' });
    await replaceFdb({ ns, link: 'vx0', mac: '02:00:00:00:01:01', dst: '10.0.0.8' });
    const ours = await crossCheckFdb({ link: 'vx0' });
    expect(ours.filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort()).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(ours.filter((e) => e.mac === '02:00:00:00:01:01').map((e) => e.dst)).toEqual(['10.0.0.8']);
  });

  it.skipIf(!hasVxlan)('decodes what `bridge fdb` created the same way bridge prints it (vxlan)', async () => {
    execFileSync('bridge', ['-n', ns.name!, 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.0.0.30', 'vni', '7', 'port', '8472']);
    execFileSync('bridge', ['-n', ns.name!, 'fdb', 'add', '02:00:00:00:02:02', 'dev', 'vx0', 'dst', '10.0.0.31', 'static']);
    execFileSync('bridge', ['-n', ns.name!, 'fdb', 'add', '02:00:00:00:03:03', 'dev', 'p0', 'master', 'static']);
    execFileSync('bridge', ['-n', ns.name!, 'fdb', 'add', '02:00:00:00:03:04', 'dev', 'p0', 'master', 'sticky', 'static']);
    const ours = await crossCheckFdb();
    expect(ours.find((e) => e.dst === '10.0.0.30')).toMatchObject({ vni: 7, port: 8472 });
    expect(ours.find((e) => e.mac === '02:00:00:00:02:02')!.state).toBe('static');
    expect(ours.find((e) => e.mac === '02:00:00:00:03:03')).toMatchObject({ master: index('br0'), state: 'static', ifindex: index('p0') });
    expect(ours.find((e) => e.mac === '02:00:00:00:03:04')!.flags).toContain('sticky');
  });

  it('adds static entries to a bridge port (master) and lists by bridge', async () => {
    await addFdb({ ns, link: 'p0', mac: '02:00:00:00:04:04', master: true, state: 'static' });
    await addFdb({ ns, link: 'p0', mac: '02:00:00:00:04:05', master: true, state: 'dynamic' });
    const ours = await crossCheckFdb({ master: 'br0' });
    expect(ours.find((e) => e.mac === '02:00:00:00:04:04')).toMatchObject({ ifindex: index('p0'), master: index('br0'), state: 'static' });
    expect(ours.find((e) => e.mac === '02:00:00:00:04:05')!.state).toBe('dynamic');
    // The bridge's entries and its ports' (their own "self" entries included).
    expect(new Set(ours.map((e) => names.get(e.ifindex)))).toEqual(new Set(['br0', 'p0']));
    await crossCheckFdb({ link: 'p0' });
    await deleteFdb({ ns, link: 'p0', mac: '02:00:00:00:04:04', master: true });
    expect((await listFdb({ ns, link: 'p0' })).some((e) => e.mac === '02:00:00:00:04:04')).toBe(false);
  });

  it('the whole namespace matches `bridge fdb show`', async () => {
    await crossCheckFdb();
  });

  it.skipIf(!hasVxlan)('errors: EEXIST, ENOENT, ENODEV with function and subject (vxlan)', async () => {
    // Appending a remote the entry already has is accepted and changes nothing; add (NLM_F_EXCL) is refused.
    await appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.7' });
    expect((await listFdb({ ns, link: 'vx0' })).filter((e) => e.dst === '10.0.0.7' && e.mac === '00:00:00:00:00:00')).toHaveLength(1);
    const dup = await addFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.7' }).catch((e) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect(dup).toMatchObject({ code: 'EEXIST', operation: 'addFdb', subject: '00:00:00:00:00:00 dev vx0 dst 10.0.0.7' });
    const gone = await deleteFdb({ ns, link: 'vx0', mac: '02:00:00:00:0f:0f' }).catch((e) => e);
    expect(gone).toMatchObject({ code: 'ENOENT', operation: 'deleteFdb' });
    const nodev = await appendFdb({ ns, link: 'vx9', mac: '00:00:00:00:00:00', dst: '10.0.0.7' }).catch((e) => e);
    expect(nodev).toMatchObject({ code: 'ENODEV', operation: 'appendFdb', subject: 'vx9' });
    const before = native.stats().requests;
    await expect(appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', vni: -1 })).rejects.toThrow(/vni/);
    await expect(listFdb({ ns, bridge: 'br0' } as never)).rejects.toThrow(/unknown option "bridge"/);
    expect(native.stats().requests).toBe(before);
  });
});
