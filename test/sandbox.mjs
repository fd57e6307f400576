#!/usr/bin/env node
// Runs the test suite (or --run '<command>') inside a throw-away network and
// mount namespace: the host network is never touched, and /run/netns is a
// private tmpfs there, so named namespaces vanish with the run. Checks that
// the host's interfaces are the same before and after.
//
//   node test/sandbox.mjs [vitest args...]
//   node test/sandbox.mjs --run 'npx tsx bench/run.ts'
//
// Without root it tries a user namespace (unshare --user --map-root-user).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let command;
if (args[0] === '--run') command = args[1];
else command = ['npx', 'vitest', 'run', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

function hostLinks() {
  return readdirSync('/sys/class/net')
    .map((n) => `${n}#${readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim()}`)
    .sort()
    .join(' ');
}

const root = process.getuid?.() === 0;
// /run/netns must exist as a mount point target; `ip netns add` creates the
// same empty directory. The tmpfs on it lives only in the sandbox.
if (root && !existsSync('/run/netns')) mkdirSync('/run/netns', { recursive: true, mode: 0o755 });
const netnsDir = root || existsSync('/run/netns') ? '/run/netns' : null;

const inner = [
  netnsDir ? `mount -t tmpfs -o mode=755 netweave-sandbox ${netnsDir}` : 'true',
  // A fresh namespace has lo down.
  'ip link set lo up',
  `exec ${command}`,
].join(' && ');

const unshare = ['--net', '--mount', '--propagation', 'private'];
if (!root) unshare.unshift('--user', '--map-root-user');

const before = hostLinks();
const r = spawnSync('unshare', [...unshare, '--', 'sh', '-c', inner], {
  stdio: 'inherit',
  env: { ...process.env, NETWEAVE_SANDBOX: '1' },
});
const after = hostLinks();

if (before !== after) {
  console.error(`sandbox: the host's interfaces changed during the run!\n  before: ${before}\n  after:  ${after}`);
  process.exit(1);
}
console.error(`sandbox: host interfaces unchanged (${before})`);
process.exit(r.status ?? 1);
