// The packed package: `npm pack`, install it into an empty folder with
// install scripts disabled (npm is moving to block dependencies' scripts),
// and use it from ESM and from CommonJS. It must load its prebuilt addon
// without compiling anything.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './helpers.js';

const root = new URL('..', import.meta.url).pathname;
let dir: string;
let tarball: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netweave-pack-'));
  // prepack compiles TypeScript and builds the prebuild.
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  tarball = join(dir, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
  execFileSync('npm', ['init', '-y'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, stdio: 'ignore' });
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string, source: string) => {
  writeFileSync(join(dir, file), source);
  return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }).trim();
};

describe('packed package', () => {
  it('ships the prebuilt addon and no build directory', () => {
    const pkg = join(dir, 'node_modules', 'netweave');
    expect(readdirSync(join(pkg, 'prebuilds', 'linux-x64')).some((f) => f.endsWith('.node'))).toBe(true);
    expect(existsSync(join(pkg, 'build'))).toBe(false);
    expect(existsSync(join(pkg, 'dist', 'index.d.ts'))).toBe(true);
  });

  it('imports from ESM and works against the kernel', () => {
    const out = run(
      'esm.mjs',
      `import { Namespace, NetlinkError } from 'netweave';
       const ns = await Namespace.create();
       console.log(JSON.stringify({ distinct: !ns.equals(Namespace.current()), fwd: await ns.getSysctl('net.ipv4.ip_forward'), err: typeof NetlinkError }));
       ns.close();`,
    );
    expect(JSON.parse(out)).toEqual({ distinct: true, fwd: '0', err: 'function' });
  });

  it('requires from CommonJS', () => {
    const out = run('cjs.cjs', `const nw = require('netweave'); console.log(typeof nw.Namespace.create);`);
    expect(out).toBe('function');
  });

  it('loads the prebuild, not a local build', () => {
    const out = run(
      'which.cjs',
      `console.log(require('node-gyp-build').resolve(require('path').dirname(require.resolve('netweave/package.json'))));`,
    );
    expect(out).toMatch(/node_modules\/netweave\/prebuilds\/linux-x64\/.*\.node$/);
  });
});
