// Network namespaces: create (anonymous or named, as `ip netns add`), open by
// name, path or pid, list, delete; per-namespace netlink sockets and sysctl.
// Every namespace switch happens on the engine thread, which switches back
// before doing anything else; the JS thread never changes namespace.
import { expectTask, forgetTask, NetlinkSocket, runTask, withoutPolling } from './engine.js';
import { check, NetlinkError } from './errors.js';
import { native } from './native.js';
import { NETLINK_NETFILTER, NETLINK_ROUTE } from './wire/netlink.js';
import * as sockets from './ns-socket.js';
import type net from 'node:net';
import type dgram from 'node:dgram';

export const NETNS_RUN_DIR = '/run/netns';

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('namespace name must be a non-empty string');
  if (name.includes('/') || name === '.' || name === '..' || name.includes('\0')) {
    throw new TypeError(`namespace name ${JSON.stringify(name)} must not contain "/" or be "." or ".."`);
  }
  if (Buffer.byteLength(name) > 255) throw new RangeError('namespace name is longer than 255 bytes');
  return name;
}

/** Maps a sysctl key ("net.ipv4.ip_forward" or "net/ipv4/conf/eth0.1/forwarding") to its /proc path. */
export function sysctlPath(key: string): string {
  if (typeof key !== 'string') throw new TypeError('sysctl key must be a string');
  const parts = key.includes('/') ? key.split('/') : key.split('.');
  if (parts[0] !== 'net' || parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new TypeError(`sysctl key ${JSON.stringify(key)} must be a per-namespace key under net.`);
  }
  return `/proc/sys/${parts.join('/')}`;
}

/** [st_dev, st_ino] as the engine sends them with a namespace it created (two u64), or undefined (then identity() stats the fd). */
function identityOf(data: Buffer | undefined): [number, number] | undefined {
  if (!data || data.length !== 16) return undefined;
  return [data.readUInt32LE(0) + data.readUInt32LE(4) * 2 ** 32, data.readUInt32LE(8) + data.readUInt32LE(12) * 2 ** 32];
}

// A Namespace dropped without close() gives its descriptor back when
// collected (its sockets have finalizers of their own), and releases what
// it held inside the namespace (see holding).
const fdFinalizer = new FinalizationRegistry<number>((fd) => native.closeFd(fd));
type Held = Map<symbol, { value: unknown; release(value: unknown): void }>;
const heldFinalizer = new FinalizationRegistry<Held>((held) => releaseAll(held));

function releaseAll(held: Held): void {
  for (const { value, release } of held.values()) release(value);
  held.clear();
}

export class Namespace {
  /** Descriptor that keeps the namespace alive; -1 once closed. */
  fd: number;
  /** Set for namespaces under /run/netns. */
  readonly name?: string;
  /** True for the namespace the process started in: no switch is needed. */
  readonly isCurrent: boolean;
  private routeSocket?: NetlinkSocket;
  private netfilterSocket?: NetlinkSocket;
  private held?: Held;

  private ident?: [number, number];

  private constructor(fd: number, opts: { name?: string; isCurrent?: boolean } = {}) {
    this.fd = fd;
    this.name = opts.name;
    this.isCurrent = opts.isCurrent ?? false;
    if (!this.isCurrent) fdFinalizer.register(this, fd, this);
  }

  private static currentNs?: Namespace;

  /**
   * The namespace a call acts in: `ns` when given (it must be a Namespace),
   * else the first fallback that is set (e.g. the namespace a Link argument
   * was read in), else the current one.
   */
  static of(ns: unknown, ...fallbacks: (Namespace | undefined)[]): Namespace {
    if (ns !== undefined) {
      if (!(ns instanceof Namespace)) throw new TypeError('ns must be a Namespace');
      return ns;
    }
    for (const f of fallbacks) if (f) return f;
    return Namespace.current();
  }

