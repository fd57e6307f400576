// The CLI, run as a separate process (tsx) inside the sandbox: every run is
// stateless and must find what earlier runs made through the kernel. Its
// output is checked against the kernel (ip -j, the firewall read back) and
// the network it builds is checked with traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listPublishedPorts } from '../src/firewall/index.js';
import type { Namespace } from '../src/namespace.js';
import { closeNetworks } from '../src/network/index.js';
import { ipJson } from './helpers.js';
import { ask, NsScope, tcpServer } from './network-helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const scope = new NsScope();
let host: Namespace;
let k1: Namespace;
let k2: Namespace;
const closers: { close(): unknown }[] = [];

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string; json: any } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--ns', host.name!, ...args], { encoding: 'utf8' });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

beforeAll(async () => {
  host = await scope.create('nwh');
  k1 = await scope.create('nwk');
  k2 = await scope.create('nwk');
});

afterAll(async () => {
  for (const c of closers) await c.close();
  await closeNetworks({ ns: host });
  await scope.cleanup();
});

describe('netweave CLI', () => {
  let netId: string;

  it('creates a network and lists it (stateless: the second run finds the first run\'s network in the kernel)', () => {
    const made = cli('network', 'create', '--subnet', '10.123.0.0/24', '-o', 'com.docker.network.bridge.name=brcli', 'clinet');
    expect(made.code, made.stderr).toBe(0);
    netId = made.stdout.trim();
    expect(netId).toMatch(/^[0-9a-f]{16}$/);
    const [br] = ipJson(host, 'addr', 'show', 'dev', 'brcli');
    expect(br.ifalias).toBe(`nw1n i=${netId} n=clinet d=bridge s=10.123.0.0/24 g=10.123.0.1 o.bridge=brcli`);
    const ls = cli('--json', 'network', 'ls');
    expect(ls.code).toBe(0);
    expect(ls.json.map((n: { name: string }) => n.name)).toEqual(['clinet', 'host', 'none']);
    const text = cli('network', 'ls');
    expect(text.stdout.split('\n')[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\s+SUBNET\s+ENDPOINTS$/);
    expect(text.stdout).toMatch(new RegExp(`${netId.slice(0, 12)}\\s+clinet\\s+bridge\\s+local\\s+10.123.0.0/24\\s+0`));
  });

  it('connects named namespaces, publishes a port; traffic flows as printed', async () => {
    const a = cli('--json', 'connect', '--name', 'web', '--alias', 'www', 'clinet', k1.name!);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json).toMatchObject({ name: 'web', aliases: ['www'], ip: '10.123.0.2', interface: 'eth0', network: 'clinet' });
    const b = cli('--json', 'connect', '--ip', '10.123.0.77', 'clinet', k2.name!);
    expect(b.json.ip).toBe('10.123.0.77');
    expect(ipJson(k1, 'addr', 'show', 'dev', 'eth0')[0].addr_info[0].local).toBe('10.123.0.2');
    closers.push(await tcpServer(k1, 80, 'k1'));
    expect(await ask(k2, '10.123.0.2', 80)).toBe('k1 10.123.0.77');
    const p = cli('publish', 'clinet', 'web', '8088:80');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe('0.0.0.0:8088/tcp -> 10.123.0.2:80\n');
    expect((await listPublishedPorts({ ns: host })).find((x) => x.hostPort === 8088)).toMatchObject({ to: { address: '10.123.0.2', port: 80 }, tag: `nw:${netId}:${a.json.id}` });
  });

  it('inspects from the kernel', () => {
    const r = cli('--json', 'network', 'inspect', 'clinet');
    expect(r.code).toBe(0);
    const [n] = r.json;
    expect(n).toMatchObject({ name: 'clinet', id: netId, healthy: true, interface: 'brcli', dns: true });
    expect(n.endpoints.map((e: { name: string; ip: string; healthy: boolean }) => [e.name, e.ip, e.healthy])).toEqual(
      expect.arrayContaining([
        ['web', '10.123.0.2', true],
        [expect.any(String), '10.123.0.77', true],
      ]),
    );
    expect(n.ports).toEqual([expect.objectContaining({ hostPort: 8088 })]);
  });

  it('shows links, addresses and routes as the kernel has them', () => {
    const links = cli('--json', 'links').json;
    expect(links.map((l: { name: string }) => l.name).sort()).toEqual(ipJson(host, 'link', 'show').map((l: { ifname: string }) => l.ifname).sort());
    const text = cli('links').stdout;
    expect(text).toMatch(/\d+: brcli: <[A-Z,]*UP[A-Z,]*> mtu 1500 state UP group \d+ bridge/);
    expect(text).toMatch(/nwe[0-9a-f]{12}@if\d+: .* master brcli/);
    const addrs = cli('addrs').stdout;
    expect(addrs).toMatch(/brcli\s+inet\s+10\.123\.0\.1\/24\s+scope global/);
    const routes = cli('--json', 'routes').json;
    expect(routes).toContainEqual(expect.objectContaining({ dst: '10.123.0.0/24', src: '10.123.0.1' }));
  });

  it('reports refusals with their codes and exit status 1, usage errors with 2', () => {
    const busy = cli('--json', 'network', 'rm', 'clinet');
    expect(busy.code).toBe(1);
    expect(JSON.parse(busy.stderr)).toMatchObject({ code: 'EBUSY', name: 'NetworkError' });
    const dup = cli('network', 'create', 'clinet');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/EEXIST network clinet already exists/);
    expect(cli('network', 'frobnicate').code).toBe(2);
    expect(cli('network', 'create', '--bogus', 'x').code).toBe(2);
    expect(cli('network', 'ls', '--subnet', '10.0.0.0/8').code).toBe(2);
  });

  it('removes with -f: the bridge, the endpoints and the published port go', async () => {
    const r = cli('network', 'rm', '-f', 'clinet');
    expect(r.code, r.stderr).toBe(0);
    expect(ipJson(host, 'link', 'show').map((l: { ifname: string }) => l.ifname)).toEqual(['lo']);
    expect(ipJson(k1, 'link', 'show').map((l: { ifname: string }) => l.ifname)).toEqual(['lo']);
    expect((await listPublishedPorts({ ns: host })).some((p) => p.hostPort === 8088)).toBe(false);
    expect(cli('network', 'prune').stdout).toBe('nothing to prune\n');
  });
});
