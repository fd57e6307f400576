// The two-containers-on-a-bridge setup, built with netweave alone (the
// README's first example): a "host" namespace with bridge br0 172.18.0.1/16,
// two container namespaces with eth0 172.18.0.10/16 and .20/16 whose veth
// peers are born inside them, default routes via the bridge. Real TCP and UDP
// cross it in both directions, and host to container.
import { once } from 'node:events';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress, listAddresses } from '../src/address.js';
import { attachToBridge, createBridge, createVethPair } from '../src/link-kinds/index.js';
import { getLink, setLinkUp } from '../src/link.js';
import type { Namespace } from '../src/namespace.js';
import { addRoute, listRoutes } from '../src/route.js';
import { NsScope, ipJson } from './helpers.js';

const scope = new NsScope();
let host: Namespace;
const containers: { ns: Namespace; ip: string }[] = [];

beforeAll(async () => {
  host = await scope.create('host');
  await createBridge({ name: 'br0', up: true, ns: host });
  await addAddress('br0', '172.18.0.1/16', { ns: host });
  for (const [name, ip] of [
    ['c1', '172.18.0.10'],
    ['c2', '172.18.0.20'],
  ]) {
    const ns = await scope.create(name);
    await createVethPair({ name: `veth-${name}`, peer: { name: 'eth0', ns }, ns: host });
    await attachToBridge(`veth-${name}`, 'br0', { ns: host });
    await setLinkUp(`veth-${name}`, { ns: host });
    await Promise.all([setLinkUp('eth0', { ns }), setLinkUp('lo', { ns }), addAddress('eth0', `${ip}/16`, { ns })]);
    await addRoute({ dst: 'default', gateway: '172.18.0.1', ns });
    containers.push({ ns, ip });
  }
});
afterAll(() => scope.cleanup());

const exchange = async (server: Namespace, serverIp: string, client: Namespace) => {
  const srv = server.createServer((c) => c.once('data', (d) => c.end(`${d} -> ${c.localAddress} from ${c.remoteAddress}`)));
  await srv.listenAsync({ host: serverIp, port: 0 });
  const port = (srv.address() as net.AddressInfo).port;
  const c = await client.connect({ host: serverIp, port, timeout: 5000 });
  c.write('hello');
  let reply = '';
  c.on('data', (d) => (reply += d));
  await once(c, 'end');
  srv.close();
  return reply;
};

describe('two containers on a bridge, built with netweave alone', () => {
  it('has what was asked, read back over netlink and seen the same by ip', async () => {
    const br = await getLink('br0', { ns: host });
    expect(br.kind).toBe('bridge');
    for (const { ns, ip } of containers) {
      const eth0 = await getLink('eth0', { ns });
      expect(eth0.kind).toBe('veth');
      expect(eth0.flags.up).toBe(true);
      const hostEnd = await getLink(eth0.link!, { ns: host });
      expect(hostEnd.master).toBe(br.index);
      expect((await listAddresses({ ns, link: 'eth0', family: 'inet' })).map((a) => `${a.address}/${a.prefix}`)).toEqual([`${ip}/16`]);
      const def = (await listRoutes({ ns, family: 'inet' })).find((r) => r.dst === 'default');
      expect(def?.gateway).toBe('172.18.0.1');
      // The oracle agrees.
      expect(ipJson(ns, 'route', 'show', 'default')[0]).toMatchObject({ dst: 'default', gateway: '172.18.0.1', dev: 'eth0' });
      expect(ipJson(host, 'link', 'show', 'master', 'br0').map((l: { ifname: string }) => l.ifname)).toContain(hostEnd.name);
    }
  });

  it('carries TCP from c1 to c2 and from c2 to c1', async () => {
    const [c1, c2] = containers;
    expect(await exchange(c2.ns, c2.ip, c1.ns)).toBe(`hello -> ${c2.ip} from ${c1.ip}`);
    expect(await exchange(c1.ns, c1.ip, c2.ns)).toBe(`hello -> ${c1.ip} from ${c2.ip}`);
  });

  it('carries TCP from the host to a container and back', async () => {
    const [c1] = containers;
    expect(await exchange(c1.ns, c1.ip, host)).toBe(`hello -> ${c1.ip} from 172.18.0.1`);
    expect(await exchange(host, '172.18.0.1', c1.ns)).toBe(`hello -> 172.18.0.1 from ${c1.ip}`);
  });

  it('carries UDP between the containers', async () => {
    const [c1, c2] = containers;
    const a = await c1.ns.createDgram({ address: c1.ip, port: 9000 });
    const b = await c2.ns.createDgram({ address: c2.ip });
    a.on('message', (m, r) => a.send(`ack ${m}`, r.port, r.address));
    const got = once(b, 'message');
    b.send('ping', 9000, c1.ip);
    const [msg, rinfo] = (await got) as [Buffer, { address: string }];
    expect([`${msg}`, rinfo.address]).toEqual(['ack ping', c1.ip]);
    a.close();
    b.close();
  });
});
