// Shared by the integration tests. Importing this module refuses to run
// outside the sandbox (npm test → test/sandbox.mjs), so no test can touch
// the host's network.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Namespace } from '../src/namespace.js';

if (process.env.NETWEAVE_SANDBOX !== '1') {
  throw new Error('integration tests run only inside the sandbox: use `npm test` (test/sandbox.mjs)');
}

let counter = 0;
/** A name unique within this test process, short enough for an interface (≤ 15 bytes). */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid % 10000}${(counter++).toString(36)}`.slice(0, 15);
}

/**
 * Named namespaces for one test file, visible to `ip -n <name>` (the test
 * oracle). Call cleanup() in afterAll/afterEach.
 */
export class NsScope {
  private readonly made: Namespace[] = [];

  async create(prefix = 'nw'): Promise<Namespace> {
    const ns = await Namespace.create(uniqueName(prefix));
    this.made.push(ns);
    return ns;
  }

  async cleanup(): Promise<void> {
    for (const ns of this.made.splice(0)) await ns.delete().catch(() => {});
  }
}

/**
 * netweave's read next to the oracle's, taken while the kernel holds still:
 * the oracle is read before and after netweave, and again until both agree
 * (the kernel changes things of its own accord — an interface that comes up
 * gets an IPv6 link-local address, multicast routes and neighbours, and its
 * addresses leave DAD a moment later). `oracle` returns comparable values.
 */
export async function whileSteady<T, O>(ours: () => Promise<T>, oracle: () => O): Promise<{ ours: T; oracle: O }> {
  for (let attempt = 0; ; attempt++) {
    const before = oracle();
    const got = await ours();
    const after = oracle();
    if (JSON.stringify(before) === JSON.stringify(after) || attempt >= 10) return { ours: got, oracle: after };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** iproute2 as a test-only oracle: `ip -n <ns> -j <args>` parsed. The library never calls it. */
export function ipJson<T = any>(ns: Namespace | string | undefined, ...args: string[]): T {
  const name = typeof ns === 'string' ? ns : ns?.name;
  const argv = [...(name ? ['-n', name] : []), '-j', '-d', ...args];
  const out = execFileSync('ip', argv, { encoding: 'utf8' });
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** Runs `ip -n <ns> <args>` (to build fixtures with the reference tool). */
export function ipRun(ns: Namespace | string | undefined, ...args: string[]): string {
  const name = typeof ns === 'string' ? ns : ns?.name;
  return execFileSync('ip', [...(name ? ['-n', name] : []), ...args], { encoding: 'utf8' });
}

/** Whether this kernel can create links of a kind (probed in a throw-away namespace). */
const kinds = new Map<string, boolean>();
export function kernelHasLinkKind(kind: string): boolean {
  if (kinds.has(kind)) return kinds.get(kind)!;
  const ns = uniqueName('probe');
  execFileSync('ip', ['netns', 'add', ns]);
  let ok = true;
  try {
    const extra = kind === 'vlan' ? ['link', 'lo', 'type', 'vlan', 'id', '5'] : kind === 'ipvlan' || kind === 'macvlan' ? ['link', 'lo', 'type', kind] : ['type', kind];
    execFileSync('ip', ['-n', ns, 'link', 'add', ...(extra[0] === 'link' ? ['probe0', ...extra] : ['probe0', ...extra])], { stdio: 'pipe' });
  } catch (e: any) {
    ok = !/Unknown device type|not supported|Operation not supported/i.test(String(e.stderr ?? e.message));
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
  kinds.set(kind, ok);
  return ok;
}

/** How many of this process's descriptors are of a kind (`net:` a namespace, `socket:` a socket). */
export function openFdsOf(kind: 'net:' | 'socket:'): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(kind);
    } catch {
      return false;
    }
  }).length;
}

/** How many CPUs the kernel counts as possible (/sys/devices/system/cpu/possible, e.g. "0-1" or "0-3,8-11"). */
export function possibleCpus(): number {
  return readFileSync('/sys/devices/system/cpu/possible', 'utf8')
    .trim()
    .split(',')
    .reduce((n, r) => {
      const [a, b] = r.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
}
