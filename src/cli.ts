#!/usr/bin/env node
// `netweave` — the network layer from a shell, stateless: every command
// reads the kernel (loadNetworks) and changes it; nothing is kept between
// runs. An `ip`-style read-only view (links, addrs, routes) for debugging.
//
//   netweave [--ns NAME] [--json] network ls|inspect|create|rm|prune …
//   netweave [--ns NAME] [--json] connect|disconnect|publish …
//   netweave [--ns NAME] [--json] links|addrs|routes
//
// --ns names the namespace the networks live in (/run/netns/NAME, like
// `ip -n`); default the one the command runs in. A container is a
// /run/netns name or a pid. Exit status: 0 done, 1 refused or failed, 2 usage.
import { parseArgs } from 'node:util';
import { listAddresses, type Address } from './address.js';
import { listLinks, type Link } from './link.js';
import { Namespace } from './namespace.js';
import { listRoutes, type Route } from './route.js';
import { closeNetworks, createNetwork, getNetwork, listNetworks, loadNetworks, pruneNetworks, removeNetwork, type Network, type NetworkInspect } from './network/index.js';

const USAGE = `usage: netweave [--ns NAME] [--json] COMMAND

Networks (docker network …):
  network ls                                   list networks
  network inspect NETWORK…                     details, checked against the kernel
  network create [-d DRIVER] [--subnet CIDR] [--gateway IP] [--ip-range CIDR]
                 [--internal] [-o KEY=VALUE]… NAME
  network rm [-f] NETWORK…                     remove (-f: with its endpoints)
  network prune                                remove what crashes left half-made

Containers (a /run/netns name or a pid):
  connect [--ip IP] [--alias NAME]… [--name NAME] [--ifname IF] [--mac MAC] NETWORK CONTAINER
  disconnect NETWORK ENDPOINT                  ENDPOINT: its name or id
  publish NETWORK ENDPOINT SPEC…               SPEC as docker -p: 80, 8080:80, 127.0.0.1:8080:80/udp

Read-only views (like ip):
  links | addrs | routes

Options:
  --ns NAME   the namespace the networks live in (default: the current one)
  --json      machine-readable output
`;

class UsageError extends Error {}

const OPTIONS = {
  ns: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  driver: { type: 'string', short: 'd' },
  subnet: { type: 'string' },
  gateway: { type: 'string' },
  'ip-range': { type: 'string' },
  internal: { type: 'boolean' },
  opt: { type: 'string', short: 'o', multiple: true },
  force: { type: 'boolean', short: 'f' },
  ip: { type: 'string' },
  alias: { type: 'string', multiple: true },
  name: { type: 'string' },
  ifname: { type: 'string' },
  mac: { type: 'string' },
} as const;

