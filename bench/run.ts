// The bench harness: `npm run bench` (inside the sandbox) or
//   node test/sandbox.mjs --run 'npx tsx bench/run.ts [name…]'
// Runs the named benches (default all), builds the C references on demand,
// prints a table per bench (netweave, reference, ratio, target, verdict) and
// writes every figure to bench/results/latest.json. Benches are not tests:
// a missed target is reported, not failed; only a bench that could not
// measure makes the exit status non-zero.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import addr from './addr.js';
import container from './container.js';
import getlink from './getlink.js';
import links from './links.js';
import { settleNetns } from './lib/proc.js';
import { judge, LEGEND, table, type Bench, type JudgedRow } from './lib/report.js';
import nft from './nft.js';
import veth from './veth.js';

const benches: Bench[] = [getlink, addr, veth, container, nft, links];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('--list')) {
  console.log('usage: bench/run.ts [name…]   (inside the sandbox: npm run bench)\n');
  for (const b of benches) console.log(`  ${b.name.padEnd(10)} ${b.description}`);
  process.exit(0);
}
if (process.env.NETWEAVE_SANDBOX !== '1') {
  console.error('benches create links and namespaces: run them inside the sandbox, `npm run bench` (test/sandbox.mjs)');
  process.exit(2);
}
const unknown = args.filter((a) => !benches.some((b) => b.name === a));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = args.length ? benches.filter((b) => args.includes(b.name)) : benches;

interface Outcome {
  description: string;
  seconds: number;
  rows?: JudgedRow[];
  raw?: Record<string, unknown>;
  notes?: string[];
  error?: string;
}

const started = new Date();
const load = os.loadavg();
console.log(
  `netweave benches — node ${process.version}, kernel ${os.release()}, ${os.cpus().length} cpus, ` +
    `load ${load.map((l) => l.toFixed(2)).join(' ')} (figures are noisy when other work runs)`,
);
console.log(LEGEND);
const results: Record<string, Outcome> = {};
let failed = 0;
for (const b of selected) {
  console.log(`\n${b.name} — ${b.description}`);
  const t0 = Date.now();
  try {
    const r = await b.run();
    const rows = r.rows.map(judge);
    results[b.name] = { description: b.description, seconds: (Date.now() - t0) / 1000, rows, raw: r.raw, notes: r.notes };
    console.log(table(rows));
    for (const n of r.notes ?? []) console.log(`  ${n}`);
  } catch (e: any) {
    failed++;
    results[b.name] = { description: b.description, seconds: (Date.now() - t0) / 1000, error: String(e?.stack ?? e) };
    console.log(`  ERROR: ${e?.message ?? e}`);
  }
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  // Namespaces dropped by this bench are freed asynchronously: wait, so
  // the kernel's cleanup does not land in the next bench's figures.
  await settleNetns().catch((e) => console.log(`  settle: ${e.message}`));
}

const all = Object.values(results).flatMap((r) => r.rows ?? []);
const count = (s: string) => all.filter((r) => r.status === s).length;
console.log(
  `\n${count('pass')} pass, ${count('MISS')} miss, ${count('pending')} pending` +
    (failed ? `, ${failed} bench(es) failed to run` : '') +
    ` — ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`,
);

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      started: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      node: process.version,
      kernel: os.release(),
      cpus: os.cpus().length,
      loadavg: load,
      benches: results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`results: ${out}`);
// Sockets opened by the benches keep the loop alive; the figures are out.
process.exit(failed ? 1 : 0);