  /** The namespace this process runs in. */
  static current(): Namespace {
    if (!Namespace.currentNs) {
      const fd = check(native.netnsOpen('/proc/self/ns/net'), 'open namespace', '/proc/self/ns/net');
      Namespace.currentNs = new Namespace(fd, { isCurrent: true });
    }
    return Namespace.currentNs;
  }

  /**
   * Creates a namespace. With a name it is bind-mounted at /run/netns/<name>
   * like `ip netns add <name>`, so `ip netns exec` sees it; without one it
   * lives as long as this object's descriptor (or anything inside it).
   */
  static async create(name?: string): Promise<Namespace> {
    // Heavy kernel work that leaves deferred work behind: the event loop sleeps rather than polls (see withoutPolling).
    return withoutPolling(() => Namespace.make(name));
  }

  private static async make(name?: string): Promise<Namespace> {
    if (name === undefined) {
      // Its rtnetlink socket is made while the engine is inside it anyway: no second switch later.
      const task = expectTask();
      let handle = 0;
      let value: number;
      let data: Buffer | undefined;
      try {
        ({ value, data } = await runTask('create namespace', (id) => void (handle = native.netnsCreateWithSocket(id, task, NETLINK_ROUTE))));
      } catch (e) {
        // The socket's task failed with the namespace; one never submitted is just dropped.
        if (handle) new NetlinkSocket(NETLINK_ROUTE, -1, { handle, task }).close();
        else forgetTask(task);
        throw e;
      }
      const ns = new Namespace(value);
      ns.routeSocket = new NetlinkSocket(NETLINK_ROUTE, -1, { handle, task });
      ns.ident = identityOf(data);
      return ns;
    }
    checkName(name);
    const { value } = await runTask('create namespace', (id) => native.netnsCreateNamed(id, name), name);
    return new Namespace(value, { name });
  }

  /** @internal A namespace a request chain created (its fd), with the rtnetlink socket the chain opened inside it. */
  static adopt(fd: number, route: NetlinkSocket, identity?: Buffer): Namespace {
    const ns = new Namespace(fd);
    ns.routeSocket = route;
    ns.ident = identityOf(identity);
    return ns;
  }

  /** Opens /run/netns/<name>, a path to an nsfs file, or a process's namespace. */
  static open(target: string | { path: string } | { pid: number }): Namespace {
    if (typeof target === 'string') {
      checkName(target);
      const fd = check(native.netnsOpen(`${NETNS_RUN_DIR}/${target}`), 'open namespace', target);
      return new Namespace(fd, { name: target });
    }
    if ('pid' in target) {
      if (!Number.isInteger(target.pid) || target.pid <= 0) throw new TypeError('pid must be a positive integer');
      return new Namespace(check(native.netnsOpen(`/proc/${target.pid}/ns/net`), 'open namespace', `pid ${target.pid}`));
    }
    if (typeof target.path !== 'string') throw new TypeError('path must be a string');
    return new Namespace(check(native.netnsOpen(target.path), 'open namespace', target.path));
  }

  /** Names under /run/netns, like `ip netns list`. */
  static list(): string[] {
    const r = native.netnsList();
    if (typeof r === 'number') throw new NetlinkError(-r, 'list namespaces');
    return r.sort();
  }

  /** Removes /run/netns/<name> like `ip netns delete` (no need to open it). */
  static async deleteNamed(name: string): Promise<void> {
    checkName(name);
    await runTask('delete namespace', (id) => native.netnsDelete(id, name), name);
  }

  /** The fd the engine should switch into; -1 means "no switch". */
  get nsFd(): number {
    this.assertOpen();
    return this.isCurrent ? -1 : this.fd;
  }

  /** [device, inode] of the nsfs file: equal identities mean the same namespace. */
  identity(): [number, number] {
    this.assertOpen();
    // An open descriptor names one namespace for its whole life: stat it once.
    if (!this.ident) {
      const r = native.fdIdentity(this.fd);
      if (typeof r === 'number') throw new NetlinkError(-r, 'stat namespace');
      this.ident = r;
    }
    return [this.ident[0], this.ident[1]];
  }

