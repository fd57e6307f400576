// TCP and UDP sockets opened inside namespaces, in this one process: a
// server in namespace A answers a client in namespace B over a veth.
import { once } from 'node:events';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Namespace } from '../src/namespace.js';
import { probeBind } from '../src/ns-socket.js';
import { NsScope, ipRun } from './helpers.js';

const scope = new NsScope();
let a: Namespace;
let b: Namespace;

beforeAll(async () => {
  a = await scope.create('sa');
  b = await scope.create('sb');
  // Topology with iproute2 (test fixture): veth a0 <-> b0, 10.9.0.1/24 and 10.9.0.2/24, plus IPv6.
  ipRun(a, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', b.name!);
  for (const [ns, dev, v4, v6] of [
    [a, 'a0', '10.9.0.1/24', 'fd09::1/64'],
    [b, 'b0', '10.9.0.2/24', 'fd09::2/64'],
  ] as const) {
    ipRun(ns, 'addr', 'add', v4, 'dev', dev);
    ipRun(ns, 'addr', 'add', v6, 'dev', dev, 'nodad');
    ipRun(ns, 'link', 'set', dev, 'up');
    ipRun(ns, 'link', 'set', 'lo', 'up');
  }
});
afterAll(() => scope.cleanup());

const readAll = async (s: net.Socket) => {
  let data = '';
  s.on('data', (d) => (data += d));
  await once(s, 'end');
  return data;
};

describe('TCP across namespaces', () => {
  it('a server in A answers a client in B, and the reverse', async () => {
    for (const [server, client, host] of [
      [a, b, '10.9.0.1'],
      [b, a, '10.9.0.2'],
      [a, b, 'fd09::1'],
    ] as const) {
      const srv = server.createServer((c) => {
        c.once('data', (d) => c.end(`echo:${d} from ${c.localAddress} to ${c.remoteAddress}`));
      });
      await srv.listenAsync({ host, port: 0 });
      const port = (srv.address() as net.AddressInfo).port;
      const c = await client.connect({ host, port });
      c.write('hi');
      const reply = await readAll(c);
      const peer = host === 'fd09::1' ? 'fd09::2' : host === '10.9.0.1' ? '10.9.0.2' : '10.9.0.1';
      expect(reply).toBe(`echo:hi from ${host} to ${peer}`);
      srv.close();
    }
  });

  it('a server in A is not reachable from the sandbox namespace, which has no route there', async () => {
    const srv = a.createServer((c) => c.end('x'));
    await srv.listenAsync({ host: '127.0.0.1', port: 7777 });
    const { Namespace } = await import('../src/namespace.js');
    await expect(Namespace.current().connect({ host: '127.0.0.1', port: 7777, timeout: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // But A's own loopback reaches it.
    expect(await readAll(await a.connect({ host: '127.0.0.1', port: 7777 }))).toBe('x');
    srv.close();
  });

  it('reports a bind conflict inside the namespace as EADDRINUSE', async () => {
    const one = await a.createServer().listenAsync({ host: '10.9.0.1', port: 7100 });
    const two = a.createServer();
    const err = await new Promise((resolve) => {
      two.once('error', resolve);
      two.listen(7100, '10.9.0.1');
    });
    expect(err).toMatchObject({ code: 'EADDRINUSE' });
    one.close();
  });
});

describe('bind probes', () => {
  it('tells a free port from one a socket holds, in that namespace only, and a foreign address from a local one', async () => {
    const server = await a.createServer().listenAsync({ host: '10.9.0.1', port: 7200 });
    expect(await probeBind(a, 4, 'tcp', '10.9.0.1', 7200)).toBe(-98); // EADDRINUSE
    expect(await probeBind(a, 4, 'tcp', undefined, 7200)).toBe(-98); // 0.0.0.0 overlaps it
    expect(await probeBind(a, 4, 'udp', '10.9.0.1', 7200)).toBe(0); // another protocol
    expect(await probeBind(b, 4, 'tcp', undefined, 7200)).toBe(0); // another namespace
    expect(await probeBind(a, 4, 'tcp', '10.9.0.2', 7201)).toBe(-99); // EADDRNOTAVAIL: b's address
    expect(await probeBind(a, 6, 'tcp', 'fd09::1', 7201)).toBe(0);
    server.close();
    // Closed (TIME_WAIT aside, which SO_REUSEADDR ignores): free again.
    expect(await probeBind(a, 4, 'tcp', '10.9.0.1', 7200)).toBe(0);
  });
});

describe('UDP across namespaces', () => {
  it('exchanges datagrams between A and B', async () => {
    const sa = await a.createDgram({ address: '10.9.0.1', port: 7200 });
    const sb = await b.createDgram({ address: '10.9.0.2' });
    sa.on('message', (msg, rinfo) => sa.send(`pong:${msg}`, rinfo.port, rinfo.address));
    const got = once(sb, 'message');
    sb.send('ping', 7200, '10.9.0.1');
    const [msg, rinfo] = (await got) as [Buffer, { address: string }];
    expect(`${msg}`).toBe('pong:ping');
    expect(rinfo.address).toBe('10.9.0.1');
    sa.close();
    sb.close();
  });

  it('rejects a host that is not an IP address (no name lookup inside a namespace)', async () => {
    await expect(a.connect({ host: 'localhost', port: 80 })).rejects.toThrow(TypeError);
    await expect(a.createDgram({ address: '10.9.0.1', type: 'udp6' })).rejects.toThrow(TypeError);
  });
});