function parse() {
  try {
    return parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    process.stderr.write(`netweave: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const args = parse();

const json = args.values.json === true;
const out = (v: unknown, text: () => string) => process.stdout.write(json ? `${JSON.stringify(v, null, 2)}\n` : text());

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n') + '\n';
}

function allowed(cmd: string, flags: string[]): void {
  const global = ['ns', 'json', 'help'];
  for (const k of Object.keys(args.values)) {
    if (!global.includes(k) && !flags.includes(k)) throw new UsageError(`${cmd}: --${k} does not apply`);
  }
}

function positionals(cmd: string, min: number, max = min): string[] {
  const p = args.positionals.slice(cmd.split(' ').length);
  if (p.length < min || p.length > max) throw new UsageError(`${cmd}: expected ${min === max ? min : `${min}..${max === Infinity ? 'more' : max}`} argument(s), got ${p.length}`);
  return p;
}

function options(list: string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`-o ${kv}: expected KEY=VALUE`);
    o[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return o;
}

function container(ref: string): number | string {
  return /^\d+$/.test(ref) ? Number(ref) : ref;
}

function flagsText(l: Link): string {
  return Object.entries(l.flags)
    .filter(([, v]) => v)
    .map(([k]) => k.toUpperCase())
    .join(',');
}

function routeText(r: Route, names: Map<number, string>): string {
  let s = r.dst;
  if (r.gateway) s += ` via ${r.gateway}`;
  if (r.dev !== undefined) s += ` dev ${names.get(r.dev) ?? r.dev}`;
  if (typeof r.protocol === 'string' && r.protocol !== 'boot') s += ` proto ${r.protocol}`;
  if (r.scope !== 'global') s += ` scope ${r.scope}`;
  if (r.src) s += ` src ${r.src}`;
  if (r.metric !== undefined) s += ` metric ${r.metric}`;
  return s;
}

async function main(): Promise<void> {
  if (args.values.help || args.positionals.length === 0) {
    process.stdout.write(USAGE);
    return;
  }
  const ns = args.values.ns === undefined ? undefined : Namespace.open(args.values.ns);
  const nsOpt = ns ? { ns } : {};
  const [cmd, sub] = args.positionals;
  try {
    if (cmd === 'network') {
      if (sub === 'ls') {
        allowed('network ls', []);
        positionals('network ls', 0);
        const nets = await listNetworks(nsOpt);
        out(nets, () =>
          table([
            ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE', 'SUBNET', 'ENDPOINTS'],
            ...nets.map((n) => [n.id.slice(0, 12), n.name, n.driver, 'local', n.subnet ?? '', String(n.endpoints.length)]),
          ]),
        );
      } else if (sub === 'inspect') {
        allowed('network inspect', []);
        const refs = positionals('network inspect', 1, Infinity);
        await loadNetworks(nsOpt);
        const all: NetworkInspect[] = [];
        for (const ref of refs) all.push(await (await getNetwork(ref, nsOpt)).inspect());
        out(all, () =>
          all
            .map((n) => {
              let s = `${n.name}  ${n.id}  ${n.driver}${n.default ? ' (default)' : ''}${n.internal ? ' internal' : ''}  ${n.healthy ? 'healthy' : 'UNHEALTHY'}\n`;
              if (n.subnet) s += `  subnet ${n.subnet}${n.gateway ? `  gateway ${n.gateway}` : ''}${n.ipRange ? `  ip-range ${n.ipRange}` : ''}\n`;
              if (n.interface) s += `  interface ${n.interface}${n.linkGroup !== undefined ? `  link group ${n.linkGroup}` : ''}  dns ${n.dns ? 'on' : 'off'}\n`;
              for (const [k, v] of Object.entries(n.options)) s += `  option ${k}=${v}\n`;
              for (const p of n.problems) s += `  problem: ${p}\n`;
              for (const e of n.endpoints) {
                s += `  endpoint ${e.name} ${e.id.slice(0, 12)}  ${e.address ?? ''}  ${e.mac ?? ''}  ${e.interface ?? ''}${e.hostInterface ? ` (host ${e.hostInterface})` : ''}${e.aliases.length ? `  aliases ${e.aliases.join(',')}` : ''}  ${e.healthy ? 'ok' : 'UNHEALTHY'}\n`;
                for (const p of e.ports) s += `    port ${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.protocol} -> ${p.to.address}:${p.to.port}\n`;
                for (const p of e.problems) s += `    problem: ${p}\n`;
              }
              for (const i of n.incomplete) s += `  incomplete ${i.link}${i.ip ? ` ${i.ip}` : ''}: ${i.reason}\n`;
              return s;
            })
            .join('\n'),
        );
      } else if (sub === 'create') {
        allowed('network create', ['driver', 'subnet', 'gateway', 'ip-range', 'internal', 'opt']);
        const [name] = positionals('network create', 1);
        const v = args.values;
        const net = await createNetwork({
          ...nsOpt,
          name,
          ...(v.driver ? { driver: v.driver } : {}),
          ...(v.subnet ? { subnet: v.subnet } : {}),
          ...(v.gateway ? { gateway: v.gateway } : {}),
          ...(v['ip-range'] ? { ipRange: v['ip-range'] } : {}),
          ...(v.internal ? { internal: true } : {}),
          ...(v.opt ? { options: options(v.opt) } : {}),
        });
        out(net, () => `${net.id}\n`);
      } else if (sub === 'rm') {
        allowed('network rm', ['force']);
        const refs = positionals('network rm', 1, Infinity);
        for (const ref of refs) await removeNetwork(ref, { ...nsOpt, force: args.values.force === true });
        out(refs, () => refs.map((r) => `${r}\n`).join(''));
      } else if (sub === 'prune') {
        allowed('network prune', []);
        positionals('network prune', 0);
        const report = await pruneNetworks(nsOpt);
        out(report, () =>
          [
            ...report.links.map((l) => `removed link ${l.name}: ${l.reason}\n`),
            ...report.ports.map((p) => `unpublished ${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.protocol} (${p.tag})\n`),
            ...report.masquerades.map((m) => `removed masquerade ${m.source}\n`),
            ...report.isolations.map((i) => `removed isolation ${i.a} ${i.b}\n`),
          ].join('') || 'nothing to prune\n',
        );
      } else {
        throw new UsageError(`network ${sub ?? ''}: expected ls, inspect, create, rm or prune`);
      }
    } else if (cmd === 'connect') {
      allowed('connect', ['ip', 'alias', 'name', 'ifname', 'mac']);
      const [netRef, target] = positionals('connect', 2);
      const v = args.values;
      await loadNetworks(nsOpt);
      const net: Network = await getNetwork(netRef, nsOpt);
      const ep = await net.connect(net.driver === 'host' ? undefined : container(target), {
        ...(v.ip ? { ip: v.ip } : {}),
        ...(v.alias ? { aliases: v.alias } : {}),
        ...(v.name ? { name: v.name } : {}),
        ...(v.ifname ? { interfaceName: v.ifname } : {}),
        ...(v.mac ? { mac: v.mac } : {}),
        dns: false,
      });
      out(ep, () => `${ep.id}  ${ep.name}  ${ep.address ?? ''}  ${ep.interface ?? ''}\n`);
    } else if (cmd === 'disconnect') {
      allowed('disconnect', []);
      const [netRef, epRef] = positionals('disconnect', 2);
      await loadNetworks(nsOpt);
      const net = await getNetwork(netRef, nsOpt);
      await net.disconnect(epRef);
      out({ disconnected: epRef }, () => `${epRef}\n`);
    } else if (cmd === 'publish') {
      allowed('publish', []);
      const [netRef, epRef, ...specs] = positionals('publish', 3, Infinity);
      await loadNetworks(nsOpt);
      const net = await getNetwork(netRef, nsOpt);
      const ports = await net.publish(epRef, specs);
      out(ports, () => ports.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.protocol} -> ${p.to.address}:${p.to.port}\n`).join(''));
    } else if (cmd === 'links') {
      allowed('links', []);
      positionals('links', 0);
      const links = await listLinks(nsOpt);
      const names = new Map(links.map((l) => [l.index, l.name]));
      out(links, () =>
        links
          .map((l) => {
            let s = `${l.index}: ${l.name}${l.link ? `@${l.linkNetnsId === undefined ? names.get(l.link) ?? `if${l.link}` : `if${l.link}`}` : ''}: <${flagsText(l)}> mtu ${l.mtu}`;
            if (l.master) s += ` master ${names.get(l.master) ?? l.master}`;
            s += ` state ${String(l.operstate).toUpperCase()}`;
            if (l.group) s += ` group ${l.group}`;
            if (l.kind) s += ` ${l.kind}`;
            if (l.mac) s += `\n    link/ether ${l.mac}`;
            if (l.linkNetnsId !== undefined) s += ` link-netnsid ${l.linkNetnsId}`;
            if (l.alias) s += `\n    alias ${l.alias}`;
            return `${s}\n`;
          })
          .join(''),
      );
    } else if (cmd === 'addrs') {
      allowed('addrs', []);
      positionals('addrs', 0);
      const [links, addrs] = await Promise.all([listLinks(nsOpt), listAddresses(nsOpt)]);
      const names = new Map(links.map((l) => [l.index, l.name]));
      out(addrs, () => table(addrs.map((a: Address) => [`${a.ifindex}: ${names.get(a.ifindex) ?? '?'}`, a.family, a.cidr, `scope ${a.scope}`])));
    } else if (cmd === 'routes') {
      allowed('routes', []);
      positionals('routes', 0);
      const [links, routes] = await Promise.all([listLinks(nsOpt), listRoutes(nsOpt)]);
      const names = new Map(links.map((l) => [l.index, l.name]));
      out(routes, () => routes.map((r) => `${routeText(r, names)}\n`).join(''));
    } else {
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } finally {
    await closeNetworks(nsOpt);
    ns?.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`netweave: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const err = e as Error & { code?: string };
    if (json) process.stderr.write(`${JSON.stringify({ error: err.message, code: err.code ?? null, name: err.name })}\n`);
    else process.stderr.write(`netweave: ${err.message}\n`);
    process.exit(1);
  },
);
