// `npm start`: a Docker bridge network built from scratch with netweave, in
// a throw-away sandbox namespace (test/sandbox.mjs), each step proven with
// real traffic, then torn down. No shell, no ip, no nft.
//
//   node test/sandbox.mjs --run 'npx tsx demo/main.ts'
import dnsPacket from 'dns-packet';
import type net from 'node:net';
import { addAddress } from '../src/address.js';
import { createVethPair } from '../src/link-kinds/index.js';
import { deleteLink, listLinks, setLinkUp } from '../src/link.js';
import { Namespace } from '../src/namespace.js';
import { addRoute } from '../src/route.js';
import { closeNetworks, configureNetworkDns, createNetwork, defaultNetwork, removeNetwork, type Network } from '../src/network/index.js';

if (process.env.NETWEAVE_SANDBOX !== '1') {
  console.error('The demo builds networks: run it in the sandbox — npm start (node test/sandbox.mjs --run "npx tsx demo/main.ts")');
  process.exit(2);
}

const INTERNET = '203.0.113.1';
const HOST = '203.0.113.2';
const host = Namespace.current();
const made: Namespace[] = [];
const servers: { close(): unknown }[] = [];
const timings: [string, number, string][] = [];

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);

async function step<T>(title: string, fn: () => Promise<{ value: T; proof: string }>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const { value, proof } = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  timings.push([title, ms, proof]);
  console.log(`${green('✔')} ${bold(title)} ${dim(`(${ms.toFixed(1)} ms)`)}\n    ${proof}`);
  return value;
}

async function ns(name: string): Promise<Namespace> {
  const n = await Namespace.create(`demo-${name}`);
  made.push(n);
  return n;
}

/** A TCP server that tells each client who it is and where the connection came from. */
async function whoami(where: Namespace, port: number, name: string, address?: string): Promise<void> {
  const s = where.createServer((c: net.Socket) => c.end(`${name} sees you as ${c.remoteAddress}`));
  await s.listenAsync({ port, ...(address ? { host: address } : {}) });
  servers.push(s);
}

async function ask(from: Namespace, address: string, port: number, timeout = 2000): Promise<string> {
  const s = await from.connect({ host: address, port, timeout });
  let text = '';
  s.setEncoding('utf8');
  for await (const chunk of s) text += chunk;
  return text.trim();
}

async function resolve(from: Namespace, name: string): Promise<string> {
  const u = await from.createDgram({});
  try {
    const q = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
    const answer = await new Promise<dnsPacket.DecodedPacket>((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`no DNS answer for ${name}`)), 2000);
      u.once('message', (m) => {
        clearTimeout(t);
        ok(dnsPacket.decode(m));
      });
      u.send(q, 53, '127.0.0.11');
    });
    const a = (answer.answers ?? []).find((x) => x.type === 'A');
    if (!a || a.type !== 'A') throw new Error(`${name} did not resolve`);
    return a.data;
  } finally {
    u.close();
  }
}

