// The JS half of the native engine: request ids, promises, and routing of
// completions (one callback from the engine thread, batched per wake-up).
import { NetlinkError, type NetlinkErrorDetails } from './errors.js';
import { CompletionKind, native, RequestFlag, type NativeTask } from './native.js';
import { NLMSG_DONE, NLMSG_ERROR, parseError, parseMessages, type ErrorReply, type Message } from './wire/netlink.js';

export interface TaskResult {
  value: number;
  data?: Buffer;
}

/** What the engine answers a request or a task with. */
interface Done {
  errno: number;
  value: number;
  data?: Buffer;
}

const pending = new Map<number, { resolve(r: Done): void }>();

/** Handlers of streamed dumps' parts by request id (null: drop the parts so far). */
const partials = new Map<number, (messages: Message[] | null) => void>();
const subscribers = new Map<number, (data: Buffer | undefined, errno: number) => void>();
let nextId = 1;
let started = false;

/**
 * A delivery from the engine thread: every completion in it, in order. An
 * event listener that throws does not keep the rest from being routed (a
 * request's completion after it would never settle); its error is thrown
 * again on the next tick, as an uncaught exception like any throwing
 * EventEmitter listener's — not from inside the addon's callback, where
 * Node only warns (DEP0168) and drops it.
 */
function onDelivery(meta: Float64Array, count: number, data: Buffer | undefined | (Buffer | undefined)[]): void {
  for (let i = 0, k = 0; i < count; i++, k += 4) {
    try {
      onComplete(meta[k], meta[k + 1], meta[k + 2], meta[k + 3], count === 1 ? (data as Buffer | undefined) : (data as (Buffer | undefined)[])[i]);
    } catch (e) {
      process.nextTick(() => {
        throw e;
      });
    }
  }
}

function onComplete(kind: CompletionKind, id: number, errno: number, value: number, data: Buffer | undefined): void {
  if (kind === CompletionKind.Event) {
    subscribers.get(id)?.(data, errno);
    return;
  }
  if (kind === CompletionKind.Partial) {
    partials.get(id)?.(errno ? null : data ? parseMessages(data) : []);
    return;
  }
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  if (pending.size) poll();
  p.resolve({ errno, value, data });
}

// Polling while requests are out. When the event loop has nothing else to
// do it sleeps in epoll_wait, and the engine's completion must then wake the
// thread — on a VM that costs tens of µs (an awaited GETLINK: 31 µs asleep,
// 15 µs polling). While few requests are outstanding the loop re-polls
// through setImmediate for a short while instead: timers and I/O keep running
// every turn, so nothing is blocked. Each turn yields the core
// (sched_yield): a woken engine thread is often placed on this thread's
// core, and a poll that never yields keeps it from running until the window
// ends (submission to pickup ~105 µs with a 100 µs window; 27 µs yielding).
// No poll at all when the submission had to wake the engine (it was asleep):
// see submitted(). The window, 1 ms, covers a veth or bridge create (~0.4–0.6
// ms in the kernel here), whose completion then needs no wake-up of this
// thread: measured interleaved in one process, createVethPair 4–7% faster
// than with a 100 µs window (5 runs of 5), a container connect unchanged
// (1–2 ms windows vs 100 µs, 5 runs). The cost is CPU: this thread spins,
// yielding each turn, for as long as the awaited work takes, up to the
// window. Many requests in flight need no polling: completions come in
// slices that keep the thread busy, and share one wake-up.
const POLL_MAX_PENDING = 32;
let pollBudgetNs = BigInt(Number(process.env.NETWEAVE_POLL_US ?? 1000) * 1000);
let pollUntil = 0n;
let polling = false;

/** Operations running that asked for no polling (see withoutPolling). */
let quiet = 0;

/**
 * Runs fn with the event loop sleeping instead of polling while its
 * requests are out. For operations made of several heavy kernel steps that
 * leave deferred kernel work behind (a container connect: namespace, veth
 * across namespaces, addresses, routes): a thread polling meanwhile keeps
 * that work off a core — measured interleaved in one process, Namespace.create
 * + connect 4–9% faster than with the 1 ms poll (3 runs of 3), where a lone
 * veth create is 4–7% faster with it.
 */
export async function withoutPolling<T>(fn: () => Promise<T>): Promise<T> {
  quiet++;
  pollUntil = 0n;
  try {
    return await fn();
  } finally {
    quiet--;
  }
}

