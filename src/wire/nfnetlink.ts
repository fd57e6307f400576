// nfnetlink framing for nf_tables (linux/netfilter/nfnetlink.h,
// linux/netfilter/nf_tables.h): the nfgenmsg header, batch begin/end, message
// types, the object attribute numbers, nft_data (values and verdicts) and
// libnftnl's userdata TLVs. Nothing here knows about the object API.
import { NetlinkParseError } from '../errors.js';
import { cString, forEachAttr, NLMSG_MIN_TYPE, type Writer } from './netlink.js';

// enum nfnetlink_groups
export const NFNLGRP_NFTABLES = 7;
export const NFNLGRP_NFTRACE = 9;

export const NFNETLINK_V0 = 0;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = NLMSG_MIN_TYPE;
export const NFNL_MSG_BATCH_END = NLMSG_MIN_TYPE + 1;
// enum nfnl_batch_attributes
export const NFNL_BATCH_GENID = 1;

// enum nf_tables_msg_types. The uapi header installed here stops at
// DELFLOWTABLE; the rest were added in Linux 6.3 (DESTROY*) and 6.6.
export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_GETTABLE = 1;
export const NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;
export const NFT_MSG_DELCHAIN = 5;
export const NFT_MSG_NEWRULE = 6;
export const NFT_MSG_GETRULE = 7;
export const NFT_MSG_DELRULE = 8;
export const NFT_MSG_NEWSET = 9;
export const NFT_MSG_GETSET = 10;
export const NFT_MSG_DELSET = 11;
export const NFT_MSG_NEWSETELEM = 12;
export const NFT_MSG_GETSETELEM = 13;
export const NFT_MSG_DELSETELEM = 14;
export const NFT_MSG_NEWGEN = 15;
export const NFT_MSG_GETGEN = 16;
export const NFT_MSG_TRACE = 17;
export const NFT_MSG_NEWOBJ = 18;
export const NFT_MSG_GETOBJ = 19;
export const NFT_MSG_DELOBJ = 20;
export const NFT_MSG_GETOBJ_RESET = 21;
export const NFT_MSG_NEWFLOWTABLE = 22;
export const NFT_MSG_GETFLOWTABLE = 23;
export const NFT_MSG_DELFLOWTABLE = 24;
export const NFT_MSG_GETRULE_RESET = 25;
export const NFT_MSG_DESTROYTABLE = 26;
export const NFT_MSG_DESTROYCHAIN = 27;
export const NFT_MSG_DESTROYRULE = 28;
export const NFT_MSG_DESTROYSET = 29;
export const NFT_MSG_DESTROYSETELEM = 30;
export const NFT_MSG_DESTROYOBJ = 31;
export const NFT_MSG_DESTROYFLOWTABLE = 32;
export const NFT_MSG_GETSETELEM_RESET = 33;

/** nlmsg_type of an nf_tables message: subsystem in the high byte. */
export function nftMsgType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** The NFT_MSG_* of an nlmsg_type, or -1 when it is not an nf_tables message. */
export function nftMsgOf(nlmsgType: number): number {
  return nlmsgType >> 8 === NFNL_SUBSYS_NFTABLES ? nlmsgType & 0xff : -1;
}

// enum (linux/netfilter.h) NFPROTO_*: nfgen_family of nf_tables messages.
export const NFPROTO_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_ARP = 3;
export const NFPROTO_NETDEV = 5;
export const NFPROTO_BRIDGE = 7;
export const NFPROTO_IPV6 = 10;

// enum nf_inet_hooks; netdev has its own numbering (NF_NETDEV_INGRESS 0, EGRESS 1).
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;
export const NF_INET_INGRESS = 5;
export const NF_NETDEV_INGRESS = 0;
export const NF_NETDEV_EGRESS = 1;

// Netfilter verdicts (linux/netfilter.h) and nf_tables' own (enum nft_verdicts).
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;
export const NF_QUEUE = 3;
export const NF_REPEAT = 4;
export const NFT_CONTINUE = -1;
export const NFT_BREAK = -2;
export const NFT_JUMP = -3;
export const NFT_GOTO = -4;
export const NFT_RETURN = -5;

