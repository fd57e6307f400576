// Netlink framing (linux/netlink.h): message headers, attribute TLVs, the
// error/ack message with extended-ack TLVs, and a writer that builds several
// messages into one buffer. Nothing here knows about links or nftables.
import { NetlinkParseError } from '../errors.js';

// struct nlmsghdr { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; }
export const NLMSG_HDRLEN = 16;
// struct nlattr { __u16 nla_len; __u16 nla_type; }
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

export const NLMSG_NOOP = 0x1;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLMSG_OVERRUN = 0x4;
export const NLMSG_MIN_TYPE = 0x10;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// Modifiers to GET requests
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// Modifiers to NEW requests
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// Modifiers to DELETE requests
export const NLM_F_NONREC = 0x100;
export const NLM_F_BULK = 0x200;
// Flags on NLMSG_ERROR
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// enum nlmsgerr_attrs
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

export const align4 = (n: number): number => (n + 3) & ~3;

export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Payload (after the 16-byte header), a view into the reply buffer. */
  payload: Buffer;
}

/** Splits a buffer into netlink messages, checking every length against the buffer. */
export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) {
      throw new NetlinkParseError(`truncated netlink header at offset ${off} (${buf.length - off} bytes left)`);
    }
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || len > buf.length - off) {
      throw new NetlinkParseError(`netlink message at offset ${off} claims ${len} bytes, ${buf.length - off} available`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off = Math.min(align4(off + len), buf.length);
  }
  return out;
}

/**
 * Walks the netlink messages in buf without copying them: fn gets each
 * one's type and the offsets of its payload, and stops the walk by
 * returning false. Returns false when a length lies (where parseMessages
 * throws) or fn stopped it, else true.
 */
export function forEachMessage(buf: Buffer, fn: (type: number, payloadStart: number, end: number) => boolean | void): boolean {
  for (let off = 0; off < buf.length; ) {
    const len = buf.length - off >= NLMSG_HDRLEN ? buf.readUInt32LE(off) : 0;
    if (len < NLMSG_HDRLEN || len > buf.length - off) return false;
    if (fn(buf.readUInt16LE(off + 4), off + NLMSG_HDRLEN, off + len) === false) return false;
    off = align4(off + len);
  }
  return true;
}

/** Whether a reply holds no error ack (an NLMSG_ERROR whose error is not 0) and no length lies. */
export function noErrorAck(buf: Buffer): boolean {
  return forEachMessage(buf, (type, at, end) => type !== NLMSG_ERROR || (end - at >= 4 && buf.readInt32LE(at) === 0));
}

export interface RawAttr {
  type: number;
  nested: boolean;
  value: Buffer;
}

/**
 * Calls fn for each attribute in buf[start, end). Unknown types are the
 * caller's business; a length that lies is an error, never an overread.
 */
export function forEachAttr(buf: Buffer, start: number, end: number, fn: (type: number, value: Buffer, nested: boolean) => void): void {
  let off = start;
  if (end > buf.length) throw new NetlinkParseError(`attribute area ends at ${end}, buffer has ${buf.length} bytes`);
  while (end - off >= NLA_HDRLEN) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || len > end - off) {
      throw new NetlinkParseError(`attribute type ${rawType & NLA_TYPE_MASK} at offset ${off} claims ${len} bytes, ${end - off} available`);
    }
    fn(rawType & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len), (rawType & NLA_F_NESTED) !== 0);
    off += align4(len);
  }
}

/**
 * Offset in buf of the value of the attribute at `path` in the message at
 * `msgStart` (after its fixed header of `fixed` bytes): the first attribute
 * of path[0], inside it the first of path[1], and so on. Undefined when
 * one is missing. For templates: where a value to write over lies.
 */
export function attrPathAt(buf: Buffer, msgStart: number, fixed: number, path: readonly number[]): number | undefined {
  let start = msgStart + NLMSG_HDRLEN + fixed;
  let end = msgStart + buf.readUInt32LE(msgStart);
  for (const type of path) {
    let found: Buffer | undefined;
    forEachAttr(buf, start, end, (t, value) => {
      if (t === type && !found) found = value;
    });
    if (!found) return undefined;
    start = found.byteOffset - buf.byteOffset;
    end = start + found.length;
  }
  return start;
}

export function attrs(buf: Buffer, start = 0, end = buf.length): RawAttr[] {
  const out: RawAttr[] = [];
  forEachAttr(buf, start, end, (type, value, nested) => out.push({ type, nested, value }));
  return out;
}

/** struct nlmsgerr { int error; struct nlmsghdr msg; } followed by ext-ack TLVs. */
export interface ErrorReply {
  /** 0 for an ack, else a positive errno. */
  errno: number;
  /** Sequence number of the request this answers. */
  seq: number;
  kernelMessage?: string;
  attributeOffset?: number;
  missingAttribute?: number;
}

