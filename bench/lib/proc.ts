// Spawning the reference tools (ip, nft) and named namespaces for them. The
// library itself never does this; benches use it only as a reference and to
// build fixtures, always inside namespaces they create.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** Runs cmd with `input` on stdin (ip -batch -, nft -f -); rejects on a non-zero exit. */
export function runWithInput(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
    p.stdin.end(input);
  });
}

/** `ip <args>`, synchronously, for setup and teardown (untimed). */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (e: any) {
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

let counter = 0;
/** A namespace name unique to this run: nwb-<tag>-<pid>-<n>. */
export function nsName(tag: string): string {
  return `nwb-${tag}-${process.pid}-${counter++}`;
}

/** A named namespace (ip netns add) with lo up; delete it with delNetns. */
export function addNetns(tag: string): string {
  const name = nsName(tag);
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

export function delNetns(name: string): void {
  try {
    ip('netns', 'del', name);
  } catch {
    // already gone
  }
}

/**
 * Waits until the kernel has finished cleaning up namespaces dropped so far
 * (their cleanup is asynchronous and would disturb the next measurement).
 * A throw-away namespace gets a veth whose other end sits in a second one;
 * cleanup runs in order, so once that end disappears the earlier ones are done.
 */
export async function settleNetns(timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  const home = addNetns('settle');
  const gone = addNetns('settle');
  try {
    ip('-n', home, 'link', 'add', 'nwsettle', 'type', 'veth', 'peer', 'name', 'x', 'netns', gone);
    ip('netns', 'del', gone);
    while (Date.now() - t0 < timeoutMs) {
      if (!ip('-n', home, '-o', 'link', 'show').includes('nwsettle')) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`namespace cleanup did not finish within ${timeoutMs} ms`);
  } finally {
    delNetns(home);
    delNetns(gone);
  }
}
