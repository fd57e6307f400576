// TCP and UDP sockets inside a namespace, for this same Node process: the
// engine thread switches into the namespace, creates the socket, switches
// back, and Node adopts the descriptor. This is how tests, the DNS server
// and port proxies live in-process instead of spawning helpers.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { requestChainRaw, runTask, type ChainTask, type RequestOptions } from './engine.js';
import { check } from './errors.js';
import { native, type NativeTask } from './native.js';
import { AF_INET, AF_INET6, ipFamily } from './wire/address.js';
import type { Namespace } from './namespace.js';

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;

/** Opens a socket inside ns and returns its descriptor (close it or hand it to Node). */
export async function openSocketIn(ns: Namespace, family: 4 | 6, type: 'tcp' | 'udp'): Promise<number> {
  const domain = family === 6 ? AF_INET6 : AF_INET;
  const { value } = await runTask('open socket in namespace', (id) =>
    native.socketInNetns(id, ns.nsFd, domain, type === 'tcp' ? SOCK_STREAM : SOCK_DGRAM, 0),
  );
  return value;
}

/**
 * Whether address:port (default the unspecified address) can be bound in the
 * namespace: 0 when free, else -errno (EADDRINUSE: a socket holds it;
 * EADDRNOTAVAIL: no such local address). TCP binds with SO_REUSEADDR, so
 * connections in TIME_WAIT do not count. The socket (one made ahead in the
 * namespace when there is one) is bound and closed on the engine thread: no
 * syscall on the event loop's.
 */
export async function probeBind(ns: Namespace, family: 4 | 6, type: 'tcp' | 'udp', address: string | undefined, port: number): Promise<number> {
  // A chain of its one step: the same probe, on a spare socket when there is one.
  const [r] = await requestChainRaw([probeBindStep(ns, family, type, address, port, { operation: 'probe bind' })]);
  return r.errno ? -r.errno : 0;
}

/** The native probe's arguments: namespace fd, domain, socket type, address (default: unspecified), port, SO_REUSEADDR (TCP). */
function probeArgs(ns: Namespace, family: 4 | 6, type: 'tcp' | 'udp', address: string | undefined, port: number) {
  return [ns.nsFd, family === 6 ? AF_INET6 : AF_INET, type === 'tcp' ? SOCK_STREAM : SOCK_DGRAM, address ?? (family === 6 ? '::' : '0.0.0.0'), port, type === 'tcp'] as const;
}

/**
 * The same probe as a step of a {@link requestChain}: the steps after it go
 * out only if the port was free; otherwise it rejects with the bind's error
 * (EADDRINUSE, EADDRNOTAVAIL) and they with ECANCELED. "Commit this only if
 * nothing is bound there", in one pass of the engine thread.
 */
export function probeBindStep(
  ns: Namespace,
  family: 4 | 6,
  type: 'tcp' | 'udp',
  address: string | undefined,
  port: number,
  opts: RequestOptions,
  fail?: (errno: number) => Error,
): ChainTask {
  return new ProbeStep(ns, probeArgs(ns, family, type, address, port), opts, fail);
}

class ProbeStep implements ChainTask {
  readonly fail?: (errno: number) => Error;
  private readonly spares: number[];

  constructor(
    private readonly ns: Namespace,
    private readonly args: ReturnType<typeof probeArgs>,
    readonly opts: RequestOptions,
    fail: ((errno: number) => Error) | undefined,
  ) {
    if (fail) this.fail = fail;
    this.spares = spareSockets(ns, args[1], args[2]);
  }

  /**
   * Read once per submission: a socket made in the namespace by an earlier
   * probe, handed to this one (it closes it), which then needs no namespace
   * switch (see spareSockets). Without one, the probe makes a few more
   * while it is in the namespace, for seen() to keep.
   */
  get task(): NativeTask {
    const spare = this.spares.pop();
    return [1, ...this.args, spare ?? -1, spare === undefined ? SPARES : 0];
  }

  readonly seen = (r: { data?: Buffer }): void => {
    keepSpares(this.ns, this.spares, r.data);
    r.data = undefined;
  };
}

/** How many sockets a probe that has to enter the namespace makes ahead for later ones. */
const SPARES = 8;

/**
 * Sockets made inside a namespace ahead of bind probes, by (domain, socket
 * type): a probe on one binds and closes it (~4 µs here) instead of
 * switching into the namespace and making a socket there (~11 µs). A socket
 * holds its namespace, so they are closed with the handle (close(),
 * delete()) or when it is collected; the handle holds the namespace anyway.
 * At most SPARES per kind at a time (for Namespace.current(): as long as
 * the process runs).
 */
const SPARE_SOCKETS = Symbol('spare probe sockets');