  equals(other: Namespace): boolean {
    if (other === this) return (this.assertOpen(), true);
    const [a, b] = [this.identity(), other.identity()];
    return a[0] === b[0] && a[1] === b[1];
  }

  /**
   * @internal Something this handle holds inside its namespace on a
   * module's behalf (made on first ask, one per key): a socket in there
   * keeps the namespace alive, so it is released when the handle closes,
   * or is collected. `release` must not reach this handle.
   */
  holding<T>(key: symbol, make: () => T, release: (value: T) => void): T {
    if (!this.held) {
      this.held = new Map();
      heldFinalizer.register(this, this.held, this);
    }
    let e = this.held.get(key);
    if (!e) this.held.set(key, (e = { value: make(), release: release as (value: unknown) => void }));
    return e.value as T;
  }

  /** The rtnetlink socket of this namespace (opened on first use). */
  route(): NetlinkSocket {
    return (this.routeSocket ??= new NetlinkSocket(NETLINK_ROUTE, this.nsFd));
  }

  /** The nfnetlink socket of this namespace (opened on first use). */
  netfilter(): NetlinkSocket {
    return (this.netfilterSocket ??= new NetlinkSocket(NETLINK_NETFILTER, this.nsFd));
  }

  /** Reads a net.* sysctl of this namespace, like `ip netns exec <ns> sysctl -n <key>`. */
  async getSysctl(key: string): Promise<string> {
    const path = sysctlPath(key);
    const { data } = await runTask('read sysctl', (id) => native.sysctlRead(id, this.nsFd, path), key);
    return (data?.toString() ?? '').trim();
  }

  /** Writes a net.* sysctl of this namespace, like `sysctl -w <key>=<value>`. */
  async setSysctl(key: string, value: string | number): Promise<void> {
    const path = sysctlPath(key);
    const bytes = Buffer.from(`${value}\n`);
    await runTask('write sysctl', (id) => native.sysctlWrite(id, this.nsFd, path, bytes), key);
  }

  /** A net.Server that listens inside this namespace: `ns.createServer(onConn).listen(80)`. */
  createServer(listener?: (socket: net.Socket) => void): sockets.NamespaceServer {
    return sockets.createServer(this, listener);
  }

  /** A TCP connection made from inside this namespace. */
  connect(opts: sockets.ConnectOptions): Promise<net.Socket> {
    return sockets.connect(this, opts);
  }

  /** A UDP socket bound inside this namespace. */
  createDgram(opts?: sockets.DgramOptions): Promise<dgram.Socket> {
    return sockets.createDgram(this, opts);
  }

  /** Closes the sockets and descriptor this object holds (the namespace itself survives if named or in use). */
  close(): void {
    if (this.held) {
      heldFinalizer.unregister(this);
      releaseAll(this.held);
      this.held = undefined;
    }
    this.routeSocket?.close();
    this.netfilterSocket?.close();
    this.routeSocket = this.netfilterSocket = undefined;
    if (this.fd >= 0 && !this.isCurrent) {
      fdFinalizer.unregister(this);
      native.closeFd(this.fd);
    }
    if (!this.isCurrent) this.fd = -1;
  }

  /**
   * Deletes the namespace: unmounts /run/netns/<name> if named and drops this
   * object's references. The kernel frees it, and every link in it, once no
   * process, socket or descriptor holds it — the fast way to tear down.
   */
  async delete(): Promise<void> {
    if (this.isCurrent) throw new TypeError('refusing to delete the namespace this process runs in');
    this.close();
    if (this.name) await Namespace.deleteNamed(this.name);
  }

  private assertOpen(): void {
    if (this.fd < 0) throw new NetlinkError(9, 'use namespace', { subject: this.name, kernelMessage: 'namespace handle is closed' });
  }
}
