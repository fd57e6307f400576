// The native engine against the real kernel: replies matched to requests,
// errors with the kernel's own text, batching, dumps (multi-part, retried
// when interrupted), and the addon hazards (close while pending, GC,
// worker_threads, process exit with work in flight, leaked descriptors).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainInParts, NetlinkSocket, checkAcks, requestChain, requestChainSettled, settleChain } from '../src/engine.js';
import { NetlinkError } from '../src/errors.js';
import { Namespace } from '../src/namespace.js';
import { native } from '../src/native.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REQUEST, NLMSG_HDRLEN, NETLINK_ROUTE, Writer } from '../src/wire/netlink.js';
import { IFF_UP, IFINFOMSG_LEN, IFLA_LINK, writeLinkMessage } from '../src/wire/link.js';
import { nsFdOf } from '../src/link.js';
import { probeBindStep } from '../src/ns-socket.js';
import { RTM_GETLINK, RTM_NEWLINK } from '../src/wire/rtnetlink.js';
import { NsScope, openFdsOf } from './helpers.js';

const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;

function getLink(name: string, w = new Writer()): Buffer {
  const m = w.begin(RTM_GETLINK, NLM_F_REQUEST);
  w.struct(16);
  w.string(IFLA_IFNAME, name);
  w.end(m);
  return Buffer.from(w.finish());
}

function newLink(w: Writer, name: string, kind: string): void {
  const m = w.begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  w.struct(16);
  w.string(IFLA_IFNAME, name);
  const li = w.nest(IFLA_LINKINFO);
  w.string(IFLA_INFO_KIND, kind);
  w.endNest(li);
  w.end(m);
}

function dumpLinks(): Buffer {
  const w = new Writer();
  const m = w.begin(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  w.struct(16);
  w.end(m);
  return Buffer.from(w.finish());
}

/** ifi_index of each RTM_NEWLINK in a reply. */
const indexes = (msgs: { payload: Buffer }[]) => msgs.map((m) => m.payload.readInt32LE(4));

const openFds = () => readdirSync('/proc/self/fd').length;

/** Runs an ES module script in a Node process as uid/gid 65534 (no CAP_NET_ADMIN). */
const runAsNobody = (script: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    env: { ...process.env, HOME: '/tmp' },
    timeout: 20_000,
  });

const scope = new NsScope();
let ns: Namespace;
beforeAll(async () => {
  ns = await scope.create('eng');
});
afterAll(() => scope.cleanup());

describe('requests and replies', () => {
  it('answers a GETLINK for lo with lo', async () => {
    const msgs = await ns.route().call(getLink('lo'), { operation: 'getLink' });
    expect(msgs).toHaveLength(1);
    expect(msgs[0].type).toBe(RTM_NEWLINK);
    expect(indexes(msgs)).toEqual([1]);
  });

  it('reports the kernel errno as a code, with the operation and subject', async () => {
    const err = await ns
      .route()
      .call(getLink('nope0'), { operation: 'getLink', subject: 'nope0' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'ENODEV', errno: 19, operation: 'getLink', subject: 'nope0' });
    expect(err.message).toMatch(/^getLink nope0: ENODEV/);
  });

  it("carries the kernel's extended-ack message", async () => {
    const w = new Writer();
    newLink(w, 'x0', 'nosuchkind');
    const err = await ns
      .route()
      .call(Buffer.from(w.finish()), { operation: 'createLink', subject: 'x0' })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'EOPNOTSUPP', kernelMessage: 'Unknown device type' });
  });

  it('matches each of 600 concurrent requests to its own reply, in few sendmsg calls', async () => {
    const before = native.stats();
    const names = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `nope${i}` : 'lo'));
    const results = await Promise.allSettled(names.map((n) => ns.route().call(getLink(n), { operation: 'getLink', subject: n })));
    const after = native.stats();
    results.forEach((r, i) => {
      if (names[i] === 'lo') expect(r.status === 'fulfilled' && indexes(r.value)).toEqual([1]);
      else expect(r.status === 'rejected' && r.reason.subject).toBe(names[i]);
    });
    expect(after.requests - before.requests).toBe(600);
    // Requests queued while the engine is busy share a sendmsg.
    expect(after.sendmsgs - before.sendmsgs).toBeLessThan(300);
  });

  it('maps an error inside a pipelined request to the index of the failing message', async () => {
    const w = new Writer();
    newLink(w, 'br-a', 'bridge');
    newLink(w, 'br-a', 'bridge'); // EEXIST
    newLink(w, 'br-b', 'bridge');
    const reply = await ns.route().request(Buffer.from(w.finish()), { operation: 'pipeline' });
    const names = ['br-a', 'br-a', 'br-b'];
    let err: NetlinkError | undefined;
    try {
      checkAcks(reply, { operation: 'pipeline' }, (i) => `create ${names[i]}`);
    } catch (e) {
      err = e as NetlinkError;
    }
    expect(err).toMatchObject({ code: 'EEXIST', index: 1, item: 'create br-a' });
    // The kernel processed the messages in order: the third one went through.
    const links = await ns.route().call(dumpLinks(), { operation: 'dump', dump: true });
    expect(links.length).toBe(3);
  });
});

