// Builds the C reference programs (bench/c/*.c → bench/c/bin/, git-ignored)
// on demand and runs them; each prints one JSON line of results.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const cDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'c');
const binDir = join(cDir, 'bin');
export const CFLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra'];

/** Compiles bench/c/<name>.c if the binary is missing or older than the sources. Returns its path. */
export function buildC(name: string): string {
  const src = join(cDir, `${name}.c`);
  const bin = join(binDir, name);
  const deps = [src, ...readdirSync(cDir).filter((f) => f.endsWith('.h')).map((f) => join(cDir, f))];
  const newest = Math.max(...deps.map((f) => statSync(f).mtimeMs));
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest) return bin;
  mkdirSync(binDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    const r = execFileSync('gcc', [...CFLAGS, '-o', tmp, src], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.trim()) process.stderr.write(r);
  } catch (e: any) {
    throw new Error(`gcc failed for bench/c/${name}.c:\n${e.stderr ?? e.message}`);
  }
  renameSync(tmp, bin);
  return bin;
}

/** Runs a reference program and parses the JSON line it prints last. */
export async function runC<T = any>(name: string, args: (string | number)[] = []): Promise<T> {
  const bin = buildC(name);
  let stdout: string;
  try {
    ({ stdout } = await execFileP(bin, args.map(String), { maxBuffer: 16 << 20 }));
  } catch (e: any) {
    throw new Error(`bench/c/${name} failed (exit ${e.code}): ${(e.stderr || e.message).trim()}`);
  }
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`bench/c/${name} printed no JSON line: ${JSON.stringify(stdout.slice(-500))}`);
  }
}

/** The per-op summary the C programs print (json_samples in bench/c/nl.h). */
export interface CSamples {
  n: number;
  median_us: number;
  mean_us: number;
  p90_us: number;
  min_us: number;
  max_us: number;
}
