// State that survives the process: networks made by one process are found
// by another through the kernel alone (tags, groups, firewall tags); a
// process killed in the middle of connects leaves nothing that inspect
// reports as healthy unless it is, and nothing prune() cannot clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { listPublishedPorts } from '../src/firewall/index.js';
import { createBridge } from '../src/link-kinds/index.js';
import { getLink, listLinks } from '../src/link.js';
import { Namespace } from '../src/namespace.js';
import { closeNetworks, loadNetworks, pruneNetworks, type Network } from '../src/network/index.js';
import { configureInside, createVethEndpoint, setAlias } from '../src/network/kernel.js';
import { decodeTag, encodeTag, groupOf, linkNames, macFromIp, randomId, type EndpointTag } from '../src/network/tags.js';
import { ipJson, uniqueName } from './helpers.js';
import { ask, HOST_IP, NsScope, OUTSIDE_IP, resolveA, tcpServer, world } from './network-helpers.js';

const CHILD = fileURLToPath(new URL('./network-state.child.ts', import.meta.url));
const scope = new NsScope();
let host: Namespace;
let outside: Namespace;
const prefix = uniqueName('s');
const closers: { close(): unknown }[] = [];

/** Runs the child script; resolves its stdout lines. kill(ms) SIGKILLs it that long after it printed "ready". */
function child(args: string[], killAfterMs?: number): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    createInterface({ input: p.stdout }).on('line', (l) => {
      lines.push(l);
      if (l === 'ready' && killAfterMs !== undefined) setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ lines, signal, code, stderr }));
  });
}

/** Namespaces the children made (named, so they outlive the children). */
function childNamespaces(): string[] {
  return Namespace.list().filter((n) => n.startsWith(prefix));
}

beforeAll(async () => {
  ({ host, outside } = await world(scope));
  const r = await child(['setup', host.name!, prefix]);
  if (r.code !== 0) throw new Error(`setup child failed: ${r.stderr}`);
  setupOut = JSON.parse(r.lines[r.lines.length - 1]);
}, 60_000);

let setupOut: { persist: string; web: string; db: string; port: number };

afterAll(async () => {
  for (const c of closers) await c.close();
  await closeNetworks({ ns: host });
  for (const n of childNamespaces()) await Namespace.deleteNamed(n).catch(() => {});
  await scope.cleanup();
});

describe('another process finds what one made', () => {
  let persist: Network;

  it('loads networks, endpoints, addresses and published ports from the kernel', async () => {
    const nets = await loadNetworks({ ns: host });
    expect(nets.map((n) => n.name)).toEqual(['crash', 'host', 'none', 'persist']);
    persist = nets.find((n) => n.name === 'persist')!;
    expect(persist).toMatchObject({ id: setupOut.persist, subnet: '10.40.0.0/24', gateway: '10.40.0.1', driver: 'bridge' });
    const eps = persist.endpoints.map((e) => ({ name: e.name, ip: e.ip, aliases: e.aliases, ports: e.ports.map((p) => p.hostPort) }));
    expect(eps.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'db', ip: setupOut.db, aliases: ['db-alias'], ports: [] },
      { name: 'web', ip: setupOut.web, aliases: ['web-alias'], ports: [8080] },
    ]);
    const inspect = await persist.inspect();
    expect(inspect.healthy).toBe(true);
    expect(inspect.incomplete).toEqual([]);
    // The allocations came back too: the next address is the next free one.
    const c = await scope.create('nwc');
    const next = await persist.connect(c, { name: 'third' });
    expect(next.ip).toBe('10.40.0.4');
    await persist.disconnect(next);
  });

  it('serves DNS again when asked, and the published port still leads to the container', async () => {
    await closeNetworks({ ns: host });
    const nets = await loadNetworks({ ns: host, dns: true });
    persist = nets.find((n) => n.name === 'persist')!;
    const web = Namespace.open(`${prefix}web`);
    const db = Namespace.open(`${prefix}db`);
    closers.push(web, db);
    expect(await resolveA(db, 'web')).toEqual([setupOut.web]);
    expect(await resolveA(web, 'db-alias')).toEqual([setupOut.db]);
    closers.push(await tcpServer(web, 80, 'web'));
    expect(await ask(outside, HOST_IP, 8080)).toBe(`web ${OUTSIDE_IP}`);
  });
});