// enum nft_registers: NFT_REG_1..4 are 16-byte areas, NFT_REG32_00..15 the
// same space in 4-byte slots (NFT_REG_1 == NFT_REG32_00..03).
export const NFT_REG_VERDICT = 0;
export const NFT_REG_1 = 1;
export const NFT_REG_2 = 2;
export const NFT_REG_3 = 3;
export const NFT_REG_4 = 4;
export const NFT_REG32_00 = 8;
export const NFT_REG32_15 = 23;
export const NFT_REG_SIZE = 16;
export const NFT_REG32_SIZE = 4;
export const NFT_DATA_VALUE_MAXLEN = 64;
export const NFT_NAME_MAXLEN = 256;
export const NFT_USERDATA_MAXLEN = 256;

/**
 * The register number for the 4-byte slot `slot` (0..15), written the way
 * nft does: a slot on a 16-byte boundary as NFT_REG_1..4, else NFT_REG32_xx.
 */
export function registerForSlot(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot > 15) throw new RangeError(`register slot must be 0..15, got ${slot}`);
  return slot % 4 === 0 ? NFT_REG_1 + slot / 4 : NFT_REG32_00 + slot;
}

/** The 4-byte slot a data register starts at (NFT_REG_1 → 0, NFT_REG32_05 → 5). */
export function slotOfRegister(reg: number): number {
  if (reg >= NFT_REG_1 && reg <= NFT_REG_4) return (reg - NFT_REG_1) * 4;
  if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15) return reg - NFT_REG32_00;
  throw new RangeError(`${reg} is not a data register`);
}

// enum nft_list_attributes
export const NFTA_LIST_ELEM = 1;

// enum nft_hook_attributes
export const NFTA_HOOK_HOOKNUM = 1;
export const NFTA_HOOK_PRIORITY = 2;
export const NFTA_HOOK_DEV = 3;
export const NFTA_HOOK_DEVS = 4;

// enum nft_table_flags
export const NFT_TABLE_F_DORMANT = 0x1;
export const NFT_TABLE_F_OWNER = 0x2;
export const NFT_TABLE_F_PERSIST = 0x4;

// enum nft_table_attributes
export const NFTA_TABLE_NAME = 1;
export const NFTA_TABLE_FLAGS = 2;
export const NFTA_TABLE_USE = 3;
export const NFTA_TABLE_HANDLE = 4;
export const NFTA_TABLE_PAD = 5;
export const NFTA_TABLE_USERDATA = 6;
export const NFTA_TABLE_OWNER = 7;

// enum nft_chain_flags
export const NFT_CHAIN_BASE = 1 << 0;
export const NFT_CHAIN_HW_OFFLOAD = 1 << 1;
export const NFT_CHAIN_BINDING = 1 << 2;

// enum nft_chain_attributes
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_HANDLE = 2;
export const NFTA_CHAIN_NAME = 3;
export const NFTA_CHAIN_HOOK = 4;
export const NFTA_CHAIN_POLICY = 5;
export const NFTA_CHAIN_USE = 6;
export const NFTA_CHAIN_TYPE = 7;
export const NFTA_CHAIN_COUNTERS = 8;
export const NFTA_CHAIN_PAD = 9;
export const NFTA_CHAIN_FLAGS = 10;
export const NFTA_CHAIN_ID = 11;
export const NFTA_CHAIN_USERDATA = 12;

// enum nft_counter_attributes (also NFTA_CHAIN_COUNTERS' contents)
export const NFTA_COUNTER_BYTES = 1;
export const NFTA_COUNTER_PACKETS = 2;

// enum nft_rule_attributes
export const NFTA_RULE_TABLE = 1;
export const NFTA_RULE_CHAIN = 2;
export const NFTA_RULE_HANDLE = 3;
export const NFTA_RULE_EXPRESSIONS = 4;
export const NFTA_RULE_COMPAT = 5;
export const NFTA_RULE_POSITION = 6;
export const NFTA_RULE_USERDATA = 7;
export const NFTA_RULE_PAD = 8;
export const NFTA_RULE_ID = 9;
export const NFTA_RULE_POSITION_ID = 10;
export const NFTA_RULE_CHAIN_ID = 11;

// enum nft_set_flags
export const NFT_SET_ANONYMOUS = 0x1;
export const NFT_SET_CONSTANT = 0x2;
export const NFT_SET_INTERVAL = 0x4;
export const NFT_SET_MAP = 0x8;
export const NFT_SET_TIMEOUT = 0x10;
export const NFT_SET_EVAL = 0x20;
export const NFT_SET_OBJECT = 0x40;
export const NFT_SET_CONCAT = 0x80;
export const NFT_SET_EXPR = 0x100;

// enum nft_set_policies
export const NFT_SET_POL_PERFORMANCE = 0;
export const NFT_SET_POL_MEMORY = 1;