describe('namespaces created with their socket', () => {
  it('answers on the socket made inside a new namespace, about that namespace only', async () => {
    const before = native.stats().sendmsgs;
    const fresh = await Namespace.create();
    try {
      const w = new Writer();
      newLink(w, 'br-fresh', 'bridge');
      checkAcks(await fresh.route().request(Buffer.from(w.finish()), { operation: 'create' }), { operation: 'create' });
      const names = (await fresh.route().call(dumpLinks(), { operation: 'dump', dump: true })).map((m) => m.payload.toString('latin1'));
      expect(names.some((t) => t.includes('br-fresh'))).toBe(true);
      expect(names).toHaveLength(2); // lo and the bridge: nothing of any other namespace
      expect(await fresh.route().portId()).toBeGreaterThan(0);
      expect(native.stats().sendmsgs - before).toBe(2);
      const [other] = await ns.route().call(getLink('br-fresh'), { operation: 'get' }).then(
        () => ['found'],
        (e) => [e.code],
      );
      expect(other).toBe('ENODEV');
    } finally {
      fresh.close();
    }
  });
});

describe('request chains', () => {
  // veth a (echoed) with its peer b born in `other`; then, in `other`, b up by
  // the index the echo carries (IFLA_LINK); then an alias on a by its own index.
  async function chain(other: Namespace, hostName: string, flags = NLM_F_ECHO) {
    const w1 = new Writer();
    writeLinkMessage(w1, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | flags, {
      attrs: { ifname: hostName },
      kind: 'veth',
      info: { peer: { attrs: { ifname: 'b', netNsFd: nsFdOf(other) } } },
    });
    const w2 = new Writer();
    writeLinkMessage(w2, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: 0x7fffffff, flags: IFF_UP, change: IFF_UP } });
    const w3 = new Writer();
    writeLinkMessage(w3, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: 0x7fffffff }, attrs: { ifalias: 'chained' } });
    const opts = { operation: 'chain' };
    return Promise.allSettled(
      requestChain(
        [
          { sock: ns.route(), bytes: w1.finish(), opts },
          { sock: other.route(), bytes: w2.finish(), opts },
          { sock: ns.route(), bytes: w3.finish(), opts },
        ],
        [
          { step: 1, from: 0, msgType: RTM_NEWLINK, attr: IFLA_LINK, field: IFINFOMSG_LEN, target: NLMSG_HDRLEN + 4 },
          { step: 2, from: 0, msgType: RTM_NEWLINK, field: 4, target: NLMSG_HDRLEN + 4 },
        ],
      ),
    );
  }
  const linkJson = (n: Namespace, name: string) => execFileSync('ip', ['-n', n.name!, '-j', 'link', 'show', name], { encoding: 'utf8' });

  it('sends dependent requests on sockets of two namespaces in one engine pass, patched from the echo', async () => {
    const other = await scope.create('chain');
    const before = native.stats();
    const [a, b, c] = await chain(other, 'cha0');
    const after = native.stats();
    expect([a.status, b.status, c.status]).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    for (const r of [a, b, c]) checkAcks((r as PromiseFulfilledResult<never>).value, { operation: 'chain' });
    expect(after.sendmsgs - before.sendmsgs).toBe(3);
    // What the kernel did: the peer is up inside `other`, the alias is on the host end.
    const peer = JSON.parse(linkJson(other, 'b'))[0];
    expect(peer.flags).toContain('UP');
    const host = JSON.parse(execFileSync('ip', ['-n', ns.name!, '-j', '-d', 'link', 'show', 'cha0'], { encoding: 'utf8' }))[0];
    expect(host.ifalias).toBe('chained');
    expect(host.link_index).toBe(peer.ifindex);
    await other.delete();
  });

  it('does not send the steps after one the kernel rejects: they fail with ECANCELED', async () => {
    const other = await scope.create('chain');
    await chain(other, 'cha1');
    const again = await scope.create('chain');
    const [a, b, c] = await chain(again, 'cha1'); // cha1 exists: EEXIST on the first step
    expect(a.status).toBe('fulfilled');
    expect(() => checkAcks((a as PromiseFulfilledResult<never>).value, { operation: 'chain' })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    for (const r of [b, c]) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ECANCELED', kernelMessage: expect.stringContaining('earlier request of the chain failed') });
    }
    // Nothing was made in the second namespace.
    expect(JSON.parse(execFileSync('ip', ['-n', again.name!, '-j', 'link', 'show'], { encoding: 'utf8' })).map((l: { ifname: string }) => l.ifname)).toEqual(['lo']);
    await other.delete();
    await again.delete();
  });

  it('fails a step whose patch finds nothing in the earlier replies with ENODATA, and cancels the rest', async () => {
    const other = await scope.create('chain');
    const [a, b, c] = await chain(other, 'cha2', 0); // no NLM_F_ECHO: no RTM_NEWLINK to read the index from
    expect(a.status).toBe('fulfilled');
    expect((b as PromiseRejectedResult).reason).toMatchObject({ code: 'ENODATA' });
    expect((c as PromiseRejectedResult).reason).toMatchObject({ code: 'ECANCELED' });
    expect(JSON.parse(linkJson(other, 'b'))[0].flags).not.toContain('UP');
    await other.delete();
  });

  it('refuses a patch that reads a later step or writes outside the bytes, before sending anything', () => {
    const opts = { operation: 'chain' };
    const bytes = getLink('lo');
    expect(() => requestChain([{ sock: ns.route(), bytes, opts }], [{ step: 0, from: 0, msgType: RTM_NEWLINK, field: 4, target: 0 }])).toThrow(RangeError);
    expect(() =>
      requestChain(
        [
          { sock: ns.route(), bytes, opts },
          { sock: ns.route(), bytes, opts },
        ],
        [{ step: 1, from: 0, msgType: RTM_NEWLINK, field: 4, target: bytes.length - 2 }],
      ),
    ).toThrow(RangeError);
  });

  // A task step (a bind probe) gates the request after it: "create this only if the port is free".
  function gated(port: number, name: string) {
    const w = new Writer();
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, { attrs: { ifname: name }, kind: 'bridge' });
    const opts = { operation: 'gated', subject: name };
    return Promise.allSettled(requestChain([probeBindStep(ns, 4, 'tcp', undefined, port, opts), { sock: ns.route(), bytes: w.finish(), opts }] as const));
  }
  const linkNames = () => JSON.parse(execFileSync('ip', ['-n', ns.name!, '-j', 'link', 'show'], { encoding: 'utf8' })).map((l: { ifname: string }) => l.ifname);

  it('runs a task step first and sends the request after it only when the task succeeds', async () => {
    const [probe, create] = await gated(7101, 'gate0');
    expect(probe).toEqual({ status: 'fulfilled', value: { value: 0, data: undefined } });
    expect(create.status).toBe('fulfilled');
    checkAcks((create as PromiseFulfilledResult<never>).value, { operation: 'gated' });
    expect(linkNames()).toContain('gate0');
  });

  it('fails the chain at a failing task step: its errno, the request after it not sent (ECANCELED)', async () => {
    const server = ns.createServer(() => {});
    await server.listenAsync({ port: 7102 });
    try {
      const [probe, create] = await gated(7102, 'gate1');
      expect((probe as PromiseRejectedResult).reason).toMatchObject({ code: 'EADDRINUSE', operation: 'gated', subject: 'gate1' });
      expect((create as PromiseRejectedResult).reason).toMatchObject({ code: 'ECANCELED' });
      expect(linkNames()).not.toContain('gate1');
    } finally {
      server.close();
    }
  });

  it('creates a namespace as a chain step: later steps use its socket and its fd', async () => {
    const sock = NetlinkSocket.reserve(NETLINK_ROUTE);
    const up = new Writer();
    writeLinkMessage(up, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: 1, flags: IFF_UP, change: IFF_UP } });
    // A veth in `ns` whose peer is born in the new namespace: its fd patched in from the first step's value.
    const veth = new Writer();
    writeLinkMessage(veth, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, {
      attrs: { ifname: 'fresh0' },
      kind: 'veth',
      info: { peer: { attrs: { ifname: 'inner', netNsFd: 0x7ffffff0 } } },
    });
    const bytes = Buffer.from(veth.finish());
    const target = bytes.indexOf(Buffer.from([0xf0, 0xff, 0xff, 0x7f]));
    const opts = { operation: 'fresh' };
    const [made, lo, pair] = await Promise.all(
      requestChain([{ createNamespace: sock, opts }, { sock, bytes: up.finish(), opts }, { sock: ns.route(), bytes, opts }] as const, [{ step: 2, from: 0, msgType: 0, field: 0, target }]),
    );
    checkAcks(lo, opts);
    checkAcks(pair, opts);
    const fresh = Namespace.adopt(made.value, sock);
    try {
      const links = (await fresh.route().call(dumpLinks(), { operation: 'list', dump: true })).length;
      expect(links).toBe(2); // lo and the veth's peer
      expect(JSON.parse(linkJson(ns, 'fresh0'))[0].link_netnsid).toBeTypeOf('number');
    } finally {
      fresh.close();
    }
  });

  it('refuses a task step whose namespace handle is closed, before sending anything (EBADF)', async () => {
    const gone = await Namespace.create();
    const step = probeBindStep(gone, 4, 'udp', undefined, 7103, { operation: 'closed' });
    gone.close();
    const before = native.stats();
    expect(() => requestChain([step])).toThrow(expect.objectContaining({ code: 'EBADF', operation: 'closed' }));
    expect(native.stats()).toMatchObject({ requests: before.requests, active: before.active });
  });
});