export function parseError(m: Message): ErrorReply {
  const p = m.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new NetlinkParseError(`NLMSG_ERROR payload is ${p.length} bytes, need ${4 + NLMSG_HDRLEN}`);
  const error = p.readInt32LE(0);
  const echoedLen = p.readUInt32LE(4);
  const reply: ErrorReply = { errno: -error, seq: p.readUInt32LE(12) };
  if (m.flags & NLM_F_ACK_TLVS) {
    const tlvStart = m.flags & NLM_F_CAPPED ? 4 + NLMSG_HDRLEN : 4 + align4(echoedLen);
    if (tlvStart <= p.length) {
      forEachAttr(p, tlvStart, p.length, (type, value) => {
        if (type === NLMSGERR_ATTR_MSG) reply.kernelMessage = cString(value);
        else if (type === NLMSGERR_ATTR_OFFS && value.length >= 4) reply.attributeOffset = value.readUInt32LE(0);
        else if (type === NLMSGERR_ATTR_MISS_TYPE && value.length >= 4) reply.missingAttribute = value.readUInt32LE(0);
      });
    }
  }
  return reply;
}

export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

/**
 * Builds netlink messages and attributes into one growing buffer. Several
 * messages may be written back to back (a pipeline or an nfnetlink batch);
 * the engine numbers them when it sends.
 */
export class Writer {
  buf: Buffer;
  off = 0;

  constructor(size = 512) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  /** Starts a message; returns its offset for end(). */
  begin(type: number, flags: number): number {
    this.ensure(NLMSG_HDRLEN);
    const start = this.off;
    const b = this.buf;
    b.writeUInt32LE(0, start);
    b.writeUInt16LE(type, start + 4);
    b.writeUInt16LE(flags, start + 6);
    b.writeUInt32LE(0, start + 8);
    b.writeUInt32LE(0, start + 12);
    this.off += NLMSG_HDRLEN;
    return start;
  }

  end(start: number): void {
    this.buf.writeUInt32LE(this.off - start, start);
  }

  /** Zeroed bytes for a fixed struct; returns their offset. */
  struct(size: number): number {
    this.ensure(align4(size));
    const at = this.off;
    this.buf.fill(0, at, at + align4(size));
    this.off += align4(size);
    return at;
  }

  private header(type: number, len: number): number {
    this.ensure(align4(NLA_HDRLEN + len));
    const at = this.off;
    this.buf.writeUInt16LE(NLA_HDRLEN + len, at);
    this.buf.writeUInt16LE(type, at + 2);
    this.off += NLA_HDRLEN;
    return at;
  }

  private pad(): void {
    const aligned = align4(this.off);
    if (aligned !== this.off) this.buf.fill(0, this.off, aligned);
    this.off = aligned;
  }

  u8(type: number, v: number): void {
    this.header(type, 1);
    this.buf.writeUInt8(v, this.off);
    this.off += 1;
    this.pad();
  }
  u16(type: number, v: number): void {
    this.header(type, 2);
    this.buf.writeUInt16LE(v, this.off);
    this.off += 2;
    this.pad();
  }
  u32(type: number, v: number): void {
    this.header(type, 4);
    this.buf.writeUInt32LE(v >>> 0, this.off);
    this.off += 4;
  }
  s32(type: number, v: number): void {
    this.header(type, 4);
    this.buf.writeInt32LE(v, this.off);
    this.off += 4;
  }
  u64(type: number, v: bigint | number): void {
    this.header(type, 8);
    this.buf.writeBigUInt64LE(BigInt(v), this.off);
    this.off += 8;
  }
  be16(type: number, v: number): void {
    this.header(type, 2);
    this.buf.writeUInt16BE(v, this.off);
    this.off += 2;
    this.pad();
  }
  be32(type: number, v: number): void {
    this.header(type, 4);
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }
  be64(type: number, v: bigint | number): void {
    this.header(type, 8);
    this.buf.writeBigUInt64BE(BigInt(v), this.off);
    this.off += 8;
  }
  /** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  string(type: number, s: string): void {
    const n = Buffer.byteLength(s);
    this.header(type, n + 1);
    this.buf.write(s, this.off, 'utf8');
    this.buf[this.off + n] = 0;
    this.off += n + 1;
    this.pad();
  }
  bytes(type: number, b: Uint8Array): void {
    this.header(type, b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
    this.pad();
  }
  flag(type: number): void {
    this.header(type, 0);
  }
  /** Opens a nested attribute (NLA_F_NESTED set); close it with endNest. */
  nest(type: number): number {
    return this.header(type | NLA_F_NESTED, 0);
  }
  endNest(at: number): void {
    this.buf.writeUInt16LE(this.off - at, at);
  }

  /** The bytes written so far (a view; copy if the writer is reused). */
  finish(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}
