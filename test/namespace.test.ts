// Namespaces: anonymous and named (interoperating with `ip netns`), open by
// name/path/pid, list, delete, per-namespace sysctl — and the invariant
// that no thread of this process is ever left in another namespace.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Namespace } from '../src/namespace.js';
import { listLinks } from '../src/link.js';
import { native } from '../src/native.js';
import { NsScope, uniqueName } from './helpers.js';

const scope = new NsScope();
afterAll(() => scope.cleanup());

const linkNames = async (ns: Namespace) => (await listLinks({ ns })).map((l) => l.name);

const ipNetnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);

describe('anonymous namespaces', () => {
  it('are new, separate, and hold only lo', async () => {
    const a = await Namespace.create();
    const b = await Namespace.create();
    try {
      // The identity the engine sent with each (held before anyone asks) is what fstat says of its fd.
      expect((a as unknown as { ident?: unknown }).ident).toBeDefined();
      expect(a.identity()).toEqual(native.fdIdentity(a.fd));
      expect(b.identity()).toEqual(native.fdIdentity(b.fd));
      expect(a.equals(b)).toBe(false);
      expect(a.equals(Namespace.current())).toBe(false);
      expect(await linkNames(a)).toEqual(['lo']);
      expect(a.name).toBeUndefined();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('named namespaces', () => {
  it('are visible to `ip netns`, and what ip does inside them netweave sees', async () => {
    const ns = await scope.create('named');
    expect(Namespace.list()).toContain(ns.name);
    expect(ipNetnsList()).toContain(ns.name);
    execFileSync('ip', ['netns', 'exec', ns.name!, 'ip', 'link', 'add', 'made-by-ip', 'type', 'bridge']);
    expect(await linkNames(ns)).toContain('made-by-ip');
    // Opening it again by name (or path) reaches the same namespace.
    const again = Namespace.open(ns.name!);
    const byPath = Namespace.open({ path: `/run/netns/${ns.name}` });
    expect(again.equals(ns) && byPath.equals(ns)).toBe(true);
    again.close();
    byPath.close();
  });

  it('can be deleted by `ip netns delete`, and deletes ones `ip netns add` made', async () => {
    const ours = await Namespace.create(uniqueName('ours'));
    ours.close();
    execFileSync('ip', ['netns', 'delete', ours.name!]);
    expect(Namespace.list()).not.toContain(ours.name);

    const theirs = uniqueName('theirs');
    execFileSync('ip', ['netns', 'add', theirs]);
    expect(Namespace.list()).toContain(theirs);
    await Namespace.deleteNamed(theirs);
    expect(ipNetnsList()).not.toContain(theirs);
  });

  it('refuses a name that exists, a bad name, and a missing one with clear errors', async () => {
    const ns = await scope.create('dup');
    await expect(Namespace.create(ns.name)).rejects.toMatchObject({ code: 'EEXIST', subject: ns.name });
    await expect(Namespace.create('a/b')).rejects.toThrow(TypeError);
    expect(() => Namespace.open('no-such-ns')).toThrow(expect.objectContaining({ code: 'ENOENT', subject: 'no-such-ns' }));
    await expect(Namespace.deleteNamed('no-such-ns')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('opens the namespace of a process by pid', async () => {
    const ns = await scope.create('pid');
    const child = spawn('ip', ['netns', 'exec', ns.name!, 'sleep', '30'], { stdio: 'ignore' });
    try {
      // `ip netns exec` setns()es then execs sleep: wait until the pid's namespace has switched.
      let byPid: Namespace | undefined;
      for (let i = 0; i < 100; i++) {
        byPid = Namespace.open({ pid: child.pid! });
        if (byPid.equals(ns)) break;
        byPid.close();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(byPid!.equals(ns)).toBe(true);
      byPid!.close();
    } finally {
      child.kill();
    }
  });
});

describe('sysctl per namespace', () => {
  it('reads and writes one namespace without touching the caller or others', async () => {
    const a = await scope.create('sa');
    const b = await scope.create('sb');
    const here = await Namespace.current().getSysctl('net.ipv4.ip_forward');
    await a.setSysctl('net.ipv4.ip_forward', 1);
    expect(await a.getSysctl('net.ipv4.ip_forward')).toBe('1');
    expect(await b.getSysctl('net.ipv4.ip_forward')).toBe('0');
    expect(await Namespace.current().getSysctl('net.ipv4.ip_forward')).toBe(here);
    // The oracle agrees.
    expect(execFileSync('ip', ['netns', 'exec', a.name!, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).trim()).toBe('1');
    // Slash form for keys whose components contain dots.
    await a.setSysctl('net/ipv4/conf/lo/route_localnet', '1');
    expect(await a.getSysctl('net.ipv4.conf.lo.route_localnet')).toBe('1');
  });

  it('rejects keys outside net. before any syscall, and reports a missing key', async () => {
    const ns = await scope.create('sk');
    await expect(ns.getSysctl('kernel.hostname')).rejects.toThrow(TypeError);
    await expect(ns.getSysctl('net.ipv4.../x')).rejects.toThrow(TypeError);
    await expect(ns.getSysctl('net.ipv4.no_such_key')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('thread namespace invariant', () => {
  it('leaves every thread of the process in its original namespace after thousands of switches', async () => {
    const nss = await Promise.all(Array.from({ length: 20 }, () => Namespace.create()));
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 3000; i++) {
      const ns = nss[i % nss.length];
      if (i % 3 === 0) work.push(ns.getSysctl('net.ipv4.ip_forward'));
      else if (i % 3 === 1) work.push(listLinks({ ns }));
      else work.push(ns.createDgram({ address: '0.0.0.0' }).then((s) => s.close()));
    }
    await Promise.all(work);
    for (const ns of nss) ns.close();
    const mine = readlinkSync('/proc/self/ns/net');
    const threads = readdirSync('/proc/self/task');
    expect(threads.length).toBeGreaterThan(1);
    for (const tid of threads) expect(`${tid}: ${readlinkSync(`/proc/self/task/${tid}/ns/net`)}`).toBe(`${tid}: ${mine}`);
  });
});