describe('a chain sent in parts', () => {
  const opts = { operation: 'parts' };
  const linkJson = (n: Namespace, name: string) => JSON.parse(execFileSync('ip', ['-n', n.name!, '-j', 'link', 'show', name], { encoding: 'utf8' }))[0];
  const hasLink = (n: Namespace, name: string) => spawnSync('ip', ['-n', n.name!, 'link', 'show', name]).status === 0;
  function veth(hostName: string, other: Namespace): Buffer {
    const w = new Writer();
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, {
      attrs: { ifname: hostName },
      kind: 'veth',
      info: { peer: { attrs: { ifname: 'b', netNsFd: nsFdOf(other) } } },
    });
    return Buffer.from(w.finish());
  }
  function byIndex(attrs: { ifalias?: string }, flags = 0): Buffer {
    const w = new Writer();
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: 0x7fffffff, flags, change: flags }, attrs });
    return Buffer.from(w.finish());
  }
  const peerPatch = (step: number) => ({ step, from: 0, msgType: RTM_NEWLINK, attr: IFLA_LINK, field: IFINFOMSG_LEN, target: NLMSG_HDRLEN + 4 });
  const untilTrue = async (f: () => boolean) => {
    for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
    return f();
  };

  it('runs the first part at once, waits for the rest, and patches later parts from earlier replies', async () => {
    const other = await scope.create('parts');
    const active = native.stats().active;
    const chain = new ChainInParts([{ sock: ns.route(), bytes: veth('pa0', other), opts }]);
    // The veth exists while the chain still waits for its other parts.
    expect(await untilTrue(() => hasLink(ns, 'pa0'))).toBe(true);
    chain.add([{ sock: other.route(), bytes: byIndex({}, IFF_UP), opts }], [peerPatch(1)]);
    const raw = await chain.end([{ sock: ns.route(), bytes: byIndex({ ifalias: 'parts' }), opts }], [{ step: 2, from: 0, msgType: RTM_NEWLINK, field: 4, target: NLMSG_HDRLEN + 4 }]);
    expect(raw.map((r) => r.errno)).toEqual([0, 0, 0]);
    expect(chain.steps).toHaveLength(3);
    // What the kernel did: the peer (its index from step 0's echo) is up, the alias is on the host end.
    expect(linkJson(other, 'b').flags).toContain('UP');
    expect(linkJson(ns, 'pa0').ifalias).toBe('parts');
    expect(native.stats().active).toBe(active);
    await other.delete();
  });

  it('cancels the parts sent after a step the kernel rejected, and still answers every step', async () => {
    const other = await scope.create('parts');
    const chain = new ChainInParts([{ sock: ns.route(), bytes: veth('lo', other), opts }]); // lo exists: EEXIST
    chain.add([{ sock: other.route(), bytes: byIndex({}, IFF_UP), opts }], [peerPatch(1)]);
    const raw = await chain.end([{ sock: ns.route(), bytes: byIndex({ ifalias: 'x' }), opts }]);
    expect(raw).toHaveLength(3);
    const [first, ...rest] = await settleChain(chain.steps, raw);
    // Answered, with the kernel's error ack; the later parts not sent.
    expect(() => checkAcks((first as PromiseFulfilledResult<never>).value, opts)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    for (const r of rest) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ECANCELED' });
    expect(hasLink(other, 'b')).toBe(false);
    await other.delete();
  });

  it('ends a chain whose last part is refused before it goes out, with what its first part did', async () => {
    const other = await scope.create('parts');
    const active = native.stats().active;
    const closed = new NetlinkSocket(NETLINK_ROUTE);
    closed.close();
    const chain = new ChainInParts([{ sock: ns.route(), bytes: veth('pa1', other), opts }]);
    expect(() => chain.end([{ sock: closed, bytes: byIndex({}), opts }])).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(chain.isEnded).toBe(true);
    const raw = await chain.answers;
    expect(raw.map((r) => r.errno)).toEqual([0]);
    expect(hasLink(ns, 'pa1')).toBe(true);
    expect(native.stats().active).toBe(active);
    expect(() => chain.end()).toThrow(/ended/);
    await other.delete();
  });

  it('refuses a patch into an earlier part or a later step, before sending anything', async () => {
    const before = native.stats();
    const chain = new ChainInParts([{ sock: ns.route(), bytes: getLink('lo'), opts }]);
    const step = { sock: ns.route(), bytes: byIndex({}), opts };
    try {
      expect(() => chain.add([step], [{ ...peerPatch(0) }])).toThrow(RangeError);
      expect(() => chain.add([step], [{ ...peerPatch(2) }])).toThrow(RangeError);
    } finally {
      expect((await chain.end()).map((r) => r.errno)).toEqual([0]);
    }
    expect(native.stats().requests - before.requests).toBe(1); // the first part's only
  });

  it('hands over the namespace its first part made when it ends with nothing added', async () => {
    const fds = openFds();
    const sock = NetlinkSocket.reserve(NETLINK_ROUTE);
    const chain = new ChainInParts([{ createNamespace: sock, opts }]);
    const [made] = await chain.end();
    expect(made.errno).toBe(0);
    expect(readdirSync('/proc/self/fd').some((fd) => fd === String(made.value))).toBe(true);
    native.closeFd(made.value);
    sock.close();
    expect(await untilTrue(() => openFds() === fds)).toBe(true);
  });
});