async function main(): Promise<void> {
  console.log(bold('\nnetweave — a Docker bridge network from scratch, over rtnetlink and nftables\n'));
  const t0 = process.hrtime.bigint();

  const internet = await step('an "internet" namespace, and the host\'s uplink to it', async () => {
    const inet = await ns('internet');
    await createVethPair({ name: 'uplink0', peer: { name: 'isp0', ns: inet }, up: true });
    await Promise.all([addAddress('uplink0', `${HOST}/24`), addAddress('isp0', `${INTERNET}/24`, { ns: inet }), setLinkUp(1), setLinkUp(1, { ns: inet })]);
    await addRoute({ dst: 'default', gateway: INTERNET });
    await whoami(inet, 80, 'internet server', INTERNET);
    return { value: inet, proof: `host → ${INTERNET}:80: "${await ask(host, INTERNET, 80)}"` };
  });

  const bridge = await step('the default network "bridge" (nw0, 172.17.0.0/16): routing, masquerade', async () => {
    const n = await defaultNetwork();
    return { value: n, proof: `network ${n.id.slice(0, 12)}, bridge ${n.interface}, gateway ${n.gateway}` };
  });

  const [c1, c2, e1] = await step('two containers on it: veth pairs born inside, addresses, default routes', async () => {
    const a = await ns('c1');
    const b = await ns('c2');
    const ea = await bridge.connect(a, { name: 'c1' });
    await bridge.connect(b, { name: 'c2' });
    await whoami(a, 80, 'c1');
    return { value: [a, b, ea] as const, proof: `c2 → ${ea.ip}:80: "${await ask(b, ea.ip!, 80)}"` };
  });

  await step('NAT to the outside: the internet sees the host, not the container', async () => ({
    value: undefined,
    proof: `c1 (${e1.ip}) → ${INTERNET}:80: "${await ask(c1, INTERNET, 80)}"`,
  }));

  const published = await step('a published port: -p 8080:80 on c1', async () => {
    const [p] = await bridge.publish(e1, '8080:80');
    return { value: p, proof: `internet → ${HOST}:${p.hostPort}: "${await ask(internet, HOST, p.hostPort)}"` };
  });

  // Names that are not on a network go upstream; the internet namespace answers them here.
  const upstream = await internet.createDgram({ address: INTERNET, port: 53 });
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const answers = (q.questions ?? []).map((x) => ({ type: 'A' as const, name: x.name, ttl: 60, data: INTERNET }));
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), r.port, r.address);
  });
  servers.push(upstream);
  configureNetworkDns({ upstream: [INTERNET] });

  const [appnet, api, eApi] = await step('a user-defined network "appnet" with DNS: containers find each other by name', async () => {
    const n = await createNetwork({ name: 'appnet' });
    const a = await ns('api');
    const c = await ns('client');
    const ea = await n.connect(a, { name: 'api', aliases: ['backend'] });
    await n.connect(c, { name: 'client' });
    await whoami(a, 80, 'api');
    const ip = await resolve(c, 'backend');
    const viaUpstream = await resolve(c, 'example.com');
    return {
      value: [n, a, ea] as const,
      proof: `client: backend → ${ip}; → ${ip}:80: "${await ask(c, ip, 80)}"; example.com → ${viaUpstream} (forwarded upstream)`,
    };
  });

  await step('networks are isolated from each other', async () => {
    const blocked = await ask(c2, eApi.ip!, 80, 300).then(
      () => 'reached it (unexpected!)',
      (e: Error & { code?: string }) => `blocked (${e.code ?? e.message})`,
    );
    return { value: undefined, proof: `c2 (bridge) → api (appnet) ${eApi.ip}:80: ${blocked} — the time here is that 300 ms timeout; api → internet: "${await ask(api, INTERNET, 80)}"` };
  });

  const totalBuild = Number(process.hrtime.bigint() - t0) / 1e6;
  await printTree([bridge, appnet], { [e1.id]: `published ${published.hostIp ?? '0.0.0.0'}:${published.hostPort} → :80` });

  console.log(bold('\nTimings'));
  const w = Math.max(...timings.map(([t]) => t.length));
  for (const [title, ms] of timings) console.log(`  ${title.padEnd(w)}  ${ms.toFixed(1).padStart(7)} ms`);
  console.log(`  ${'total'.padEnd(w)}  ${totalBuild.toFixed(1).padStart(7)} ms`);

  const tClean = process.hrtime.bigint();
  for (const s of servers) s.close();
  await removeNetwork(appnet, { force: true });
  await removeNetwork(bridge, { force: true });
  await closeNetworks();
  for (const n of made) await n.delete();
  await deleteLink('uplink0'); // its peer's namespace is gone, but the kernel frees that later
  const left = (await listLinks()).map((l) => l.name);
  console.log(`\n${green('✔')} ${bold('cleaned up')} ${dim(`(${(Number(process.hrtime.bigint() - tClean) / 1e6).toFixed(1)} ms)`)} — links left here: ${left.join(', ')}`);
}

async function printTree(nets: Network[], notes: Record<string, string>): Promise<void> {
  console.log(bold('\nWhat was built') + dim(' (read back from the kernel)'));
  const links = await listLinks();
  const up = links.find((l) => l.name === 'uplink0');
  console.log(`host ${dim('(this namespace)')}`);
  console.log(`├── uplink0 ${HOST}/24 ${dim(`#${up?.index}`)} ── internet ${INTERNET}`);
  for (const [i, n] of nets.entries()) {
    const last = i === nets.length - 1;
    const info = await n.inspect();
    const flags = [info.default ? 'default' : '', info.dns ? 'dns' : '', info.healthy ? 'healthy' : 'UNHEALTHY'].filter(Boolean).join(', ');
    console.log(`${last ? '└' : '├'}── ${info.interface} bridge ${info.gateway}/${info.subnet!.split('/')[1]}  network "${info.name}" ${dim(`${info.id.slice(0, 12)}, ${flags}`)}`);
    for (const [j, e] of info.endpoints.entries()) {
      const pad = last ? '    ' : '│   ';
      const note = notes[e.id] ? `  ${notes[e.id]}` : '';
      console.log(`${pad}${j === info.endpoints.length - 1 ? '└' : '├'}── ${e.hostInterface} ══ ${e.name}: ${e.interface} ${e.address} ${dim(e.mac ?? '')}${e.aliases.length ? dim(` aka ${e.aliases.join(', ')}`) : ''}${note}`);
    }
  }
  console.log(dim('(the same view from a shell: npx tsx src/cli.ts network inspect bridge appnet)'));
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    console.error(`\ndemo failed: ${(e as Error).stack ?? e}`);
    for (const s of servers) s.close();
    await closeNetworks().catch(() => {});
    for (const n of made) await n.delete().catch(() => {});
    process.exit(1);
  },
);