// enum nft_set_desc_attributes / nft_set_field_attributes
export const NFTA_SET_DESC_SIZE = 1;
export const NFTA_SET_DESC_CONCAT = 2;
export const NFTA_SET_FIELD_LEN = 1;

// enum nft_set_attributes
export const NFTA_SET_TABLE = 1;
export const NFTA_SET_NAME = 2;
export const NFTA_SET_FLAGS = 3;
export const NFTA_SET_KEY_TYPE = 4;
export const NFTA_SET_KEY_LEN = 5;
export const NFTA_SET_DATA_TYPE = 6;
export const NFTA_SET_DATA_LEN = 7;
export const NFTA_SET_POLICY = 8;
export const NFTA_SET_DESC = 9;
export const NFTA_SET_ID = 10;
export const NFTA_SET_TIMEOUT = 11;
export const NFTA_SET_GC_INTERVAL = 12;
export const NFTA_SET_USERDATA = 13;
export const NFTA_SET_PAD = 14;
export const NFTA_SET_OBJ_TYPE = 15;
export const NFTA_SET_HANDLE = 16;
export const NFTA_SET_EXPR = 17;
export const NFTA_SET_EXPRESSIONS = 18;

// enum nft_set_elem_flags
export const NFT_SET_ELEM_INTERVAL_END = 0x1;
export const NFT_SET_ELEM_CATCHALL = 0x2;

// enum nft_set_elem_attributes
export const NFTA_SET_ELEM_KEY = 1;
export const NFTA_SET_ELEM_DATA = 2;
export const NFTA_SET_ELEM_FLAGS = 3;
export const NFTA_SET_ELEM_TIMEOUT = 4;
export const NFTA_SET_ELEM_EXPIRATION = 5;
export const NFTA_SET_ELEM_USERDATA = 6;
export const NFTA_SET_ELEM_EXPR = 7;
export const NFTA_SET_ELEM_PAD = 8;
export const NFTA_SET_ELEM_OBJREF = 9;
export const NFTA_SET_ELEM_KEY_END = 10;
export const NFTA_SET_ELEM_EXPRESSIONS = 11;

// enum nft_set_elem_list_attributes
export const NFTA_SET_ELEM_LIST_TABLE = 1;
export const NFTA_SET_ELEM_LIST_SET = 2;
export const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
export const NFTA_SET_ELEM_LIST_SET_ID = 4;

// enum nft_data_types: NFTA_SET_DATA_TYPE of a verdict map.
export const NFT_DATA_VALUE = 0;
export const NFT_DATA_VERDICT = 0xffffff00;

// enum nft_data_attributes / nft_verdict_attributes
export const NFTA_DATA_VALUE = 1;
export const NFTA_DATA_VERDICT = 2;
export const NFTA_VERDICT_CODE = 1;
export const NFTA_VERDICT_CHAIN = 2;
export const NFTA_VERDICT_CHAIN_ID = 3;

// enum nft_expr_attributes
export const NFTA_EXPR_NAME = 1;
export const NFTA_EXPR_DATA = 2;

// enum nft_gen_attributes
export const NFTA_GEN_ID = 1;
export const NFTA_GEN_PROC_PID = 2;
export const NFTA_GEN_PROC_NAME = 3;

/** struct nfgenmsg { __u8 nfgen_family; __u8 version; __be16 res_id; } */
export const NFGENMSG_LEN = 4;

export interface NfGenMsg {
  family: number;
  version: number;
  /** Requests: the subsystem (batch begin) or 0. Dumps and events: low 16 bits of the ruleset generation. */
  resId: number;
}

/** Starts a netlink message with its nfgenmsg; close it with w.end(). */
export function beginNfMessage(w: Writer, type: number, flags: number, family: number, resId = 0): number {
  const start = w.begin(type, flags);
  const at = w.struct(NFGENMSG_LEN);
  w.buf[at] = family;
  w.buf[at + 1] = NFNETLINK_V0;
  w.buf.writeUInt16BE(resId, at + 2);
  return start;
}

export function readNfgenmsg(payload: Buffer): NfGenMsg {
  if (payload.length < NFGENMSG_LEN) throw new NetlinkParseError(`nfgenmsg needs ${NFGENMSG_LEN} bytes, got ${payload.length}`);
  return { family: payload[0], version: payload[1], resId: payload.readUInt16BE(2) };
}

