// One nf_tables transaction = one request buffer: BATCH_BEGIN, the messages,
// BATCH_END, sent alone in one sendmsg. The kernel applies all of it or none
// of it; each message carries NLM_F_ACK (up to ACK_LIMIT messages), and a
// rejected one comes back as an error whose sequence number names it.
// Operations encode when they are added (bad arguments throw there, not at
// commit).
import { NetlinkError } from '../errors.js';
import { requestChainSettled, type ChainTask, type Reply } from '../engine.js';
import { Namespace } from '../namespace.js';
import { forEachAttr, NLM_F_ACK, NLM_F_ECHO, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, parseError, Writer, type Message } from '../wire/netlink.js';
import { describeAttrAt, NFGENMSG_LEN, nftMsgOf, NFTA_GEN_ID, NFT_MSG_NEWGEN, readNfgenmsg, writeBatchBegin, writeBatchEnd } from '../wire/nfnetlink.js';

export interface NsOption {
  /** Namespace to act in; default: the one this process runs in. */
  ns?: Namespace;
}

export interface CommitOptions extends NsOption {
  /**
   * Return the objects the kernel created (with their handles), in operation
   * order, and the new generation id. Costs one echoed message per object.
   */
  echo?: boolean;
  /**
   * Fail with ERESTART unless the ruleset is still at this generation (from
   * getGeneration() or an earlier commit): read-modify-write without races.
   */
  expectGeneration?: number;
  /**
   * Engine tasks run just before the commit, in the same pass of the engine
   * thread (e.g. probeBindStep: "only if this port is free"): the batch is
   * sent only if each succeeds; else the commit rejects with the first
   * task's error and nothing was sent.
   */
  before?: readonly ChainTask[];
}

export interface CommitResult {
  /** Per operation: what the kernel echoed (a Table, Chain, Rule, NftSet), with echo set. */
  results: unknown[];
  /** The ruleset generation this commit produced (with echo set). */
  generation?: number;
}

interface Item {
  describe: string;
  decodeEcho?: (m: Message) => unknown;
}

/** A transaction under construction. */
export class Batch {
  // Grows as operations are added: a commit of one element needs a few hundred bytes (from the pool).
  protected readonly w = new Writer(1024);
  protected readonly items: Item[] = [];
  /** Per message of the body: the index of the operation that wrote it. */
  private readonly owner: number[] = [];

  /** Number of operations. */
  get size(): number {
    return this.items.length;
  }

  /** What each operation does, in order ("add rule inet netweave post"). */
  describe(): string[] {
    return this.items.map((i) => i.describe);
  }

  /**
   * Adds one operation: `write` appends one or more complete messages using
   * the given nlmsg flags. On a throw nothing of it stays in the batch.
   */
  add(describe: string, write: (w: Writer, flags: number) => void, decodeEcho?: (m: Message) => unknown): void {
    const start = this.w.off;
    try {
      write(this.w, NLM_F_REQUEST | NLM_F_ACK);
    } catch (err) {
      this.w.off = start;
      throw err;
    }
    const index = this.items.length;
    this.items.push({ describe, decodeEcho });
    for (let off = start; off < this.w.off; off += (this.w.buf.readUInt32LE(off) + 3) & ~3) this.owner.push(index);
  }