describe('a namespace given by pid', () => {
  it('is recorded by pid, not held open, and reopened by pid by a new manager', async () => {
    // This test process's own namespace (the sandbox's) stands in for a container's.
    const persist = (await loadNetworks({ ns: host })).find((n) => n.name === 'persist')!;
    // Not served here (as the CLI does): nothing needs the namespace open, so the handle is let go —
    // the namespace lives as long as its processes, not as long as our descriptor.
    const ep = await persist.connect(process.pid, { name: 'bypid', interfaceName: 'nwpid0', dns: false });
    expect(ep.ns).toBeUndefined();
    const alias = ipJson(host, 'link', 'show', 'dev', ep.hostInterface!)[0].ifalias;
    expect(decodeTag(alias)).toMatchObject({ kind: 'e', pid: process.pid, name: 'bypid', ifname: 'nwpid0' });
    expect(ipJson(undefined, 'addr', 'show', 'dev', 'nwpid0')[0].addr_info.some((a: { local: string }) => a.local === ep.ip)).toBe(true);
    await closeNetworks({ ns: host });
    const again = (await loadNetworks({ ns: host, dns: true })).find((n) => n.name === 'persist')!;
    const found = again.endpoint('bypid')!;
    expect(found.ns?.equals(Namespace.current())).toBe(true); // reopened by pid to serve DNS
    expect(await resolveA(Namespace.current(), 'web')).toEqual([setupOut.web]);
    await again.disconnect(found);
    expect(ipJson(undefined, 'link', 'show').some((l: { ifname: string }) => l.ifname === 'nwpid0')).toBe(false);
    await closeNetworks({ ns: host });
  });
});