function poll(): void {
  if (pollBudgetNs === 0n || quiet > 0 || pending.size > POLL_MAX_PENDING) return;
  pollUntil = process.hrtime.bigint() + pollBudgetNs;
  if (!polling) {
    polling = true;
    setImmediate(pollTurn);
  }
}

function pollTurn(): void {
  if (pending.size && pending.size <= POLL_MAX_PENDING && process.hrtime.bigint() < pollUntil) {
    native.yieldCpu();
    setImmediate(pollTurn);
  } else polling = false;
}

/**
 * How long (µs) the event loop keeps polling for completions after the last
 * submission or completion instead of sleeping; 0 turns polling off (the
 * thread sleeps and is woken per completion: less CPU, more latency).
 * Default 1000, or NETWEAVE_POLL_US.
 */
export function setPollBudget(us: number): void {
  if (!Number.isFinite(us) || us < 0) throw new RangeError('poll budget must be a non-negative number of µs');
  pollBudgetNs = BigInt(Math.round(us * 1000));
}

function start(): void {
  if (started) return;
  const r = native.init(onDelivery);
  if (r < 0) throw new NetlinkError(-r, 'start netlink engine');
  started = true;
}

function allocate(): number {
  const id = nextId;
  nextId = nextId >= 0xfffffffe ? 1 : nextId + 1;
  return id;
}

function wait(id: number): Promise<Done> {
  return new Promise<Done>((resolve) => pending.set(id, { resolve }));
}

/** The completion of a task id registered earlier with {@link expectTask}. */
function waitFor(id: number): Promise<Done> {
  const p = expected.get(id);
  if (!p) throw new Error(`no task ${id} is expected`);
  expected.delete(id);
  return p;
}

const expected = new Map<number, Promise<Done>>();

/**
 * Reserves a task id whose completion a later call picks up (the socket a
 * namespace is created with completes before JS builds its NetlinkSocket).
 */
export function expectTask(): number {
  start();
  const id = allocate();
  expected.set(id, wait(id));
  return id;
}

/** Drops a reserved task id that was never submitted. */
export function forgetTask(id: number): void {
  expected.delete(id);
  pending.delete(id);
}

/**
 * After a submission: poll for its completion only if the engine thread was
 * awake (polling its queue on its own core). If the submission had to wake
 * it, the scheduler tends to run it on this thread's core, where polling
 * would keep it from running at all until the window ends (measured: ~105 µs
 * from submission to pickup with a 100 µs window, 13–50 µs without).
 */
function submitted(): void {
  if (native.woke()) pollUntil = 0n;
  else poll();
}

/** Runs a native task on the engine thread (namespace work, sysctl, sockets in a namespace). */
export async function runTask(operation: string, submit: (id: number) => number | void, subject?: string): Promise<TaskResult> {
  start();
  const id = allocate();
  const p = wait(id);
  const r = submit(id);
  if (typeof r === 'number' && r < 0) {
    pending.delete(id);
    throw new NetlinkError(-r, operation, { subject });
  }
  submitted();
  const { errno, value, data } = await p;
  if (errno) throw new NetlinkError(errno, operation, { subject });
  return { value, data };
}

export interface RequestOptions {
  /** Name of the operation for errors, e.g. "createVethPair". */
  operation: string;
  /** What it is about, e.g. the interface name; appears in error messages. */
  subject?: string;
  dump?: boolean;
  alone?: boolean;
}

export interface Reply {
  /** Every message the kernel answered with, in order. */
  messages: Message[];
  /** Sequence number the engine gave the first message of the request. */
  firstSeq: number;
}

function replyOf(r: Done): Reply {
  return { messages: r.data ? parseMessages(r.data) : [], firstSeq: r.value };
}

// A socket object dropped without close() releases its native socket when
// collected (nothing can be in flight then: pending requests hold a reference).
const socketFinalizer = new FinalizationRegistry<number>((handle) => native.closeSocket(handle));

/**
 * A netlink socket (NETLINK_ROUTE or NETLINK_NETFILTER) opened inside a
 * namespace. Requests may be issued concurrently: the engine sends what
 * queued up meanwhile in one sendmsg and matches replies by sequence number.
 */
export class NetlinkSocket {
  readonly protocol: number;
  /** @internal */ readonly handle: number;
  private readonly opened: Promise<number>;
  private openError?: NetlinkError;
  private closed = false;