function spareSockets(ns: Namespace, domain: number, type: number): number[] {
  const byKind = ns.holding(SPARE_SOCKETS, () => new Map<number, number[]>(), closeSpares);
  const key = domain * 16 + type;
  let list = byKind.get(key);
  if (!list) byKind.set(key, (list = []));
  return list;
}

/** Files the fds a probe made ahead (int32 each); closes them instead if the handle closed meanwhile, or there are enough. */
function keepSpares(ns: Namespace, list: number[], data: Buffer | undefined): void {
  if (!data) return;
  for (let off = 0; off + 4 <= data.length; off += 4) {
    const fd = data.readInt32LE(off);
    // Concurrent probes that found none each made some: keep SPARES at most.
    if (ns.fd < 0 || list.length >= SPARES) native.closeFd(fd);
    else list.push(fd);
  }
}

function closeSpares(byKind: Map<number, number[]>): void {
  for (const list of byKind.values()) for (const fd of list.splice(0)) native.closeFd(fd);
}

function familyOf(host: string | undefined, fallback: 4 | 6 = 4): 4 | 6 {
  if (!host) return fallback;
  const f = ipFamily(host);
  if (!f) throw new TypeError(`host must be an IP address (no name lookup inside a namespace), got ${JSON.stringify(host)}`);
  return f === AF_INET6 ? 6 : 4;
}

function checkPort(port: unknown, arg = 'port'): number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(`${arg} must be an integer in 0..65535, got ${String(port)}`);
  }
  return port as number;
}

async function boundSocket(ns: Namespace, type: 'tcp' | 'udp', host: string | undefined, port: number): Promise<number> {
  const family = familyOf(host);
  const fd = await openSocketIn(ns, family, type);
  const address = host ?? (family === 6 ? '::' : '0.0.0.0');
  const r = native.bind(fd, family === 6 ? AF_INET6 : AF_INET, address, port, type === 'tcp');
  if (r < 0) {
    native.closeFd(fd);
    check(r, 'bind', `${address}:${port}`);
  }
  return fd;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
}

/**
 * A net.Server whose listen() binds inside the namespace. listen() accepts
 * (port, host?, cb?) or ({ port, host, backlog }, cb?); 'listening' and
 * 'error' are emitted as usual.
 */
export class NamespaceServer extends net.Server {
  constructor(
    private readonly ns: Namespace,
    listener?: (socket: net.Socket) => void,
  ) {
    super(listener);
  }

  override listen(...args: any[]): this {
    const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const opts: ListenOptions = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
    const port = checkPort(opts.port ?? 0);
    if (cb) this.once('listening', cb);
    boundSocket(this.ns, 'tcp', opts.host, port).then(
      (fd) => super.listen({ fd, backlog: opts.backlog }),
      (err) => this.emit('error', err),
    );
    return this;
  }

  /** listen() as a promise. */
  async listenAsync(opts: ListenOptions = {}): Promise<this> {
    this.listen(opts);
    await once(this, 'listening');
    return this;
  }
}

export function createServer(ns: Namespace, listener?: (socket: net.Socket) => void): NamespaceServer {
  return new NamespaceServer(ns, listener);
}

export interface ConnectOptions {
  port: number;
  host: string;
  /** Local address to bind before connecting. */
  localAddress?: string;
  /** Give up after this many milliseconds (default: the kernel's own timeout). */
  timeout?: number;
}

/** Opens a TCP connection from inside the namespace; resolves once connected. */
export async function connect(ns: Namespace, opts: ConnectOptions): Promise<net.Socket> {
  checkPort(opts.port);
  const family = familyOf(opts.host);
  const fd = opts.localAddress !== undefined ? await boundSocket(ns, 'tcp', opts.localAddress, 0) : await openSocketIn(ns, family, 'tcp');
  const socket = new net.Socket({ fd, readable: true, writable: true });
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    if (opts.timeout) {
      timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect ETIMEDOUT ${opts.host}:${opts.port}`), { code: 'ETIMEDOUT' });
        fail(err);
      }, opts.timeout);
    }
    socket.once('error', fail);
    socket.connect(opts.port, opts.host, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

export interface DgramOptions {
  type?: 'udp4' | 'udp6';
  port?: number;
  address?: string;
}

/** A dgram socket bound inside the namespace. */
export async function createDgram(ns: Namespace, opts: DgramOptions = {}): Promise<dgram.Socket> {
  const type = opts.type ?? (opts.address && familyOf(opts.address) === 6 ? 'udp6' : 'udp4');
  const address = opts.address ?? (type === 'udp6' ? '::' : '0.0.0.0');
  if (familyOf(address) !== (type === 'udp6' ? 6 : 4)) throw new TypeError(`address ${address} does not match ${type}`);
  const fd = await boundSocket(ns, 'udp', address, checkPort(opts.port ?? 0));
  const socket = dgram.createSocket(type);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ fd }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}