describe('a process killed in the middle of connects', () => {
  const done = new Map<string, string>();
  let net: Network;

  it('leaves only complete endpoints reported healthy, and prune removes exactly the rest', async () => {
    for (let round = 0; round < 5; round++) {
      const r = await child(['loop', host.name!, `${prefix}r${round}x`], 40 + Math.floor(Math.random() * 200));
      expect(r.signal, r.stderr).toBe('SIGKILL');
      expect(r.lines[0]).toBe('ready');
      for (const l of r.lines.slice(1)) {
        const [, name, ip] = l.split(' ');
        done.set(name, ip);
      }
    }
    expect(done.size).toBeGreaterThan(0);

    await closeNetworks({ ns: host });
    net = (await loadNetworks({ ns: host })).find((n) => n.name === 'crash')!;
    const inspect = await net.inspect();
    // Every connect the child finished is there, healthy.
    for (const [name, ip] of done) expect(inspect.endpoints.find((e) => e.name === name)).toMatchObject({ ip, healthy: true });
    // Whatever is reported as an endpoint is complete in the kernel: checked here with ip, inside the container too.
    const bridge = net.interface!;
    const group = String(groupOf((net as unknown as { rec: { slot: number } }).rec.slot, 'endpoints'));
    // (`ip -j link show group N` prints {} for the links it filters out.)
    const inGroup = () => ipJson(host, 'link', 'show', 'group', group).filter((l: { ifname?: string }) => l.ifname);
    const hostEnds = inGroup();
    const committed = hostEnds.filter((l: { ifalias?: string }) => decodeTag(l.ifalias)?.kind === 'e');
    expect(inspect.endpoints.map((e) => e.hostInterface).sort()).toEqual(committed.map((l: { ifname: string }) => l.ifname).sort());
    for (const l of committed) {
      const tag = decodeTag(l.ifalias)!;
      expect(l.master).toBe(bridge);
      expect(l.flags).toContain('UP');
      expect(tag.kind === 'e' && tag.nsName).toBeTruthy();
      const inside = ipJson((tag as { nsName: string }).nsName, 'addr', 'show', 'dev', 'eth0')[0];
      expect(inside.flags).toContain('UP');
      expect(inside.addr_info.some((a: { local: string }) => a.local === (tag as { ip: string }).ip)).toBe(true);
      expect(ipJson((tag as { nsName: string }).nsName, 'route', 'show', 'default')[0]?.gateway).toBe(net.gateway);
    }
    // The rest of the group is what inspect calls incomplete, never an endpoint.
    const half = hostEnds.filter((l: { ifalias?: string }) => decodeTag(l.ifalias)?.kind !== 'e').map((l: { ifname: string }) => l.ifname).sort();
    expect(inspect.incomplete.map((i) => i.link).sort()).toEqual(half);
    console.log(`crash rounds: ${done.size} connects acknowledged, ${committed.length} complete endpoints in the kernel, ${half.length} half-made (${half.join(', ') || 'none'})`);

    // prune removes exactly the half-made links; the complete ones stay, healthy.
    const report = await pruneNetworks({ ns: host });
    expect(report.links.map((l) => l.name).sort()).toEqual(half);
    const after = inGroup();
    expect(after.map((l: { ifname: string }) => l.ifname).sort()).toEqual(committed.map((l: { ifname: string }) => l.ifname).sort());
    const again = await net.inspect();
    expect(again.incomplete).toEqual([]);
    expect(again.healthy).toBe(true);
    // Ports published for complete endpoints survive; each names a complete endpoint.
    for (const p of await listPublishedPorts({ ns: host })) {
      if (!p.tag?.startsWith(`nw:${net.id}:`)) continue;
      expect(again.endpoints.some((e) => p.tag === `nw:${net.id}:${e.id}`)).toBe(true);
    }
  }, 120_000);

  it('the states a kill can leave, made on purpose, are never endpoints and prune removes them', async () => {
    const slot = (net as unknown as { rec: { slot: number } }).rec.slot;
    const bridgeIndex = (await getLink(net.interface!, { ns: host })).index;
    // A connect cut short leaves its host end in the endpoints group without a tag (the tag is its
    // last step); an older netweave tagged it as pending (nw1p) from the start, which is still understood.
    const half = async (stage: 'created' | 'configured' | 'pending') => {
      const c = await scope.create('nwc');
      const id = randomId();
      const ip = `10.41.200.${{ created: 1, configured: 2, pending: 3 }[stage]}`;
      const links = await createVethEndpoint(
        { host, container: c, hostName: linkNames.hostVeth(id), ifname: 'eth0', mac: macFromIp(ip), group: groupOf(slot, 'endpoints'), master: bridgeIndex },
        'test',
      );
      if (stage !== 'created') await configureInside({ ns: c, index: links.peerIndex, cidr: `${ip}/16`, gateway: net.gateway, loopback: true, up: true }, 'test');
      if (stage === 'pending') await setAlias(host, links.hostIndex, encodeTag({ kind: 'p', id, network: net.id, name: id.slice(0, 12), aliases: [], ifname: 'eth0', ip }), 'test');
      return linkNames.hostVeth(id);
    };
    const a = await half('created');
    const b = await half('configured');
    const p = await half('pending');
    // A network whose create stopped before its tag: a bridge in a netweave group, untagged.
    const strayBridge = await createBridge({ ns: host, name: uniqueName('nwb'), linkGroup: groupOf(9999, 'infra') });
    // A container whose namespace went away: its endpoint is gone, its published port is left over.
    const victim = net.endpoints.find((e) => e.ports.length > 0);
    let orphanPort: number | undefined;
    if (victim) {
      orphanPort = victim.ports[0].hostPort;
      const tag = decodeTag(ipJson(host, 'link', 'show', 'dev', victim.hostInterface!)[0].ifalias) as EndpointTag;
      await Namespace.deleteNamed(tag.nsName!);
      // The veth goes with the namespace once the kernel has freed it (asynchronously).
      for (let i = 0; i < 200 && (await listLinks({ ns: host })).some((l) => l.name === victim.hostInterface); i++) await new Promise((r) => setTimeout(r, 20));
    }

    await closeNetworks({ ns: host });
    const reloaded = (await loadNetworks({ ns: host })).find((n) => n.name === 'crash')!;
    const inspect = await reloaded.inspect();
    for (const l of [a, b, p]) expect(inspect.endpoints.map((e) => e.hostInterface)).not.toContain(l);
    expect(inspect.incomplete.map((i) => i.link).sort()).toEqual([a, b, p].sort());
    expect(inspect.incomplete.find((i) => i.link === b)?.ip).toBe('10.41.200.2');
    expect(inspect.endpoints.every((e) => e.healthy)).toBe(true);
    // The addresses the half-made endpoints' containers hold are held until pruned (read from the peer, or the pending tag).
    const c = await scope.create('nwc');
    expect(code(await reloaded.connect(c, { ip: '10.41.200.2' }).catch((e: unknown) => e))).toBe('EADDRINUSE');
    expect(code(await reloaded.connect(c, { ip: '10.41.200.3' }).catch((e: unknown) => e))).toBe('EADDRINUSE');

    const report = await pruneNetworks({ ns: host });
    expect(report.links.map((l) => l.name).sort()).toEqual([a, b, p, strayBridge.name].sort());
    if (orphanPort !== undefined) expect(report.ports.map((p) => p.hostPort)).toEqual([orphanPort]);
    const names = (await listLinks({ ns: host })).map((l) => l.name);
    for (const n of [a, b, p, strayBridge.name]) expect(names).not.toContain(n);
    expect((await reloaded.inspect()).incomplete).toEqual([]);
    // Nothing left to prune.
    expect(await pruneNetworks({ ns: host })).toEqual({ links: [], ports: [], masquerades: [], isolations: [] });
    expect((await reloaded.connect(c, { ip: '10.41.200.2' })).ip).toBe('10.41.200.2');
  }, 60_000);
});

const code = (e: unknown) => (e as { code?: string }).code;
