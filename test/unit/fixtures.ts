// Helpers shared by the byte-fixture tests.
import { forEachAttr, NLA_F_NESTED, Writer } from '../../src/wire/netlink.js';
import type { Schema } from '../../src/wire/schema.js';

/** Hex text (whitespace ignored) to bytes. */
export const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');

/** A netlink message as netweave writes it: nlmsghdr (seq and pid 0; the engine numbers messages) + body in hex. */
export function message(type: number, flags: number, body: string): Buffer {
  const b = hex(body);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + b.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  return Buffer.concat([h, b]);
}

/**
 * Re-encodes each attribute of buf[start..] through the schema, one at a
 * time in the order the kernel sent them, so the result can be compared with
 * the kernel's bytes. Attributes of `unflagged` types are nested ones the
 * kernel writes without NLA_F_NESTED (the schema sets it): that bit is
 * cleared on them to compare.
 */
export function reencode(s: Schema<any>, buf: Buffer, start: number, unflagged: readonly number[] = []): Buffer {
  const w = new Writer(64);
  forEachAttr(buf, start, buf.length, (type, value) => {
    const key = Object.keys(s.defs).find((k) => s.defs[k][0] === type);
    if (!key) return w.bytes(type, value);
    const one = new Writer(32);
    one.bytes(type, value);
    const decoded = s.decode(one.finish()) as Record<string, unknown>;
    const at = w.off;
    s.encode(w, { [key]: decoded[key] } as never);
    if (unflagged.includes(type)) w.buf.writeUInt16LE(w.buf.readUInt16LE(at + 2) & ~NLA_F_NESTED, at + 2);
  });
  return w.finish();
}