  /**
   * A socket opened later by the first step of a chain that creates its
   * namespace ({@link ChainNamespace}); usable in the chain's later steps.
   */
  static reserve(protocol: number): NetlinkSocket {
    const task = expectTask();
    const sock = new NetlinkSocket(protocol, -1, { handle: native.reserveHandle(), task });
    sock.openTask = task;
    return sock;
  }

  /** @internal The task a reserved socket's opening completes. */
  openTask?: number;

  /**
   * Opens a socket in the namespace nsFd (-1: the current one). `adopt` is
   * for a socket the engine opens as part of other work (a namespace
   * created with its socket): its handle and the task that completes with
   * its port id.
   */
  constructor(protocol: number, nsFd = -1, adopt?: { handle: number; task: number }) {
    start();
    this.protocol = protocol;
    const task = adopt?.task ?? allocate();
    const p = adopt ? waitFor(task) : wait(task);
    if (adopt) this.handle = adopt.handle;
    else {
      this.handle = native.openSocket(task, protocol, nsFd, [], 0);
      submitted();
    }
    socketFinalizer.register(this, this.handle, this);
    this.opened = p.then(({ errno, value }) => {
      if (errno) this.openError = new NetlinkError(errno, 'open netlink socket');
      return value;
    });
  }

  /** The kernel-assigned port id (resolves once the socket is open). */
  portId(): Promise<number> {
    return this.opened.then((v) => {
      if (this.openError) throw this.openError;
      return v;
    });
  }

  /**
   * Sends one request (one or more messages) and resolves with the replies.
   * Error acks are not thrown here; use {@link checkAcks} or the callers'
   * helpers, which know what each message meant.
   */
  async request(bytes: Uint8Array, opts: RequestOptions): Promise<Reply> {
    this.assertOpen(opts);
    const id = allocate();
    const p = wait(id);
    native.request(this.handle, id, bytes, (opts.dump ? RequestFlag.Dump : 0) | (opts.alone ? RequestFlag.Alone : 0));
    submitted();
    const r = await p;
    return this.settle(r, opts);
  }

  /** @internal */
  assertOpen(opts: RequestOptions): void {
    if (this.closed) throw new NetlinkError(9 /* EBADF */, opts.operation, { subject: opts.subject, kernelMessage: 'socket is closed' });
  }

  /** @internal What a completion means for the caller: a Reply (at once), or the error. */
  settle(r: Done, opts: RequestOptions, chained = false): Reply | Promise<never> {
    return r.errno ? this.failed(r, opts, chained) : replyOf(r);
  }

  private async failed(r: Done, opts: RequestOptions, chained: boolean): Promise<never> {
    // A chain's step that was never sent says so, whatever became of its socket.
    if (!(chained && r.errno === 125)) {
      await this.opened;
      if (this.openError) throw this.openError;
    }
    const kernelMessage =
      r.errno === 4
        ? 'the dump kept changing under concurrent modification; gave up after retries'
        : chained && r.errno === 125
          ? 'not sent: an earlier request of the chain failed'
          : chained && r.errno === 61
            ? 'not sent: an earlier request of the chain did not return what this one needed'
            : undefined;
    throw new NetlinkError(r.errno, opts.operation, { subject: opts.subject, kernelMessage });
  }

  /** Sends a request and throws the kernel's error, if any. Returns data messages. */
  async call(bytes: Uint8Array, opts: RequestOptions): Promise<Message[]> {
    const reply = await this.request(bytes, opts);
    return checkAcks(reply, opts);
  }