/** NFNL_MSG_BATCH_BEGIN: res_id names the subsystem (big-endian); optional expected generation. */
export function writeBatchBegin(w: Writer, flags: number, genid?: number): void {
  const start = beginNfMessage(w, NFNL_MSG_BATCH_BEGIN, flags, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
  if (genid !== undefined) w.be32(NFNL_BATCH_GENID, genid);
  w.end(start);
}

export function writeBatchEnd(w: Writer, flags: number): void {
  w.end(beginNfMessage(w, NFNL_MSG_BATCH_END, flags, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

// ---- nft_data: NFTA_DATA_VALUE (bytes) or NFTA_DATA_VERDICT (nested) ----

export type VerdictCode = 'accept' | 'drop' | 'stolen' | 'queue' | 'repeat' | 'continue' | 'break' | 'return' | 'jump' | 'goto';

/** A verdict; jump and goto name their target chain. */
export type Verdict =
  | { code: 'accept' | 'drop' | 'stolen' | 'queue' | 'repeat' | 'continue' | 'break' | 'return' }
  | { code: 'jump' | 'goto'; chain: string }
  /** A code this library has no name for (e.g. NF_DROP with an errno). */
  | { code: number };

const VERDICT_CODES: Record<string, number> = {
  drop: NF_DROP,
  accept: NF_ACCEPT,
  stolen: NF_STOLEN,
  queue: NF_QUEUE,
  repeat: NF_REPEAT,
  continue: NFT_CONTINUE,
  break: NFT_BREAK,
  jump: NFT_JUMP,
  goto: NFT_GOTO,
  return: NFT_RETURN,
};
const VERDICT_NAMES = new Map<number, VerdictCode>(Object.entries(VERDICT_CODES).map(([k, v]) => [v, k as VerdictCode]));

export function checkVerdict(v: unknown, arg = 'verdict'): Verdict {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${arg} must be an object like { code: 'accept' }`);
  const { code, chain } = v as { code?: unknown; chain?: unknown };
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code < -0x80000000 || code > 0xffffffff) throw new RangeError(`${arg}.code must be a 32-bit integer`);
    return v as Verdict;
  }
  if (typeof code !== 'string' || !(code in VERDICT_CODES)) {
    throw new TypeError(`${arg}.code must be one of ${Object.keys(VERDICT_CODES).join(', ')}, got ${JSON.stringify(code)}`);
  }
  if (code === 'jump' || code === 'goto') {
    if (typeof chain !== 'string' || chain.length === 0) throw new TypeError(`${arg}: ${code} needs a chain name`);
    if (Buffer.byteLength(chain) >= NFT_NAME_MAXLEN) throw new RangeError(`${arg}.chain is longer than ${NFT_NAME_MAXLEN - 1} bytes`);
  } else if (chain !== undefined) {
    throw new TypeError(`${arg}: only jump and goto take a chain`);
  }
  return v as Verdict;
}

/** Writes `type` as a nested nft_data holding a value. */
export function writeDataValue(w: Writer, type: number, value: Uint8Array): void {
  const at = w.nest(type);
  w.bytes(NFTA_DATA_VALUE, value);
  w.endNest(at);
}

/** Writes `type` as a nested nft_data holding a verdict. Call checkVerdict first. */
export function writeDataVerdict(w: Writer, type: number, v: Verdict): void {
  const at = w.nest(type);
  const vat = w.nest(NFTA_DATA_VERDICT);
  const code = typeof v.code === 'number' ? v.code : VERDICT_CODES[v.code];
  w.be32(NFTA_VERDICT_CODE, code >>> 0);
  if ('chain' in v) w.string(NFTA_VERDICT_CHAIN, v.chain);
  w.endNest(vat);
  w.endNest(at);
}

export type NftData = { value: Buffer } | { verdict: Verdict };

/** Decodes the payload of a nested nft_data attribute. */
export function readData(buf: Buffer): NftData {
  let out: NftData | undefined;
  forEachAttr(buf, 0, buf.length, (type, value) => {
    if (type === NFTA_DATA_VALUE) out = { value };
    else if (type === NFTA_DATA_VERDICT) out = { verdict: readVerdict(value) };
  });
  if (!out) throw new NetlinkParseError('nft_data carries neither NFTA_DATA_VALUE nor NFTA_DATA_VERDICT');
  return out;
}

export function readDataValue(buf: Buffer, where: string): Buffer {
  const d = readData(buf);
  if (!('value' in d)) throw new NetlinkParseError(`${where}: expected a value, got a verdict`);
  return d.value;
}

function readVerdict(buf: Buffer): Verdict {
  let code: number | undefined;
  let chain: string | undefined;
  forEachAttr(buf, 0, buf.length, (type, value) => {
    if (type === NFTA_VERDICT_CODE) {
      if (value.length < 4) throw new NetlinkParseError(`NFTA_VERDICT_CODE has ${value.length} bytes`);
      code = value.readInt32BE(0);
    } else if (type === NFTA_VERDICT_CHAIN) chain = cString(value);
  });
  if (code === undefined) throw new NetlinkParseError('verdict without NFTA_VERDICT_CODE');
  const name = VERDICT_NAMES.get(code);
  if (name === undefined) return { code };
  if (name === 'jump' || name === 'goto') return { code: name, chain: chain ?? '' };
  return { code: name } as Verdict;
}

// ---- libnftnl userdata: a run of { u8 type; u8 len; u8 value[len]; } ----

// enum nftnl_udata_rule_types / table / chain / set / set_elem
export const NFTNL_UDATA_RULE_COMMENT = 0;
export const NFTNL_UDATA_TABLE_COMMENT = 0;
export const NFTNL_UDATA_CHAIN_COMMENT = 0;
export const NFTNL_UDATA_SET_KEYBYTEORDER = 0;
export const NFTNL_UDATA_SET_DATABYTEORDER = 1;
export const NFTNL_UDATA_SET_MERGE_ELEMENTS = 2;
export const NFTNL_UDATA_SET_KEY_TYPEOF = 3;
export const NFTNL_UDATA_SET_DATA_TYPEOF = 4;
export const NFTNL_UDATA_SET_EXPR = 5;
export const NFTNL_UDATA_SET_DATA_INTERVAL = 6;
export const NFTNL_UDATA_SET_COMMENT = 7;
export const NFTNL_UDATA_SET_ELEM_COMMENT = 0;
export const NFTNL_UDATA_SET_ELEM_FLAGS = 1;

// nft's enum byteorder, stored in NFTNL_UDATA_SET_{KEY,DATA}BYTEORDER (host-endian u32).
export const BYTEORDER_INVALID = 0;
export const BYTEORDER_HOST_ENDIAN = 1;
export const BYTEORDER_BIG_ENDIAN = 2;

export type UdataEntry = readonly [type: number, value: Uint8Array];

export function buildUdata(entries: readonly UdataEntry[]): Buffer {
  let len = 0;
  for (const [, v] of entries) {
    if (v.length > 255) throw new RangeError(`userdata entry is ${v.length} bytes, at most 255 fit`);
    len += 2 + v.length;
  }
  if (len > NFT_USERDATA_MAXLEN) throw new RangeError(`userdata is ${len} bytes, the kernel keeps at most ${NFT_USERDATA_MAXLEN}`);
  const out = Buffer.allocUnsafe(len);
  let off = 0;
  for (const [t, v] of entries) {
    out[off] = t;
    out[off + 1] = v.length;
    out.set(v, off + 2);
    off += 2 + v.length;
  }
  return out;
}

/** Parses userdata TLVs; a truncated entry ends the walk (userdata is opaque to the kernel). */
export function parseUdata(buf: Uint8Array): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 2 <= b.length) {
    const len = b[off + 1];
    if (off + 2 + len > b.length) break;
    out.set(b[off], b.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/** A NUL-terminated comment entry, as nft writes it. */
export function udataString(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'utf8');
}

export function udataU32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

/** The comment stored under `type` in a userdata blob, if any. */
export function udataComment(buf: Uint8Array | undefined, type: number): string | undefined {
  if (!buf) return undefined;
  const v = parseUdata(buf).get(type);
  return v ? cString(v) : undefined;
}

// Attribute names per message kind, to say which attribute an extended ack points at.
const TABLE_ATTRS = ['', 'NFTA_TABLE_NAME', 'NFTA_TABLE_FLAGS', 'NFTA_TABLE_USE', 'NFTA_TABLE_HANDLE', 'NFTA_TABLE_PAD', 'NFTA_TABLE_USERDATA', 'NFTA_TABLE_OWNER'];
const CHAIN_ATTRS = ['', 'NFTA_CHAIN_TABLE', 'NFTA_CHAIN_HANDLE', 'NFTA_CHAIN_NAME', 'NFTA_CHAIN_HOOK', 'NFTA_CHAIN_POLICY', 'NFTA_CHAIN_USE', 'NFTA_CHAIN_TYPE', 'NFTA_CHAIN_COUNTERS', 'NFTA_CHAIN_PAD', 'NFTA_CHAIN_FLAGS', 'NFTA_CHAIN_ID', 'NFTA_CHAIN_USERDATA'];
const RULE_ATTRS = ['', 'NFTA_RULE_TABLE', 'NFTA_RULE_CHAIN', 'NFTA_RULE_HANDLE', 'NFTA_RULE_EXPRESSIONS', 'NFTA_RULE_COMPAT', 'NFTA_RULE_POSITION', 'NFTA_RULE_USERDATA', 'NFTA_RULE_PAD', 'NFTA_RULE_ID', 'NFTA_RULE_POSITION_ID', 'NFTA_RULE_CHAIN_ID'];
const SET_ATTRS = ['', 'NFTA_SET_TABLE', 'NFTA_SET_NAME', 'NFTA_SET_FLAGS', 'NFTA_SET_KEY_TYPE', 'NFTA_SET_KEY_LEN', 'NFTA_SET_DATA_TYPE', 'NFTA_SET_DATA_LEN', 'NFTA_SET_POLICY', 'NFTA_SET_DESC', 'NFTA_SET_ID', 'NFTA_SET_TIMEOUT', 'NFTA_SET_GC_INTERVAL', 'NFTA_SET_USERDATA', 'NFTA_SET_PAD', 'NFTA_SET_OBJ_TYPE', 'NFTA_SET_HANDLE', 'NFTA_SET_EXPR', 'NFTA_SET_EXPRESSIONS'];
const SETELEM_LIST_ATTRS = ['', 'NFTA_SET_ELEM_LIST_TABLE', 'NFTA_SET_ELEM_LIST_SET', 'NFTA_SET_ELEM_LIST_ELEMENTS', 'NFTA_SET_ELEM_LIST_SET_ID'];
const ATTR_NAMES: Record<number, string[]> = {};
for (const [msgs, names] of [
  [[NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_DESTROYTABLE], TABLE_ATTRS],
  [[NFT_MSG_NEWCHAIN, NFT_MSG_DELCHAIN, NFT_MSG_DESTROYCHAIN], CHAIN_ATTRS],
  [[NFT_MSG_NEWRULE, NFT_MSG_DELRULE, NFT_MSG_DESTROYRULE], RULE_ATTRS],
  [[NFT_MSG_NEWSET, NFT_MSG_DELSET, NFT_MSG_DESTROYSET], SET_ATTRS],
  [[NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFT_MSG_DESTROYSETELEM], SETELEM_LIST_ATTRS],
] as const) {
  for (const m of msgs) ATTR_NAMES[m] = names as unknown as string[];
}

/**
 * Names the attribute an extended ack's offset (from the start of the
 * message) points at: "NFTA_RULE_CHAIN", or for a rule's expression list
 * "expression #2 (lookup)". Undefined when the offset hits no attribute.
 */
export function describeAttrAt(message: Buffer, offset: number): string | undefined {
  const msg = nftMsgOf(message.length >= 6 ? message.readUInt16LE(4) : -1);
  const names = ATTR_NAMES[msg];
  let found: string | undefined;
  forEachAttr(message, 16 + NFGENMSG_LEN, message.length, (type, value) => {
    const start = value.byteOffset - message.byteOffset - 4;
    if (offset < start || offset >= start + 4 + value.length) return;
    found = names?.[type] ?? `attribute ${type}`;
    if (msg === NFT_MSG_NEWRULE && type === NFTA_RULE_EXPRESSIONS && offset > start) {
      let i = 0;
      forEachAttr(value, 0, value.length, (_t, el) => {
        i++;
        const s = el.byteOffset - message.byteOffset - 4;
        if (offset < s || offset >= s + 4 + el.length) return;
        let name = '?';
        forEachAttr(el, 0, el.length, (t, v) => {
          if (t === NFTA_EXPR_NAME) name = cString(v);
        });
        found = `expression #${i} (${name})`;
      });
    }
  });
  return found;
}

// Object names repeat across the messages of a transaction (every rule names
// its table and chain); Buffer#write costs ~100 ns a call, a copy ~20 ns.
const nameCache = new Map<string, Buffer>();

/** Writes a NUL-terminated string attribute, reusing the bytes of names seen before. */
export function writeName(w: Writer, type: number, s: string): void {
  let b = nameCache.get(s);
  if (b === undefined) {
    if (nameCache.size >= 4096) nameCache.clear();
    b = Buffer.from(`${s}\0`, 'utf8');
    nameCache.set(s, b);
  }
  w.bytes(type, b);
}
