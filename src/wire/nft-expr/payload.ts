// payload (net/netfilter/nft_payload.c): loads `len` bytes at `offset` from a
// header base into a register, or writes a register there (with optional
// checksum update).
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, optRegister, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_payload_attributes
export const NFTA_PAYLOAD_DREG = 1;
export const NFTA_PAYLOAD_BASE = 2;
export const NFTA_PAYLOAD_OFFSET = 3;
export const NFTA_PAYLOAD_LEN = 4;
export const NFTA_PAYLOAD_SREG = 5;
export const NFTA_PAYLOAD_CSUM_TYPE = 6;
export const NFTA_PAYLOAD_CSUM_OFFSET = 7;
export const NFTA_PAYLOAD_CSUM_FLAGS = 8;

// enum nft_payload_bases
export const payloadBases = new Enum('payload base', { ll: 0, network: 1, transport: 2, inner: 3 });
export type PayloadBase = (typeof payloadBases.names)[number];
// enum nft_payload_csum_types
export const payloadCsumTypes = new Enum('checksum type', { none: 0, inet: 1, sctp: 2 });
export const NFT_PAYLOAD_L4CSUM_PSEUDOHDR = 1;

export interface PayloadExpr {
  type: 'payload';
  base: PayloadBase | number;
  offset: number;
  len: number;
  /** Load into this register ... */
  dreg?: Register;
  /** ... or write this register into the packet (exactly one of the two). */
  sreg?: Register;
  csumType?: 'none' | 'inet' | 'sctp' | number;
  csumOffset?: number;
  /** NFT_PAYLOAD_L4CSUM_PSEUDOHDR */
  csumFlags?: number;
  unknown?: RawAttr[];
}

// libnftnl order: sreg, dreg, base, offset, len, csum type/offset/flags.
const attrs = schema('payload', {
  sreg: [NFTA_PAYLOAD_SREG, 'be32'],
  dreg: [NFTA_PAYLOAD_DREG, 'be32'],
  base: [NFTA_PAYLOAD_BASE, 'be32'],
  offset: [NFTA_PAYLOAD_OFFSET, 'be32'],
  len: [NFTA_PAYLOAD_LEN, 'be32'],
  csumType: [NFTA_PAYLOAD_CSUM_TYPE, 'be32'],
  csumOffset: [NFTA_PAYLOAD_CSUM_OFFSET, 'be32'],
  csumFlags: [NFTA_PAYLOAD_CSUM_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('payload', ['base', 'offset', 'len', 'dreg', 'sreg', 'csumType', 'csumOffset', 'csumFlags']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    payload: PayloadExpr;
  }
}

export const payload = registerExpr<PayloadExpr>({
  name: 'payload',
  encode(w, e) {
    checkFields(e);
    if ((e.dreg === undefined) === (e.sreg === undefined)) throw new TypeError('payload expression needs exactly one of dreg (load) or sreg (write)');
    if (!Number.isInteger(e.len) || e.len < 1 || e.len > 64) throw new RangeError(`payload.len must be 1..64 bytes, got ${String(e.len)}`);
    writeAttrs(w, {
      sreg: optRegister(e.sreg, 'payload.sreg'),
      dreg: optRegister(e.dreg, 'payload.dreg'),
      base: payloadBases.value(e.base, 'payload.base'),
      offset: e.offset,
      len: e.len,
      csumType: e.csumType === undefined ? undefined : payloadCsumTypes.value(e.csumType, 'payload.csumType'),
      csumOffset: e.csumOffset,
      csumFlags: e.csumFlags,
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: PayloadExpr = {
      type: 'payload',
      base: payloadBases.name(required(a.base, 'payload: NFTA_PAYLOAD_BASE')) as PayloadBase,
      offset: required(a.offset, 'payload: NFTA_PAYLOAD_OFFSET'),
      len: required(a.len, 'payload: NFTA_PAYLOAD_LEN'),
    };
    if (a.dreg !== undefined) e.dreg = a.dreg;
    if (a.sreg !== undefined) e.sreg = a.sreg;
    if (a.csumType !== undefined) e.csumType = payloadCsumTypes.name(a.csumType) as PayloadExpr['csumType'];
    if (a.csumOffset !== undefined) e.csumOffset = a.csumOffset;
    if (a.csumFlags !== undefined) e.csumFlags = a.csumFlags;
    return withUnknown(e, a.unknown);
  },
});