  /**
   * A dump whose parts are handed to `onPart` as the engine reads them
   * (about every 256 KiB), so the caller decodes while the kernel still
   * dumps; the promise resolves with the data messages of the last part.
   * `onPart(null)`: the kernel interrupted the dump and it starts again —
   * drop what the parts gave so far. Errors as {@link call}.
   */
  async callStream(bytes: Uint8Array, opts: RequestOptions, onPart: (messages: Message[] | null) => void): Promise<Message[]> {
    this.assertOpen(opts);
    const id = allocate();
    const p = wait(id);
    partials.set(id, onPart);
    try {
      native.request(this.handle, id, bytes, RequestFlag.Dump | RequestFlag.Stream);
      submitted();
      return checkAcks(await this.settle(await p, opts), opts);
    } finally {
      partials.delete(id);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    socketFinalizer.unregister(this);
    // Reserved for a chain that was never submitted: nothing will complete its opening.
    if (this.openTask !== undefined) forgetTask(this.openTask);
    native.closeSocket(this.handle);
  }
}

/**
 * The parsed error ack of one message of a request, or undefined for a
 * plain ack. `index` is the message's position in the request (its seq
 * minus the request's first seq).
 */
export function failedAck(m: Message, reply: Reply): { index: number; ack: ErrorReply } | undefined {
  // A success ack (error 0 in the first payload word) is skipped without parsing.
  if (m.type !== NLMSG_ERROR || (m.payload.length >= 4 && m.payload.readInt32LE(0) === 0)) return undefined;
  const ack = parseError(m);
  return ack.errno ? { index: (ack.seq - reply.firstSeq) >>> 0, ack } : undefined;
}

/** The NetlinkError for an error ack, with the kernel's extended-ack details. */
export function errorFromAck(ack: ErrorReply, operation: string, details: NetlinkErrorDetails = {}): NetlinkError {
  return new NetlinkError(ack.errno, operation, {
    ...details,
    kernelMessage: ack.kernelMessage,
    attributeOffset: ack.attributeOffset,
    missingAttribute: ack.missingAttribute,
  });
}

/**
 * Throws a NetlinkError for the first error ack (or a dump's NLMSG_DONE
 * carrying an error); returns the data messages otherwise. `describe`
 * names the message at a given index, for errors inside a pipeline.
 */
export function checkAcks(reply: Reply, opts: RequestOptions, describe?: (index: number) => string | undefined): Message[] {
  const data: Message[] = [];
  for (const m of reply.messages) {
    if (m.type === NLMSG_ERROR) {
      const failed = failedAck(m, reply);
      if (failed) {
        const where = describe ? { index: failed.index, item: describe(failed.index) } : {};
        throw errorFromAck(failed.ack, opts.operation, { subject: opts.subject, ...where });
      }
      continue;
    }
    if (m.type === NLMSG_DONE) {
      if (m.payload.length >= 4) {
        const err = m.payload.readInt32LE(0);
        if (err < 0) throw new NetlinkError(-err, opts.operation, { subject: opts.subject });
      }
      continue;
    }
    data.push(m);
  }
  return data;
}

/**
 * A socket bound to multicast groups. Messages are delivered in arrival
 * order; a receive-buffer overrun arrives as onOverrun — events were lost
 * and the subscriber must re-read the state it tracks.
 */
export class Subscription {
  private readonly handle: number;
  private held = false;
  private closed = false;
  readonly ready: Promise<void>;

  constructor(
    protocol: number,
    groups: number[],
    onMessages: (messages: Message[]) => void,
    onOverrun: (error: NetlinkError) => void,
    opts: { nsFd?: number; rcvbuf?: number; ref?: boolean } = {},
  ) {
    start();
    const task = allocate();
    const p = wait(task);
    this.handle = native.openSocket(task, protocol, opts.nsFd ?? -1, groups, opts.rcvbuf ?? 0);
    submitted();
    subscribers.set(this.handle, (data, errno) => {
      if (this.closed) return;
      if (errno) onOverrun(new NetlinkError(errno, 'receive events', { kernelMessage: 'events were lost; re-read the state (resync needed)' }));
      else if (data) onMessages(parseMessages(data));
    });
    this.ready = p.then(({ errno }) => {
      if (errno) {
        this.close();
        throw new NetlinkError(errno, 'subscribe to netlink groups', { subject: groups.join(',') });
      }
    });
    if (opts.ref !== false) this.ref();
  }

  /** Keeps the process alive while subscribed (the default). */
  ref(): void {
    if (!this.held && !this.closed) {
      this.held = true;
      native.hold();
    }
  }

  unref(): void {
    if (this.held) {
      this.held = false;
      native.release();
    }
  }