describe('dumps', () => {
  it('collects a multi-part dump of 400 links completely', async () => {
    const big = await scope.create('dump');
    execFileSync('ip', ['-n', big.name!, '-batch', '-'], {
      input: Array.from({ length: 200 }, (_, i) => `link add d${i}a type veth peer name d${i}b`).join('\n'),
    });
    const msgs = await big.route().call(dumpLinks(), { operation: 'listLinks', dump: true });
    const idx = indexes(msgs);
    expect(idx.length).toBe(401);
    expect(new Set(idx).size).toBe(401);
  });

  it('retries a dump the kernel marks interrupted, and never returns it torn', async () => {
    const churn = await scope.create('churn');
    execFileSync('ip', ['-n', churn.name!, '-batch', '-'], {
      input: Array.from({ length: 300 }, (_, i) => `link add s${i}a type veth peer name s${i}b`).join('\n'),
    });
    const stable = new Set(indexes(await churn.route().call(dumpLinks(), { operation: 'dump', dump: true })));
    // Another engine (a worker thread has its own) adds and removes links
    // in the same namespace while this one dumps.
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        (await import('tsx/esm/api')).register();
        const { Namespace } = await import(workerData.ns);
        const { Writer, NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE } = await import(workerData.wire);
        const ns = Namespace.open(workerData.name);
        let stop = false;
        parentPort.on('message', () => { stop = true; });
        for (let i = 0; !stop; i++) {
          const w = new Writer();
          for (const [type, flags] of [[16, NLM_F_CREATE], [17, 0]]) {
            const m = w.begin(type, NLM_F_REQUEST | NLM_F_ACK | flags);
            w.struct(16);
            w.string(3, 'churn' + (i % 4));
            if (type === 16) { const li = w.nest(18); w.string(1, 'bridge'); w.endNest(li); }
            w.end(m);
          }
          await ns.route().request(Buffer.from(w.finish()), { operation: 'churn' });
          if (i === 0) parentPort.postMessage('running');
        }
        ns.close();
        parentPort.postMessage('done');
      })();
      `,
      {
        eval: true,
        workerData: {
          name: churn.name,
          ns: new URL('../src/namespace.ts', import.meta.url).href,
          wire: new URL('../src/wire/netlink.ts', import.meta.url).href,
        },
      },
    );
    // Dump only once the churn runs (the worker takes a while to start), and
    // until the kernel has interrupted at least one dump (or 400 dumps).
    await new Promise((r) => worker.once('message', r));
    const retriesBefore = native.stats().dumpRetries;
    let complete = 0;
    let gaveUp = 0;
    let parts = 0;
    let restarts = 0;
    for (let i = 0; i < 400 && (i < 40 || native.stats().dumpRetries === retriesBefore); i++) {
      try {
        const idx = indexes(await churn.route().call(dumpLinks(), { operation: 'dump', dump: true }));
        // Consistent snapshot: no duplicates, every stable link present.
        expect(new Set(idx).size).toBe(idx.length);
        for (const s of stable) expect(idx).toContain(s);
        // The same dump streamed in parts: what the parts give, minus what a restart drops, is consistent too.
        let got: number[] = [];
        const last = await churn.route().callStream(dumpLinks(), { operation: 'dump' }, (part) => {
          if (part === null) {
            restarts++;
            got = [];
          } else {
            parts++;
            got.push(...indexes(part.filter((m) => m.type === RTM_NEWLINK)));
          }
        });
        got.push(...indexes(last.filter((m) => m.type === RTM_NEWLINK)));
        expect(new Set(got).size).toBe(got.length);
        for (const s of stable) expect(got).toContain(s);
        complete++;
      } catch (e) {
        expect((e as NetlinkError).code).toBe('EINTR');
        gaveUp++;
      }
    }
    worker.postMessage('stop');
    await new Promise((r) => worker.once('message', r));
    await worker.terminate();
    const retries = native.stats().dumpRetries - retriesBefore;
    console.log(`dump under churn: ${complete} complete, ${gaveUp} gave up after retries, ${retries} retries; streamed: ${parts} parts, ${restarts} restarts`);
    expect(complete).toBeGreaterThan(0);
    expect(retries).toBeGreaterThan(0);
    // ~600 links of ~1.4 KiB (~850 KiB): the streamed dumps did hand parts over before completing.
    expect(parts).toBeGreaterThan(0);
  }, 60_000);
});

describe('addon hazards', () => {
  it('routes every completion of a delivery even when a listener throws on one of them; the throw surfaces as an uncaught exception', () => {
    // One delivery holding [ack 1, event 1, ack 2]: the event loop is kept busy while the engine
    // queues the first create's ack and event, then the second create's ack. The listener throws
    // on the event; the second create must still settle.
    const src = (f: string) => JSON.stringify(new URL(`../src/${f}`, import.meta.url).href);
    const script = `
      import { Namespace } from ${src('namespace.ts')};
      import { watch } from ${src('events.ts')};
      import { createVethPair } from ${src('link-kinds/veth.ts')};
      import { listLinks } from ${src('link.ts')};
      let surfaced = 0;
      process.on('uncaughtException', (e) => { if (e.message !== 'listener') throw e; surfaced++; });
      const ns = await Namespace.create();
      await listLinks({ ns });
      const w = await watch({ ns, links: true });
      let calls = 0;
      w.on('link', () => { calls++; throw new Error('listener'); });
      const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
      const first = createVethPair({ name: 'a0', peer: { name: 'b0' }, ns });
      busy(200);
      const second = createVethPair({ name: 'a1', peer: { name: 'b1' }, ns });
      busy(200);
      const outcome = await Promise.race([Promise.all([first, second]).then(() => 'both settled'), new Promise((r) => setTimeout(() => r('stuck'), 3000))]);
      console.log(JSON.stringify({ outcome, listened: calls > 0, surfaced: surfaced === calls }));
      w.close();
      ns.close();
      process.exit(0);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ outcome: 'both settled', listened: true, surfaced: true });
  });

  it('settles every pending request when the socket closes under them', async () => {
    const sock = new NetlinkSocket(NETLINK_ROUTE, ns.nsFd);
    const w = new Writer();
    const req = getLink('lo', w);
    const ps = Array.from({ length: 300 }, () => sock.request(req, { operation: 'getLink' }));
    sock.close();
    const results = await Promise.allSettled(ps);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason.code).toBe('ECANCELED');
    }
    await expect(sock.request(req, { operation: 'getLink' })).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('settles a streamed dump and a chain when their socket closes mid-way, parts delivered or not', async () => {
    const many = await scope.create('close');
    execFileSync('ip', ['-n', many.name!, '-batch', '-'], { input: Array.from({ length: 300 }, (_, i) => `link add c${i}a type veth peer name c${i}b`).join('\n') });
    for (let round = 0; round < 5; round++) {
      const sock = new NetlinkSocket(NETLINK_ROUTE, many.nsFd);
      const dump = sock.callStream(dumpLinks(), { operation: 'dump' }, () => {});
      const w = new Writer();
      newLink(w, `late${round}`, 'bridge');
      const [first, second] = requestChain([
        { sock, bytes: getLink('lo'), opts: { operation: 'get' } },
        { sock, bytes: Buffer.from(w.finish()), opts: { operation: 'create' } },
      ]);
      await new Promise((r) => setImmediate(r));
      sock.close();
      const results = await Promise.allSettled([dump, first, second]);
      for (const r of results) if (r.status === 'rejected') expect(['ECANCELED', 'EBADF']).toContain(r.reason.code);
    }
    expect(native.stats().active).toBe(0);
    await many.delete();
  });

  it('leaks no descriptors across 100 sockets and 100 namespaces', async () => {
    const base = openFds();
    for (let i = 0; i < 100; i++) {
      const s = new NetlinkSocket(NETLINK_ROUTE);
      await s.call(getLink('lo'), { operation: 'getLink' });
      s.close();
    }
    for (let i = 0; i < 100; i++) {
      const n = await Namespace.create();
      await n.route().call(getLink('lo'), { operation: 'getLink' });
      n.close();
    }
    await new Promise((r) => setTimeout(r, 50)); // closes run on the engine thread
    expect(openFds()).toBe(base);
  });

  it('closes sockets and namespaces dropped without close() once collected', async () => {
    const base = openFds();
    // Held while they are counted (a collection during the loop would close some early), dropped with this frame.
    await (async () => {
      const held: Namespace[] = [];
      for (let i = 0; i < 50; i++) {
        const n = await Namespace.create();
        await n.route().call(getLink('lo'), { operation: 'getLink' });
        // A bind probe leaves sockets made ahead in the namespace: they go with the handle too.
        await requestChainSettled([probeBindStep(n, 4, 'tcp', undefined, 7200, { operation: 'probe' })]);
        held.push(n);
      }
      expect(openFds()).toBeGreaterThanOrEqual(base + 100 + 50 * 8);
    })();
    // Finalizers run some time after a collection, and the engine thread closes the sockets after that.
    for (let i = 0; i < 100 && openFds() > base; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(openFds()).toBe(base);
  });

  it('works in worker threads, each with its own engine, and survives their termination', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        (await import('tsx/esm/api')).register();
        const { Namespace } = await import(workerData.ns);
        const { Writer, NLM_F_REQUEST } = await import(workerData.wire);
        const w = new Writer(); const m = w.begin(18, NLM_F_REQUEST); w.struct(16); w.string(3, 'lo'); w.end(m);
        const req = Buffer.from(w.finish());
        const msgs = await Namespace.current().route().call(req, { operation: 'getLink' });
        parentPort.postMessage(msgs[0].payload.readInt32LE(4));
        // Keep requests in flight until terminated.
        for (;;) await Namespace.current().route().request(req, { operation: 'getLink' });
      })();
    `;
    const workerData = {
      ns: new URL('../src/namespace.ts', import.meta.url).href,
      wire: new URL('../src/wire/netlink.ts', import.meta.url).href,
    };
    const workers = Array.from({ length: 3 }, () => new Worker(code, { eval: true, workerData }));
    const got = await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    expect(got).toEqual([1, 1, 1]);
    await Promise.all(workers.map((w) => w.terminate()));
    // The main thread's engine is unaffected.
    expect(indexes(await ns.route().call(getLink('lo'), { operation: 'getLink' }))).toEqual([1]);
  });

  it('closes what a terminated worker\'s engine was about to hand over: a namespace made by a chain that waits for its next part', async () => {
    const netFds = () => openFdsOf('net:');
    const before = netFds();
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        (await import('tsx/esm/api')).register();
        const { ChainInParts, NetlinkSocket } = await import(workerData.engine);
        const sock = NetlinkSocket.reserve(0);
        new ChainInParts([{ createNamespace: sock, opts: { operation: 'parked' } }]);
        parentPort.postMessage('sent');
      })();
    `;
    const worker = new Worker(code, { eval: true, workerData: { engine: new URL('../src/engine.ts', import.meta.url).href } });
    await new Promise((r) => worker.once('message', r));
    // The worker's engine holds its own namespace's fd, and makes the new
    // namespace, then holds it for a part that never comes.
    for (let i = 0; i < 200 && netFds() < before + 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(netFds()).toBe(before + 2);
    await worker.terminate();
    expect(netFds()).toBe(before);
  });

  it('lets the process exit on its own with an idle socket, and exit cleanly with requests in flight', () => {
    const prelude = `
      import { Namespace } from ${JSON.stringify(new URL('../src/namespace.ts', import.meta.url).href)};
      import { Writer, NLM_F_REQUEST } from ${JSON.stringify(new URL('../src/wire/netlink.ts', import.meta.url).href)};
      const w = new Writer(); const m = w.begin(18, NLM_F_REQUEST); w.struct(16); w.string(3, 'lo'); w.end(m);
      const req = Buffer.from(w.finish());
      const sock = Namespace.current().route();
    `;
    const run = (body: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', prelude + body], { encoding: 'utf8', timeout: 20_000 });
    // Idle after one request: nothing keeps the loop alive.
    const idle = run(`await sock.call(req, { operation: 'getLink' }); console.log('idle-ok');`);
    expect(idle.stdout).toContain('idle-ok');
    expect(idle.status).toBe(0);
    // Exit while 5,000 requests are in flight: the cleanup hook stops the engine.
    const busy = run(`for (let i = 0; i < 5000; i++) sock.request(req, { operation: 'getLink' }); setImmediate(() => process.exit(7));`);
    expect(busy.signal).toBeNull();
    expect(busy.status).toBe(7);
  });

  it('gives EPERM with a hint when the caller lacks CAP_NET_ADMIN', () => {
    const script = `
      import { Namespace } from ${JSON.stringify(new URL('../src/namespace.ts', import.meta.url).href)};
      import { Writer, NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE } from ${JSON.stringify(new URL('../src/wire/netlink.ts', import.meta.url).href)};
      const w = new Writer(); const m = w.begin(16, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE); w.struct(16); w.string(3, 'br-x');
      const li = w.nest(18); w.string(1, 'bridge'); w.endNest(li); w.end(m);
      try { await Namespace.current().route().call(Buffer.from(w.finish()), { operation: 'createBridge', subject: 'br-x' }); console.log('no error'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    `;
    const r = runAsNobody(script);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.code).toBe('EPERM');
    expect(out.message).toMatch(/CAP_NET_ADMIN/);
  });

  it('fails a chain\'s namespace step without privilege cleanly: EPERM, the rest cancelled, its socket failed, nothing pending', () => {
    const script = `
      import { NetlinkSocket, requestChain } from ${JSON.stringify(new URL('../src/engine.ts', import.meta.url).href)};
      import { native } from ${JSON.stringify(new URL('../src/native.ts', import.meta.url).href)};
      const sock = NetlinkSocket.reserve(0);
      const opts = { operation: 'fresh' };
      const r = await Promise.allSettled(requestChain([{ createNamespace: sock, opts }, { sock, bytes: new Uint8Array(16), opts }]));
      const open = await sock.portId().then(() => 'open', (e) => e.code);
      setImmediate(() => console.log(JSON.stringify({ codes: r.map((x) => x.reason?.code), open, active: native.stats().active })));
    `;
    const r = runAsNobody(script);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ codes: ['EPERM', 'ECANCELED'], open: 'EPERM', active: 0 });
  });

  it('fails Namespace.create without privilege cleanly: EPERM, nothing left pending, the process exits on its own', () => {
    const script = `
      import { Namespace } from ${JSON.stringify(new URL('../src/namespace.ts', import.meta.url).href)};
      import { native } from ${JSON.stringify(new URL('../src/native.ts', import.meta.url).href)};
      try { await Namespace.create(); console.log('no error'); }
      catch (e) { setImmediate(() => console.log(JSON.stringify({ code: e.code, active: native.stats().active }))); }
    `;
    const r = runAsNobody(script);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ code: 'EPERM', active: 0 });
  });
});
