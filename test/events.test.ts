// Change events against the real kernel: typed events arrive in the order the
// kernel made the changes, per namespace; closing stops delivery; a receive
// buffer overrun surfaces as a 'resync' event, never silently.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress, deleteAddress } from '../src/address.js';
import { NetlinkError } from '../src/errors.js';
import { watch, type NetEvent, type Watcher } from '../src/events.js';
import type { Namespace } from '../src/namespace.js';
import { addNeighbour, appendFdb, deleteFdb, deleteNeighbour } from '../src/neighbour.js';
import { addRoute, deleteRoute } from '../src/route.js';
import { ipJson, ipRun, kernelHasLinkKind, NsScope } from './helpers.js';

const scope = new NsScope();
let ns: Namespace;
let v0: number;

beforeAll(async () => {
  ns = await scope.create('events');
  ipRun(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ipRun(ns, 'link', 'set', 'v0', 'up');
  ipRun(ns, 'link', 'set', 'v1', 'up');
  ipRun(ns, 'addr', 'add', '10.0.0.1/24', 'dev', 'v0');
  v0 = ipJson(ns, 'link', 'show', 'v0')[0].ifindex;
});
afterAll(() => scope.cleanup());

/** Reads events from the iterator until `done` says so; leaving the loop closes the watcher. */
async function collect(w: Watcher, done: (seen: NetEvent[]) => boolean): Promise<NetEvent[]> {
  const seen: NetEvent[] = [];
  for await (const ev of w) {
    seen.push(ev);
    if (done(seen)) break;
  }
  return seen;
}

/** A short label per event, for asserting on order. */
function label(ev: NetEvent): string {
  switch (ev.type) {
    case 'link':
      return `link ${ev.action} ${ev.link.name}`;
    case 'address':
      return `address ${ev.action} ${ev.address.cidr}`;
    case 'route':
      return `route ${ev.action} ${ev.route.dst} table ${ev.route.table}`;
    case 'neighbour':
      return `neighbour ${ev.action} ${ev.neighbour.address}`;
    case 'fdb':
      return `fdb ${ev.action} ${ev.fdb.mac} ${ev.fdb.dst ?? ''}`.trim();
    case 'resync':
      return 'resync';
  }
}

describe('watch', () => {
  it('reports address adds and deletes, in order, as typed events', async () => {
    const w = await watch({ ns, addresses: true });
    await addAddress('v0', '10.1.0.1/24', { ns });
    await addAddress('v0', 'fd00:1::1/64', { ns, nodad: true });
    await deleteAddress('v0', '10.1.0.1/24', { ns });
    const seen = await collect(w, (s) => s.some((e) => label(e) === 'address del 10.1.0.1/24'));
    // Only ours: the link-local address of v0 may finish DAD (a new RTM_NEWADDR) meanwhile.
    const ours = seen.filter((e) => e.type === 'address' && !e.address.address.startsWith('fe80:'));
    expect(ours.map(label)).toEqual(['address new 10.1.0.1/24', 'address new fd00:1::1/64', 'address del 10.1.0.1/24']);
    const added = ours[0] as Extract<NetEvent, { type: 'address' }>;
    expect(added.address).toMatchObject({ family: 'inet', ifindex: v0, prefix: 24, broadcast: '10.1.0.255', label: 'v0' });
    expect(w.closed).toBe(true);
  });

  it('reports an address before the routes the kernel derives from it, then their removal', async () => {
    const w = await watch({ ns, addresses: true, routes: true, family: 'inet' });
    await addAddress('v0', '10.2.0.1/24', { ns });
    await deleteAddress('v0', '10.2.0.1/24', { ns });
    const seen = await collect(w, (s) => s.some((e) => label(e) === 'address del 10.2.0.1/24') && s.some((e) => label(e).startsWith('route del 10.2.0.0/24')));
    const labels = seen.map(label);
    const at = (l: string) => labels.indexOf(l);
    expect(at('address new 10.2.0.1/24')).toBeGreaterThanOrEqual(0);
    expect(at('address new 10.2.0.1/24')).toBeLessThan(at('route new 10.2.0.0/24 table 254'));
    expect(at('route new 10.2.0.1/32 table 255')).toBeGreaterThan(at('address new 10.2.0.1/24')); // the local route
    expect(at('address del 10.2.0.1/24')).toBeLessThan(at('route del 10.2.0.0/24 table 254'));
  });

  it('reports links (decoded by the link codec): new and del for both ends of a veth', async () => {
    const w = await watch({ ns, links: true });
    ipRun(ns, 'link', 'add', 'e0', 'type', 'veth', 'peer', 'name', 'e1');
    ipRun(ns, 'link', 'del', 'e0');
    const seen = (await collect(w, (s) => ['e0', 'e1'].every((n) => s.some((e) => label(e) === `link del ${n}`)))).map(label);
    for (const n of ['e0', 'e1']) {
      expect(seen.indexOf(`link new ${n}`)).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf(`link new ${n}`)).toBeLessThan(seen.indexOf(`link del ${n}`));
    }
  });

  it('reports routes in any table, IPv4 and IPv6', async () => {
    const w = await watch({ ns, routes: true });
    await addRoute({ ns, dst: '10.50.0.0/16', gateway: '10.0.0.2', table: 1000 });
    await addRoute({ ns, dst: 'fd50::/64', dev: 'v0' });
    await deleteRoute({ ns, dst: '10.50.0.0/16', table: 1000 });
    await deleteRoute({ ns, dst: 'fd50::/64' });
    const seen = (await collect(w, (s) => s.some((e) => label(e) === 'route del fd50::/64 table 254'))).map(label);
    expect(seen.filter((l) => /10\.50|fd50/.test(l))).toEqual([
      'route new 10.50.0.0/16 table 1000',
      'route new fd50::/64 table 254',
      'route del 10.50.0.0/16 table 1000',
      'route del fd50::/64 table 254',
    ]);
  });

  it('reports neighbours and FDB entries (one kernel group)', async () => {
    const hasVxlan = kernelHasLinkKind('vxlan');
    if (hasVxlan) ipRun(ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.0.0.1', 'nolearning');
    const w = await watch({ ns, neighbours: true });
    await addNeighbour({ ns, link: 'v0', address: '10.0.0.9', mac: '02:00:00:00:00:09' });
    await deleteNeighbour({ ns, link: 'v0', address: '10.0.0.9' });
    if (hasVxlan) {
      await appendFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.7' });
      await deleteFdb({ ns, link: 'vx0', mac: '00:00:00:00:00:00', dst: '10.0.0.7' });
    }
    const last = hasVxlan ? 'fdb del 00:00:00:00:00:00 10.0.0.7' : 'neighbour del 10.0.0.9';
    const seen = await collect(w, (s) => s.some((e) => label(e) === last));
    // The kernel may notify one change more than once (6.18 sends RTM_NEWNEIGH twice for a new
    // permanent entry): compare the sequence of distinct consecutive events.
    const labels = seen.map(label).filter((l, i, all) => /10\.0\.0\.9|10\.0\.0\.7/.test(l) && l !== all[i - 1]);
    expect(labels).toEqual([
      'neighbour new 10.0.0.9',
      'neighbour del 10.0.0.9',
      ...(hasVxlan ? ['fdb new 00:00:00:00:00:00 10.0.0.7', 'fdb del 00:00:00:00:00:00 10.0.0.7'] : []),
    ]);
    const n = seen.find((e) => e.type === 'neighbour') as Extract<NetEvent, { type: 'neighbour' }>;
    expect(n.neighbour).toMatchObject({ family: 'inet', ifindex: v0, mac: '02:00:00:00:00:09', state: 'permanent' });
  });

  it('is an EventEmitter too: per-type and "event" listeners see the same sequence', async () => {
    const w = await watch({ ns, addresses: true });
    const all: string[] = [];
    const addresses: string[] = [];
    w.on('event', (ev: NetEvent) => all.push(label(ev)));
    const last = new Promise<void>((resolve) =>
      w.on('address', (ev: NetEvent) => {
        addresses.push(label(ev));
        if (label(ev) === 'address del 10.3.0.1/24') resolve();
      }),
    );
    await addAddress('v0', '10.3.0.1/24', { ns });
    await deleteAddress('v0', '10.3.0.1/24', { ns });
    await last;
    w.close();
    expect(addresses).toEqual(['address new 10.3.0.1/24', 'address del 10.3.0.1/24']);
    expect(all).toEqual(addresses);
  });

  it('sees only its own namespace', async () => {
    const other = await scope.create('evother');
    ipRun(other, 'link', 'add', 'o0', 'type', 'veth', 'peer', 'name', 'o1');
    const w = await watch({ ns, addresses: true });
    await addAddress('o0', '10.4.0.1/24', { ns: other });
    await addAddress('v0', '10.4.0.2/24', { ns });
    const seen = await collect(w, (s) => s.some((e) => label(e) === 'address new 10.4.0.2/24'));
    expect(seen.map(label).filter((l) => l.includes('10.4.'))).toEqual(['address new 10.4.0.2/24']);
  });

  it('close() stops delivery and ends iterators', async () => {
    const closed = await watch({ ns, addresses: true });
    const witness = await watch({ ns, addresses: true });
    const late: NetEvent[] = [];
    closed.on('event', (ev: NetEvent) => late.push(ev));
    const it = closed[Symbol.asyncIterator]();
    const pending = it.next();
    let closeEvents = 0;
    closed.on('close', () => closeEvents++);
    closed.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    await addAddress('v0', '10.5.0.1/24', { ns });
    // The kernel multicasts to both sockets during the add; once the witness has it, the closed one would have too.
    await collect(witness, (s) => s.some((e) => label(e) === 'address new 10.5.0.1/24'));
    expect(late).toEqual([]);
    expect(closeEvents).toBe(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    closed.close(); // idempotent
    expect(closeEvents).toBe(1);
  });

  it('surfaces a receive-buffer overrun as a resync event, and keeps delivering after it', async () => {
    ipRun(ns, 'link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'r1');
    // A tiny buffer (the kernel rounds it up to its minimum) and a burst of 256
    // adds in one sendmsg: the engine thread is inside that sendmsg while the
    // kernel multicasts each notification, so the buffer must overflow.
    const w = await watch({ ns, addresses: true, rcvbuf: 1 });
    const resyncs: NetlinkError[] = [];
    w.on('resync', (ev: NetEvent) => resyncs.push((ev as Extract<NetEvent, { type: 'resync' }>).error));
    await Promise.all(Array.from({ length: 256 }, (_, i) => addAddress('r0', `10.6.${i >> 8}.${i & 255}/32`, { ns })));
    await addAddress('v0', '10.7.0.1/24', { ns });
    const seen = await collect(w, (s) => s.some((e) => label(e) === 'address new 10.7.0.1/24'));
    expect(seen.some((e) => e.type === 'resync')).toBe(true);
    expect(resyncs.length).toBeGreaterThan(0);
    expect(resyncs[0]).toBeInstanceOf(NetlinkError);
    expect(resyncs[0].code).toBe('ENOBUFS');
    expect(seen.filter((e) => e.type === 'address').length).toBeLessThan(257); // events were lost, and said so
  });

  it('bounds an iterator that falls behind: its backlog becomes a resync event', async () => {
    const w = await watch({ ns, addresses: true, maxQueue: 4 });
    const it = w[Symbol.asyncIterator]();
    const done = new Promise<void>((resolve) => w.on('address', (ev: NetEvent) => label(ev) === 'address new 10.8.0.20/32' && resolve()));
    for (let i = 1; i <= 20; i++) await addAddress('v0', `10.8.0.${i}/32`, { ns });
    await done;
    const first = await it.next();
    expect(first.value).toMatchObject({ type: 'resync' });
    expect((first.value as Extract<NetEvent, { type: 'resync' }>).error.code).toBe('ENOBUFS');
    const rest: string[] = [];
    for (;;) {
      const r = await Promise.race([it.next(), new Promise<null>((resolve) => setImmediate(() => resolve(null)))]);
      if (r === null || r.done) break;
      rest.push(label(r.value));
    }
    expect(rest.length).toBeLessThan(4);
    expect(rest[rest.length - 1]).toBe('address new 10.8.0.20/32');
    w.close();
  });

  it('rejects bad options before subscribing', async () => {
    await expect(watch({ ns, adresses: true } as never)).rejects.toThrow(/unknown option "adresses"/);
    await expect(watch({ ns, links: 'yes' } as never)).rejects.toThrow(/links/);
    await expect(watch({ ns, family: 'ipx' as never })).rejects.toThrow(/family/);
    await expect(watch({ ns, rcvbuf: -1 })).rejects.toThrow(/rcvbuf/);
  });

  it('keeps the process alive until closed, unless unref()ed', () => {
    const events = JSON.stringify(new URL('../src/events.ts', import.meta.url).href);
    const run = (body: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { watch } from ${events};\n${body}`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    // unref(): nothing else pending, so the process exits by itself.
    const unrefd = run(`const w = await watch({ links: true }); w.unref(); console.log('unref-ok');`);
    expect(unrefd.stdout).toContain('unref-ok');
    expect(unrefd.status).toBe(0);
    // Held: a timer closes it later; the process lives until then.
    const held = run(`const w = await watch({ links: true }); setTimeout(() => { console.log('closing'); w.close(); }, 50).unref();`);
    expect(held.stdout).toContain('closing');
    expect(held.status).toBe(0);
  });
});