  close(): void {
    if (this.closed) return;
    this.unref();
    this.closed = true;
    subscribers.delete(this.handle);
    native.closeSocket(this.handle);
  }
}

export interface ChainStep {
  sock: NetlinkSocket;
  bytes: Uint8Array;
  opts: RequestOptions;
}

/**
 * A chain step that runs a native task on the engine thread when reached
 * (e.g. probeBindStep's bind probe). It fails the chain
 * with its errno as an error ack would; its promise resolves with the
 * task's result.
 */
export interface ChainTask {
  task: NativeTask;
  opts: RequestOptions;
  /** The error its failure (an errno) rejects with; default a NetlinkError of opts. */
  fail?: (errno: number) => Error;
  /**
   * Sees the task's completion as it arrives, whatever the chain's caller
   * does with it: what the task hands back even when it fails. It may take
   * the data (set it to undefined), which then is not in the step's result
   * (see probeBindStep).
   */
  seen?: (r: { errno: number; value: number; data?: Buffer }) => void;
}

/**
 * A chain step that creates a network namespace (its result's value: the
 * namespace's fd, the caller's to keep or close) and opens `sock`, a socket
 * from NetlinkSocket.reserve, inside it — later steps can send on it, and
 * patch the fd in (a patch with msgType 0 copies a step's value).
 */
export interface ChainNamespace {
  createNamespace: NetlinkSocket;
  opts: RequestOptions;
}

/**
 * A u32 copied from an earlier step's replies into a later step's bytes
 * before it is sent: from the first reply message of type `msgType`, the
 * u32 at payload offset `field`, or (with `attr`) the value of the first
 * attribute of that type after a fixed header of `field` bytes.
 */
export interface ChainPatch {
  step: number;
  from: number;
  msgType: number;
  attr?: number;
  field: number;
  /** Byte offset in the step's bytes. */
  target: number;
}

/**
 * Requests on one or more sockets (any namespaces) that depend on each
 * other, sent in order by the engine thread without coming back to JS in
 * between: a step goes out only if every earlier step was acknowledged
 * without error, else it rejects with ECANCELED. Steps can also be tasks
 * ({@link ChainTask}: a bind probe that gates what follows) or the creation
 * of a namespace ({@link ChainNamespace}) that later steps work in. One
 * promise per step, resolved like {@link NetlinkSocket.request} (a task or
 * namespace step: with its result). This is what saves a container setup
 * its round trips (namespace, veth, then the inside of the peer's
 * namespace, then the tag), each ~100 µs of thread hand-offs on a VM.
 */
export function requestChain<const S extends readonly (ChainStep | ChainTask | ChainNamespace)[]>(
  steps: S,
  patches: ChainPatch[] = [],
): { [K in keyof S]: Promise<S[K] extends ChainStep ? Reply : TaskResult> } {
  const ids = submitChain(steps, patches);
  return steps.map((st, i) =>
    wait(ids[i]).then<Reply | TaskResult>((r) => {
      if ('task' in st) st.seen?.(r);
      return settleStep(st, r);
    }),
  ) as never;
}

type AnyStep = ChainStep | ChainTask | ChainNamespace;
type Settled<S> = { [K in keyof S]: PromiseSettledResult<S[K] extends ChainStep ? Reply : TaskResult> };

/**
 * {@link requestChain}, settled like Promise.allSettled of its promises —
 * but with one promise for the whole chain (its completions arrive in one
 * delivery): a successful chain costs one resolution, not one per step.
 */
export async function requestChainSettled<const S extends readonly AnyStep[]>(steps: S, patches: ChainPatch[] | Uint32Array = []): Promise<Settled<S>> {
  return settleChain(steps, await requestChainRaw(steps, patches));
}

/** What the engine answered each step of a chain: its errno, its value, its raw reply bytes. */
export type ChainCompletion = Done;

/**
 * {@link requestChain} with the engine's own answers, unparsed, in step
 * order (one promise for the chain): for a caller that reads a successful
 * chain's replies itself and hands anything else to {@link settleChain}.
 */
export function requestChainRaw(steps: readonly AnyStep[], patches: ChainPatch[] | Uint32Array = []): Promise<Done[]> {
  const ids = submitChain(steps, patches);
  return new Promise<Done[]>((resolve) => {
    const out: Done[] = new Array(ids.length);
    let left = ids.length;
    collect(steps, ids, out, 0, () => {
      if (--left === 0) resolve(out);
    });
  });
}

/**
 * Files each step's completion as it arrives into out[base + i] (a task
 * step's seen() sees it first), then calls arrived().
 */
function collect(steps: readonly AnyStep[], ids: readonly number[], out: Done[], base: number, arrived: () => void): void {
  for (let i = 0; i < ids.length; i++) {
    const st = steps[i];
    const seen = 'task' in st ? st.seen : undefined;
    pending.set(ids[i], {
      resolve(r) {
        seen?.(r);
        out[base + i] = r;
        arrived();
      },
    });
  }
}

/** A chain's raw answers (requestChainRaw) settled as {@link requestChainSettled} settles them. */
export async function settleChain<const S extends readonly AnyStep[]>(steps: S, raw: Done[]): Promise<Settled<S>> {
  if (raw.every((r) => !r.errno)) return raw.map((r, i) => ({ status: 'fulfilled', value: 'sock' in steps[i] ? replyOf(r) : { value: r.value, data: r.data } })) as never;
  // A failure's error may need its socket's open outcome: settled the promise way.
  return (await Promise.allSettled(raw.map(async (r, i) => settleStep(steps[i], r)))) as never;
}

/**
 * Patches as the engine takes them: six u32 per patch (step, from,
 * msgType, attr, field, target), checked against the steps' bytes (a
 * caller may pass them so already: see connectVethEndpoint).
 */
function flattenPatches(steps: readonly AnyStep[], patches: readonly ChainPatch[], base = 0): Uint32Array {
  const flat = new Uint32Array(patches.length * 6);
  for (let k = 0; k < patches.length; k++) {
    const p = patches[k];
    flat[k * 6] = p.step;
    flat[k * 6 + 1] = p.from;
    flat[k * 6 + 2] = p.msgType;
    flat[k * 6 + 3] = p.attr ?? 0;
    flat[k * 6 + 4] = p.field;
    flat[k * 6 + 5] = p.target;
  }
  checkPatches(steps, flat, base);
  return flat;
}

/** Patches must name a later step of this part (from `base` on) and an earlier step of the chain. */
function checkPatches(steps: readonly AnyStep[], flat: Uint32Array, base = 0): void {
  for (let k = 0; k + 6 <= flat.length; k += 6) {
    const step = flat[k];
    const target = steps[step];
    if (step < base || flat[k + 1] >= step || step >= steps.length || !('bytes' in target) || flat[k + 5] + 4 > target.bytes.length) {
      throw new RangeError(`requestChain: bad patch ${JSON.stringify({ step, from: flat[k + 1], msgType: flat[k + 2], attr: flat[k + 3], field: flat[k + 4], target: flat[k + 5] })}`);
    }
  }
}

function settleStep(st: AnyStep, r: Done): Reply | TaskResult | Promise<never> {
  return 'sock' in st ? st.sock.settle(r, st.opts, true) : settleTask(r, st);
}

/** How a part of a chain sent in parts goes to the engine (native ChainPart). */
const enum ChainPart {
  Whole = 0,
  Open = 1,
  More = 2,
  Last = 3,
}

/**
 * A chain sent in parts ({@link requestChain} otherwise): the first steps
 * go out at once and run while the caller builds the rest. What saves a
 * container's connect the JS that writes its requests: the namespace is
 * made meanwhile, and the engine goes on to the next part as soon as both
 * are done, without a round trip through JS. Patches name steps by their
 * index in the whole chain. Every completion arrives in one delivery when
 * the chain ends, as in requestChainRaw.
 *
 * end() must be called, with the last steps or none: the engine holds the
 * chain (and whatever its steps made, such as a namespace's fd) until
 * then. A step that fails ends the chain early: the parts sent after it
 * complete with ECANCELED.
 */
export class ChainInParts {
  /** The steps sent so far, in order (what settleChain takes). */
  readonly steps: AnyStep[] = [];
  private readonly out: Done[] = [];
  private readonly key: number;
  private left = 0;
  private ended = false;
  private resolve!: (raw: Done[]) => void;
  private readonly done = new Promise<Done[]>((r) => (this.resolve = r));

