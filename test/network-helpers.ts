// Shared by the network integration tests: a small world of namespaces (a
// host with an uplink to an "outside" standing for the internet) and real
// traffic helpers — TCP and UDP servers and clients inside namespaces, DNS
// queries — all in this process.
import type net from 'node:net';
import dnsPacket from 'dns-packet';
import { addAddress } from '../src/address.js';
import { createVethPair } from '../src/link-kinds/index.js';
import { setLinkUp } from '../src/link.js';
import type { Namespace } from '../src/namespace.js';
import { addRoute } from '../src/route.js';
import { NsScope } from './helpers.js';

export const OUTSIDE_IP = '203.0.113.1';
export const HOST_IP = '203.0.113.2';

/** host (the machine networks live on) — up0 203.0.113.2/24 — wan0 203.0.113.1/24 — outside (the internet). */
export async function world(scope: NsScope): Promise<{ host: Namespace; outside: Namespace }> {
  const host = await scope.create('nwh');
  const outside = await scope.create('nwo');
  await createVethPair({ ns: host, name: 'up0', peer: { name: 'wan0', ns: outside }, up: true });
  await Promise.all([
    addAddress('up0', `${HOST_IP}/24`, { ns: host }),
    addAddress('wan0', `${OUTSIDE_IP}/24`, { ns: outside }),
    setLinkUp(1, { ns: host }),
    setLinkUp(1, { ns: outside }),
  ]);
  await addRoute({ dst: 'default', gateway: OUTSIDE_IP, ns: host });
  return { host, outside };
}

/** A TCP server in ns that answers every connection with `<tag> <the peer's address>` and closes. */
export async function tcpServer(ns: Namespace, port: number, tag: string, host?: string): Promise<net.Server> {
  const srv = ns.createServer((s) => s.end(`${tag} ${s.remoteAddress}\n`));
  await srv.listenAsync({ port, ...(host ? { host } : {}) });
  return srv;
}

/** Connects from ns, reads until the server closes; the text, trimmed. */
export async function ask(ns: Namespace, host: string, port: number, timeout = 3000): Promise<string> {
  const s = await ns.connect({ host, port, timeout });
  let data = '';
  s.setEncoding('utf8');
  for await (const chunk of s) data += chunk;
  return data.trim();
}

/** Whether a TCP connection from ns to host:port fails within `timeout` ms (dropped or refused). */
export async function unreachable(ns: Namespace, host: string, port: number, timeout = 500): Promise<boolean> {
  try {
    const s = await ns.connect({ host, port, timeout });
    s.destroy();
    return false;
  } catch {
    return true;
  }
}

/** A UDP echo in ns: answers `<tag> <peer address>` to every datagram. */
export async function udpEcho(ns: Namespace, port: number, tag: string): Promise<{ close(): void }> {
  const u = await ns.createDgram({ port });
  u.on('message', (m, r) => u.send(`${tag} ${r.address} ${m}`, r.port, r.address));
  return { close: () => u.close() };
}

/** Sends one datagram from ns and waits for the answer. */
export async function udpAsk(ns: Namespace, host: string, port: number, text: string, timeout = 3000): Promise<string> {
  const u = await ns.createDgram({});
  try {
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no UDP answer from ${host}:${port}`)), timeout);
      u.once('message', (m) => {
        clearTimeout(t);
        resolve(m.toString());
      });
      u.send(text, port, host);
    });
  } finally {
    u.close();
  }
}

/** An A query from inside ns to its resolver (127.0.0.11:53 by default): the addresses answered, or the rcode name. */
export async function resolveA(ns: Namespace, name: string, server = '127.0.0.11', port = 53, timeout = 3000): Promise<string[] | string> {
  const u = await ns.createDgram({});
  try {
    const id = Math.floor(Math.random() * 65535);
    const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
    const reply = await new Promise<dnsPacket.DecodedPacket>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no DNS answer for ${name} from ${server}`)), timeout);
      u.on('message', (m) => {
        const p = dnsPacket.decode(m);
        if (p.id !== id) return;
        clearTimeout(t);
        resolve(p);
      });
      u.send(q, port, server);
    });
    const answers = (reply.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
    return answers.length ? answers : ((reply as { rcode?: string }).rcode ?? 'NOERROR');
  } finally {
    u.close();
  }
}

export { NsScope };