  /**
   * Sends the transaction. `operation` names the public call in errors; a
   * rejected operation is reported with its index and description.
   */
  protected async send(opts: CommitOptions, operation: string, subject?: string): Promise<CommitResult> {
    if (this.items.length === 0) return { results: [] };
    const ns = Namespace.of(opts?.ns);
    if (opts.expectGeneration !== undefined && (!Number.isInteger(opts.expectGeneration) || opts.expectGeneration < 0 || opts.expectGeneration > 0xffffffff)) {
      throw new RangeError(`expectGeneration must be a u32, got ${String(opts.expectGeneration)}`);
    }
    let body = this.w.finish();
    const count = this.owner.length;
    if (opts.echo && count > ECHO_LIMIT) {
      throw new RangeError(`echo is limited to transactions of ${ECHO_LIMIT} messages (this one has ${count}): the echoed objects must fit the socket's receive buffer`);
    }
    // Past ACK_LIMIT messages only the last one asks for an ack: the acks of a
    // large batch would overflow the receive buffer after the kernel committed
    // it. Errors are reported whether asked for or not.
    const thinAcks = count > ACK_LIMIT;
    if (opts.echo || thinAcks) {
      // A copy: the transaction's own bytes stay as encoded, for a later commit.
      body = Buffer.from(body);
      let n = 0;
      for (let off = 0; off < body.length; off += (body.readUInt32LE(off) + 3) & ~3) {
        let flags = body.readUInt16LE(off + 6);
        if (opts.echo) flags |= NLM_F_ECHO;
        if (thinAcks && ++n < count) flags &= ~NLM_F_ACK;
        body.writeUInt16LE(flags, off + 6);
      }
    }
    // Batch begin, body, batch end in one buffer of the right size (at most 28 + 20 bytes around the body).
    const out = new Writer(body.length + 48);
    // With echo on the batch begin the kernel also reports the new generation.
    writeBatchBegin(out, NLM_F_REQUEST | (opts.echo ? NLM_F_ECHO : 0), opts.expectGeneration);
    body.copy(out.buf, out.off);
    out.off += body.length;
    writeBatchEnd(out, NLM_F_REQUEST);
    const bytes = out.finish();
    let reply: Reply;
    try {
      const sock = ns.netfilter();
      const ropts = { operation, subject, alone: true };
      if (opts.before?.length) {
        const done = await requestChainSettled([...opts.before, { sock, bytes, opts: ropts }]);
        // Not sent because a check failed: that check's error is the one to report.
        const refused = done.find((r) => r.status === 'rejected');
        if (refused) throw (refused as PromiseRejectedResult).reason;
        reply = (done[done.length - 1] as PromiseFulfilledResult<Reply>).value;
      } else reply = await sock.request(bytes, ropts);
    } catch (err) {
      // A committed batch answers with at most ACK_LIMIT acks (and ECHO_LIMIT
      // echoes), which fit; an overflow means error replies, one per rejected
      // message: the batch was rejected as a whole.
      if (err instanceof NetlinkError && err.code === 'ENOBUFS') {
        throw new NetlinkError(err.errno, operation, {
          subject,
          item: `commit of ${this.items.length} operations: rejected, nothing applied; the kernel's error replies overflowed the receive buffer, so which operation it rejected first is unknown`,
        });
      }
      throw err;
    }
    const results: unknown[] = new Array(this.items.length).fill(undefined);
    let generation: number | undefined;
    let first: { index: number; errno: number; kernelMessage?: string; attributeOffset?: number; missingAttribute?: number } | undefined;
    for (const m of reply.messages) {
      const index = (m.seq - reply.firstSeq) >>> 0;
      if (m.type === NLMSG_ERROR) {
        const e = parseError(m);
        if (e.errno && (!first || index < first.index)) first = { index, ...e };
        continue;
      }
      if (m.type === NLMSG_DONE) continue;
      if (nftMsgOf(m.type) === NFT_MSG_NEWGEN) {
        generation = readGeneration(m);
        continue;
      }
      const op = index >= 1 && index <= this.owner.length ? this.owner[index - 1] : undefined;
      if (op !== undefined && results[op] === undefined) results[op] = this.items[op].decodeEcho?.(m);
    }
    if (first) {
      const op = first.index >= 1 && first.index <= this.owner.length ? this.owner[first.index - 1] : undefined;
      let item: string;
      if (op === undefined) {
        // An error on the batch begin is the commit itself: validation across the ruleset, or a stale generation.
        item = `commit of ${this.items.length} operation${this.items.length === 1 ? '' : 's'}`;
        if (first.errno === ERESTART && opts.expectGeneration !== undefined) item += `: the ruleset is no longer at generation ${opts.expectGeneration}`;
      } else {
        item = this.items[op].describe;
        if (first.attributeOffset !== undefined) {
          const where = describeAttrAt(messageAt(body, first.index - 1), first.attributeOffset);
          if (where) item += `, at ${where}`;
        }
      }
      throw new NetlinkError(first.errno, operation, {
        subject,
        kernelMessage: first.kernelMessage,
        attributeOffset: first.attributeOffset,
        missingAttribute: first.missingAttribute,
        index: op,
        item,
      });
    }
    return generation === undefined ? { results } : { results, generation };
  }
}

// Acks of every message of a batch this size fit the receive buffer the
// engine sets (8 MiB; measured: 20,000 fit, 40,000 overflow); beyond it only
// the last message is acked. Echoed objects are bigger: the same bound.
const ACK_LIMIT = 4096;
const ECHO_LIMIT = 4096;

// Linux's ERESTART: a batch that expected another ruleset generation.
const ERESTART = 85;

/** The n-th netlink message of a buffer of messages. */
function messageAt(buf: Buffer, n: number): Buffer {
  let off = 0;
  for (let i = 0; i < n; i++) off += (buf.readUInt32LE(off) + 3) & ~3;
  return buf.subarray(off, off + buf.readUInt32LE(off));
}

/** NFTA_GEN_ID of a NEWGEN message. */
export function readGeneration(m: Message): number | undefined {
  readNfgenmsg(m.payload);
  let id: number | undefined;
  forEachAttr(m.payload, NFGENMSG_LEN, m.payload.length, (type, value) => {
    if (type === NFTA_GEN_ID && value.length >= 4) id = value.readUInt32BE(0);
  });
  return id;
}

/** Commits a single operation as its own transaction; returns what the kernel echoed. */
export async function commitOne(
  opts: CommitOptions,
  operation: string,
  subject: string | undefined,
  describe: string,
  write: (w: Writer, flags: number) => void,
  decodeEcho?: (m: Message) => unknown,
): Promise<unknown> {
  const b = new OneShot();
  b.add(describe, write, decodeEcho);
  const r = await b.run(opts, operation, subject);
  return r.results[0];
}

class OneShot extends Batch {
  run(opts: CommitOptions, operation: string, subject?: string): Promise<CommitResult> {
    return this.send(opts, operation, subject);
  }
}