  /** Sends the first part (at least one step). */
  constructor(first: readonly AnyStep[], patches: ChainPatch[] | Uint32Array = []) {
    if (!first.length) throw new RangeError('ChainInParts: the first part needs a step');
    this.key = this.send(first, patches, ChainPart.Open)[0];
  }

  /** Whether end() was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Adds steps; more are to come. */
  add(steps: readonly AnyStep[], patches: ChainPatch[] | Uint32Array = []): void {
    if (this.ended) throw new Error('ChainInParts: the chain has ended');
    this.send(steps, patches, ChainPart.More);
  }

  /**
   * Adds the last steps (or none) and waits for the whole chain: every
   * step's answer, in order. If the steps are refused before they go out
   * (a closed socket, a bad patch), the chain still ends — with what it
   * did — and this throws.
   */
  end(steps: readonly AnyStep[] = [], patches: ChainPatch[] | Uint32Array = []): Promise<Done[]> {
    if (this.ended) throw new Error('ChainInParts: the chain has ended');
    this.ended = true;
    try {
      this.send(steps, patches, ChainPart.Last);
    } catch (e) {
      this.send([], new Uint32Array(0), ChainPart.Last);
      this.settleIfDone();
      throw e;
    }
    this.settleIfDone();
    return this.done;
  }

