// Request coalescing for the rtnetlink object modules (addresses, routes,
// neighbours): the mutations of one synchronous run share request buffers.
import { errorFromAck, failedAck, type NetlinkSocket, type Reply, type RequestOptions } from './engine.js';
import { NetlinkError } from './errors.js';
import type { Namespace } from './namespace.js';
import { Writer, type Message } from './wire/netlink.js';

/** Messages per request buffer. */
export const PIPELINE_CHUNK = 256;
/**
 * Messages allowed in flight per socket. Each may be answered with an error
 * message that holds a few hundred bytes of the socket's 8 MiB receive
 * buffer until the engine reads it, and the engine packs up to 1 MiB of
 * requests into one sendmsg: unthrottled, 100,000 failing deletes in one run
 * overflowed it (measured). Past this many, chunks wait for earlier ones.
 */
const MAX_IN_FLIGHT = 4096;

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
  operation: string;
  subject?: string;
}

interface Unit {
  bytes: Buffer;
  /** One per message, for a batch of mutations; absent for a standalone request (a dump). */
  waiters?: Waiter[];
  opts?: RequestOptions;
  onPart?: (messages: Message[] | null) => void;
  done?: (r: Message[] | Error) => void;
}

/**
 * Per-socket request coalescing. Each mutation writes its message into the
 * run's open buffer; when the synchronous run ends (a microtask), or at
 * PIPELINE_CHUNK messages, the buffer goes to the engine as one request — so 1,000
 * calls made in one Promise.all cost four requests, not 1,000. Requests
 * leave in call order, standalone ones (dumps) included, so a list issued
 * after a change sees it.
 *
 * The messages carry no NLM_F_ACK: rtnetlink handles a sendmsg's messages
 * synchronously and always answers an error (netlink_rcv_skb acks when
 * NLM_F_ACK is set *or* the handler failed), and the engine completes a
 * request once the kernel's replies to its sendmsg are drained. So silence
 * is success and an error's seq (firstSeq + i) names the message; the kernel
 * skips 1,000 ack allocations and nobody parses them (measured: about
 * 1.5–4 µs less per address add).
 */
export class Pipeline {
  private readonly w = new Writer(8192);
  private batch: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly queue: Unit[] = [];

  private constructor(private readonly sock: NetlinkSocket) {}

  private static readonly bySocket = new WeakMap<NetlinkSocket, Pipeline>();

  static of(ns: Namespace): Pipeline {
    const sock = ns.route();
    let p = Pipeline.bySocket.get(sock);
    if (!p) Pipeline.bySocket.set(sock, (p = new Pipeline(sock)));
    return p;
  }

  /** Writes one message (without NLM_F_ACK) into the open buffer; settles when its request completes. */
  send(write: (w: Writer) => void, operation: string, subject?: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const start = this.w.off;
      try {
        write(this.w);
      } catch (e) {
        this.w.off = start;
        reject(e);
        return;
      }
      this.batch.push({ resolve, reject, operation, subject });
      if (this.batch.length >= PIPELINE_CHUNK) this.cut();
      else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.cut();
        });
      }
    });
  }

  /**
   * A standalone request (a dump or a get), sent after everything this
   * pipeline already holds. With `onPart`, a dump is streamed (see
   * NetlinkSocket.callStream): parts arrive there, the rest in the result.
   */
  call(bytes: Uint8Array, opts: RequestOptions, onPart?: (messages: Message[] | null) => void): Promise<Message[]> {
    this.cut();
    if (this.queue.length === 0) return this.standalone(bytes, opts, onPart);
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes: Buffer.from(bytes), opts, onPart, done: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  }

  private standalone(bytes: Uint8Array, opts: RequestOptions, onPart?: (messages: Message[] | null) => void): Promise<Message[]> {
    return onPart && opts.dump ? this.sock.callStream(bytes, opts, onPart) : this.sock.call(bytes, opts);
  }

  /** Closes the open buffer into a unit and sends what flow control allows. */
  private cut(): void {
    if (this.batch.length > 0) {
      const waiters = this.batch;
      this.batch = [];
      const bytes = this.w.finish();
      this.w.off = 0;
      if (this.queue.length === 0 && this.inFlight + waiters.length <= MAX_IN_FLIGHT) {
        this.submit(bytes, waiters); // the engine copies the bytes before this returns
        return;
      }
      this.queue.push({ bytes: Buffer.from(bytes), waiters });
    }
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const u = this.queue[0];
      const n = u.waiters?.length ?? 0;
      if (this.inFlight > 0 && this.inFlight + n > MAX_IN_FLIGHT) return;
      this.queue.shift();
      if (u.waiters) this.submit(u.bytes, u.waiters);
      else this.standalone(u.bytes, u.opts!, u.onPart).then(u.done, u.done);
    }
  }

  private submit(bytes: Uint8Array, waiters: Waiter[]): void {
    this.inFlight += waiters.length;
    this.sock.request(bytes, { operation: waiters[0].operation, subject: waiters[0].subject }).then(
      (reply) => {
        this.inFlight -= waiters.length;
        settle(waiters, reply);
        this.pump();
      },
      (e: unknown) => {
        this.inFlight -= waiters.length;
        for (const w of waiters) {
          w.reject(e instanceof NetlinkError ? new NetlinkError(e.errno, w.operation, { subject: w.subject, kernelMessage: e.kernelMessage }) : e);
        }
        this.pump();
      },
    );
  }
}

/** Settles each message's caller: an error at seq firstSeq + i belongs to waiter i; the others succeeded. */
function settle(waiters: Waiter[], reply: Reply): void {
  for (const m of reply.messages) {
    const failed = failedAck(m, reply);
    const w = failed && waiters[failed.index];
    if (w) w.reject(errorFromAck(failed.ack, w.operation, { subject: w.subject }));
  }
  for (const w of waiters) w.resolve(); // no-op for those rejected above
}