  /** The answers of the whole chain, once end() was called and it ran. */
  get answers(): Promise<Done[]> {
    return this.done;
  }

  private settleIfDone(): void {
    if (this.left === 0 && this.ended) this.resolve(this.out);
  }

  private send(steps: readonly AnyStep[], patches: ChainPatch[] | Uint32Array, part: ChainPart): number[] {
    const base = this.steps.length;
    const ids = submitChain(steps, patches, { part, key: part === ChainPart.Open ? 0 : this.key, base, before: this.steps });
    this.steps.push(...steps);
    this.left += ids.length;
    collect(steps, ids, this.out, base, () => {
      this.left--;
      this.settleIfDone();
    });
    return ids;
  }
}

/** Where a part goes: its chain (key), how many steps came before it, and those steps (what its patches may name). */
interface PartOf {
  part: ChainPart;
  key: number;
  base: number;
  before: readonly AnyStep[];
}

/** Checks and submits a chain (or a part of one); the steps' completion ids. */
function submitChain(steps: readonly AnyStep[], patches: ChainPatch[] | Uint32Array, partOf?: PartOf): number[] {
  start();
  for (const st of steps) {
    if ('sock' in st) st.sock.assertOpen(st.opts);
    else if ('createNamespace' in st && st.createNamespace.openTask === undefined) throw new TypeError('requestChain: createNamespace takes a socket from NetlinkSocket.reserve, not yet used by a chain');
  }
  // Flat arrays: a few N-API calls for the whole chain, not several per step and per patch.
  const all = partOf?.base ? [...partOf.before, ...steps] : steps;
  let flat: Uint32Array;
  if (patches instanceof Uint32Array) checkPatches(all, (flat = patches), partOf?.base);
  else flat = flattenPatches(all, patches, partOf?.base);
  const ids: number[] = [];
  const meta = new Uint32Array(steps.length * 3);
  const payloads = steps.map((st, i) => {
    const id = allocate();
    ids.push(id);
    meta[3 * i + 1] = id;
    if ('sock' in st) {
      meta[3 * i] = st.sock.handle;
      meta[3 * i + 2] = st.opts.alone ? RequestFlag.Alone : 0;
      return st.bytes;
    }
    if ('task' in st) return st.task;
    meta[3 * i] = st.createNamespace.handle;
    return [2, st.createNamespace.openTask!, st.createNamespace.protocol] as const;
  });
  // A part's key is its chain's first id: the open part's own.
  const key = partOf === undefined ? 0 : partOf.part === ChainPart.Open ? ids[0] : partOf.key;
  try {
    if (partOf === undefined) native.requestChain(meta, payloads, flat);
    else native.requestChain(meta, payloads, flat, partOf.part, key, partOf.base);
    // The chain owns the reserved sockets' openings now (their completions come with it).
    for (const st of steps) if ('createNamespace' in st) st.createNamespace.openTask = undefined;
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (errno) throw new NetlinkError(errno, steps.find((st) => !('sock' in st))?.opts.operation ?? 'request chain', { kernelMessage: 'a task step could not be made' });
    throw err;
  }
  submitted();
  return ids;
}

function settleTask(r: Done, { opts, fail }: { opts: RequestOptions; fail?: (errno: number) => Error }): TaskResult {
  if (r.errno) {
    if (fail && r.errno !== 125) throw fail(r.errno);
    const kernelMessage = r.errno === 125 ? 'not run: an earlier request of the chain failed' : undefined;
    throw new NetlinkError(r.errno, opts.operation, { subject: opts.subject, kernelMessage });
  }
  return { value: r.value, data: r.data };
}
