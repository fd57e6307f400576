// Named sets and maps, and their elements. Keys and data are typed (nft's
// data types, concatenations as lists); interval sets take ranges and CIDR
// prefixes. Single-field interval sets keep each range as a start element
// and an end element (first address past it, flagged INTERVAL_END);
// concatenations with intervals keep KEY and KEY_END in one element.
import { NetlinkError, NetlinkParseError } from '../errors.js';
import { forEachAttr, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, Writer, type Message } from '../wire/netlink.js';
import {
  beginNfMessage,
  buildUdata,
  checkVerdict,
  NFGENMSG_LEN,
  NFPROTO_UNSPEC,
  nftMsgOf,
  nftMsgType,
  NFTA_DATA_VALUE,
  NFTA_LIST_ELEM,
  NFTA_SET_DATA_LEN,
  NFTA_SET_DATA_TYPE,
  NFTA_SET_DESC,
  NFTA_SET_DESC_CONCAT,
  NFTA_SET_DESC_SIZE,
  NFTA_SET_ELEM_DATA,
  NFTA_SET_ELEM_EXPIRATION,
  NFTA_SET_ELEM_FLAGS,
  NFTA_SET_ELEM_KEY,
  NFTA_SET_ELEM_KEY_END,
  NFTA_SET_ELEM_LIST_ELEMENTS,
  NFTA_SET_ELEM_LIST_SET,
  NFTA_SET_ELEM_LIST_SET_ID,
  NFTA_SET_ELEM_LIST_TABLE,
  
  NFTA_SET_ELEM_TIMEOUT,
  NFTA_SET_ELEM_USERDATA,
  NFTA_SET_FIELD_LEN,
  NFTA_SET_FLAGS,
  NFTA_SET_GC_INTERVAL,
  NFTA_SET_HANDLE,
  NFTA_SET_ID,
  NFTA_SET_KEY_LEN,
  NFTA_SET_KEY_TYPE,
  NFTA_SET_NAME,
  NFTA_SET_OBJ_TYPE,
  NFTA_SET_POLICY,
  NFTA_SET_TABLE,
  NFTA_SET_TIMEOUT,
  NFTA_SET_USERDATA,
  NFT_DATA_VERDICT,
  NFT_MSG_DELSET,
  NFT_MSG_DELSETELEM,
  NFT_MSG_DESTROYSET,
  NFT_MSG_DESTROYSETELEM,
  NFT_MSG_GETSET,
  NFT_MSG_GETSETELEM,
  NFT_MSG_NEWSET,
  NFT_MSG_NEWSETELEM,
  NFT_SET_CONCAT,
  NFT_SET_ELEM_CATCHALL,
  NFT_SET_ELEM_INTERVAL_END,
  NFT_SET_MAP,
  NFT_SET_POL_MEMORY,
  NFTNL_UDATA_SET_COMMENT,
  NFTNL_UDATA_SET_DATABYTEORDER,
  NFTNL_UDATA_SET_ELEM_COMMENT,
  NFTNL_UDATA_SET_KEYBYTEORDER,
  readData,
  readNfgenmsg,
  udataComment,
  udataString,
  udataU32,
  writeDataVerdict,
  type UdataEntry,
  type Verdict,
  writeName,
} from '../wire/nfnetlink.js';
import { Flags } from '../wire/nft-expr/common.js';
import { schema } from '../wire/schema.js';
import { ipToBytes, networkBytes, parseCidr, prefixMask } from '../wire/address.js';
import { Namespace } from '../namespace.js';
import { Batch, commitOne, type CommitOptions, type NsOption } from './batch.js';
import { concatFieldLens, resolveType, typeFromKernel, typeSpecOf, verdictType, type DataType, type TypeSpec } from './datatypes.js';
import { checkComment, familyName, familyNumber, checkHandle, knownKeys, checkName, type Family } from './family.js';
import { dump, get } from './request.js';

export type SetFlag = 'anonymous' | 'constant' | 'interval' | 'map' | 'timeout' | 'dynamic' | 'object' | 'concat' | 'expr';
// enum nft_set_flags (dynamic is NFT_SET_EVAL)
export const setFlags = new Flags<SetFlag>('set flag', {
  anonymous: 0x1,
  constant: 0x2,
  interval: 0x4,
  map: 0x8,
  timeout: 0x10,
  dynamic: 0x20,
  object: 0x40,
  concat: 0x80,
  expr: 0x100,
});

export interface SetSpec {
  family: Family;
  table: string;
  name: string;
  /** Key type: 'ipv4_addr', or a concatenation ['inet_proto', 'inet_service']. */
  key: TypeSpec;
  /** Makes it a map: the data type, a concatenation, or 'verdict' (a verdict map). */
  data?: TypeSpec | 'verdict';
  /** interval (ranges and prefixes), timeout (elements expire), dynamic (rules add elements), constant. */
  flags?: ('constant' | 'interval' | 'timeout' | 'dynamic')[];
  /** Default element timeout, milliseconds. */
  timeout?: number;
  /** Garbage collection interval for expired elements, milliseconds. */
  gcInterval?: number;
  /** Maximum number of elements. */
  size?: number;
  policy?: 'performance' | 'memory';
  comment?: string;
  /** Elements to add in the same transaction. */
  elements?: readonly SetElement[];
}

/** A set by name, or by handle. */
export interface SetRef {
  family: Family;
  table: string;
  name?: string;
  handle?: number;
}

/** What element encoding needs: the set's key (and data) type and whether it holds intervals. */
export interface TypedSetRef {
  family: Family;
  table: string;
  name: string;
  key: TypeSpec | string | readonly string[];
  data?: TypeSpec | 'verdict' | string | readonly string[];
  flags?: readonly (string | number)[];
  /** From a set read back: the kernel's type ids (used when the names are not known here). */
  keyType?: number;
  keyLen?: number;
  dataType?: number;
  dataLen?: number;
}

export interface NftSet {
  family: Family;
  table: string;
  name: string;
  handle: number;
  /** Type name, or part names of a concatenation (unknown ids read "type N"). */
  key: string | string[];
  keyType: number;
  keyLen: number;
  data?: string | string[];
  dataType?: number;
  dataLen?: number;
  flags: (SetFlag | number)[];
  timeout?: number;
  gcInterval?: number;
  size?: number;
  policy?: 'performance' | 'memory';
  comment?: string;
}

/** An element. In interval sets the key may be a CIDR prefix (addresses) or [key, keyEnd] inclusive. */
export interface SetElement<K = unknown, D = unknown> {
  key?: K;
  /** Last key of a range (inclusive); interval sets only. */
  keyEnd?: K;
  /** Map data (a Verdict for verdict maps). */
  data?: D;
  /** Milliseconds until it expires (sets with the timeout flag). */
  timeout?: number;
  /** Read back: milliseconds left. */
  expires?: number;
  comment?: string;
  /** The default element of a map (`*`), matched when no other is (Linux 5.13+). */
  catchall?: boolean;
}

const descAttrs = schema('set desc', {
  size: [NFTA_SET_DESC_SIZE, 'be32'],
  concat: [NFTA_SET_DESC_CONCAT, 'binary'],
} as const);

// enum nft_set_attributes
export const setAttrs = schema('set', {
  table: [NFTA_SET_TABLE, 'string'],
  name: [NFTA_SET_NAME, 'string'],
  flags: [NFTA_SET_FLAGS, 'be32'],
  keyType: [NFTA_SET_KEY_TYPE, 'be32'],
  keyLen: [NFTA_SET_KEY_LEN, 'be32'],
  dataType: [NFTA_SET_DATA_TYPE, 'be32'],
  dataLen: [NFTA_SET_DATA_LEN, 'be32'],
  objType: [NFTA_SET_OBJ_TYPE, 'be32'],
  id: [NFTA_SET_ID, 'be32'],
  policy: [NFTA_SET_POLICY, 'be32'],
  desc: [NFTA_SET_DESC, 'nested', descAttrs],
  timeout: [NFTA_SET_TIMEOUT, 'be64'],
  gcInterval: [NFTA_SET_GC_INTERVAL, 'be32'],
  userdata: [NFTA_SET_USERDATA, 'binary'],
  handle: [NFTA_SET_HANDLE, 'be64'],
} as const);

export function decodeSet(m: Message): NftSet {
  const g = readNfgenmsg(m.payload);
  const a = setAttrs.decode(m.payload, NFGENMSG_LEN);
  const keyType = a.keyType ?? 0;
  const keyLen = a.keyLen ?? 0;
  const s: NftSet = {
    family: familyName(g.family),
    table: a.table ?? '',
    name: a.name ?? '',
    handle: Number(a.handle ?? 0n),
    key: typeSpecOf(typeFromKernel(keyType, keyLen)),
    keyType,
    keyLen,
    flags: setFlags.names(a.flags ?? 0),
  };
  if (a.dataType !== undefined) {
    s.dataType = a.dataType;
    s.dataLen = a.dataLen ?? 0;
    s.data = a.dataType === NFT_DATA_VERDICT ? 'verdict' : typeSpecOf(typeFromKernel(a.dataType, s.dataLen));
  }
  if (a.timeout !== undefined) s.timeout = Number(a.timeout);
  if (a.gcInterval !== undefined) s.gcInterval = a.gcInterval;
  if (a.desc?.size !== undefined) s.size = a.desc.size;
  if (a.policy !== undefined) s.policy = a.policy === NFT_SET_POL_MEMORY ? 'memory' : 'performance';
  const c = udataComment(a.userdata, NFTNL_UDATA_SET_COMMENT);
  if (c !== undefined) s.comment = c;
  return s;
}

interface SetTypes {
  key: DataType<any>;
  data?: DataType<any>;
  verdict: boolean;
  interval: boolean;
  /** Deleting: elements are named by key; data given is ignored. */
  keysOnly?: boolean;
}

/** The key/data types behind a set reference (names, or a decoded set's kernel ids). */
export function setTypes(ref: TypedSetRef, arg = 'set'): SetTypes {
  // A frozen spec cannot change: its types are worked out once.
  if (Object.isFrozen(ref)) {
    let t = frozenTypes.get(ref);
    if (!t) frozenTypes.set(ref, (t = typesOf(ref, arg)));
    return t;
  }
  return typesOf(ref, arg);
}

const frozenTypes = new WeakMap<TypedSetRef, SetTypes>();

function typesOf(ref: TypedSetRef, arg: string): SetTypes {
  const flags = ref.flags ?? [];
  const interval = flags.includes('interval');
  const key = ref.keyType !== undefined && ref.keyLen !== undefined ? typeFromKernel(ref.keyType, ref.keyLen) : resolveType(ref.key as TypeSpec, `${arg}.key`);
  if (ref.data === undefined) return { key, verdict: false, interval };
  if (ref.data === 'verdict') return { key, data: verdictType, verdict: true, interval };
  const data = ref.dataType !== undefined && ref.dataLen !== undefined ? typeFromKernel(ref.dataType, ref.dataLen) : resolveType(ref.data as TypeSpec, `${arg}.data`);
  return { key, data, verdict: false, interval };
}

const SPEC_FLAGS = ['constant', 'interval', 'timeout', 'dynamic'];

export function checkSetSpec(spec: SetSpec, arg = 'set'): SetTypes {
  knownKeys(spec, ['family', 'table', 'name', 'key', 'data', 'flags', 'timeout', 'gcInterval', 'size', 'policy', 'comment', 'elements'], arg);
  familyNumber(spec.family, `${arg}.family`);
  checkName(spec.table, `${arg}.table`);
  checkName(spec.name, `${arg}.name`);
  if (spec.flags !== undefined) {
    if (!Array.isArray(spec.flags)) throw new TypeError(`${arg}.flags must be an array`);
    for (const f of spec.flags) if (!SPEC_FLAGS.includes(f)) throw new TypeError(`${arg}.flags: ${JSON.stringify(f)} is not one of ${SPEC_FLAGS.join(', ')}`);
  }
  for (const k of ['timeout', 'gcInterval', 'size'] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || (k !== 'timeout' && v > 0xffffffff))) throw new RangeError(`${arg}.${k} must be a non-negative integer`);
  }
  if (spec.policy !== undefined && spec.policy !== 'performance' && spec.policy !== 'memory') throw new TypeError(`${arg}.policy must be performance or memory`);
  if (spec.comment !== undefined) checkComment(spec.comment, `${arg}.comment`);
  const types = setTypes(spec, arg);
  if (types.key.len === 0 || types.key.len > 64) throw new RangeError(`${arg}.key: ${types.key.name} cannot be a set key`);
  // The kernel orders interval keys bytewise: host-endian integers would sort wrong.
  if (types.interval) {
    for (const p of types.key.parts ?? [types.key]) {
      if (!p.bigEndian && p.name !== 'ifname') throw new TypeError(`${arg}: ${p.name} is host-endian; interval sets need big-endian key types`);
    }
  }
  return types;
}

/** Writes NFT_MSG_NEWSET. `id` is the set's NFTA_SET_ID within the transaction. */
export function writeAddSet(w: Writer, flags: number, spec: SetSpec, id: number, exclusive = false): void {
  const t = checkSetSpec(spec);
  const concat = t.interval && t.key.parts !== undefined;
  const f = setFlags.value((spec.flags ?? []) as SetFlag[], 'set.flags') | (t.data ? NFT_SET_MAP : 0) | (concat ? NFT_SET_CONCAT : 0);
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_NEWSET), flags | NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0), familyNumber(spec.family));
  writeName(w, NFTA_SET_TABLE, spec.table);
  writeName(w, NFTA_SET_NAME, spec.name);
  w.be32(NFTA_SET_FLAGS, f);
  w.be32(NFTA_SET_KEY_TYPE, t.key.id);
  w.be32(NFTA_SET_KEY_LEN, t.key.len);
  if (t.data) {
    w.be32(NFTA_SET_DATA_TYPE, t.data.id);
    w.be32(NFTA_SET_DATA_LEN, t.data.len);
  }
  w.be32(NFTA_SET_ID, id);
  if (spec.policy === 'memory') w.be32(NFTA_SET_POLICY, NFT_SET_POL_MEMORY);
  // Interval concatenations (the pipapo backend) need each field's length.
  if (spec.size !== undefined || concat) {
    const desc = w.nest(NFTA_SET_DESC);
    if (spec.size !== undefined) w.be32(NFTA_SET_DESC_SIZE, spec.size);
    if (concat) {
      const list = w.nest(NFTA_SET_DESC_CONCAT);
      for (const len of concatFieldLens(t.key)!) {
        const el = w.nest(NFTA_LIST_ELEM);
        w.be32(NFTA_SET_FIELD_LEN, len);
        w.endNest(el);
      }
      w.endNest(list);
    }
    w.endNest(desc);
  }
  if (spec.timeout !== undefined) w.be64(NFTA_SET_TIMEOUT, spec.timeout);
  if (spec.gcInterval !== undefined) w.be32(NFTA_SET_GC_INTERVAL, spec.gcInterval);
  // Byte-order hints nft reads to print host-endian keys (marks, interface indexes) right.
  const ud: UdataEntry[] = [[NFTNL_UDATA_SET_KEYBYTEORDER, udataU32(t.key.byteorder)]];
  if (t.data) ud.push([NFTNL_UDATA_SET_DATABYTEORDER, udataU32(t.data.byteorder)]);
  if (spec.comment !== undefined) ud.push([NFTNL_UDATA_SET_COMMENT, udataString(spec.comment)]);
  w.bytes(NFTA_SET_USERDATA, buildUdata(ud));
  w.end(start);
}

function writeSetRef(w: Writer, ref: SetRef, arg: string): void {
  writeName(w, NFTA_SET_TABLE, checkName(ref.table, `${arg}.table`));
  if (ref.handle !== undefined) w.be64(NFTA_SET_HANDLE, checkHandle(ref.handle, `${arg}.handle`));
  else writeName(w, NFTA_SET_NAME, checkName(ref.name, `${arg}.name`));
}

/** Writes NFT_MSG_DELSET (or DESTROYSET). A set rules still use cannot go (EBUSY). */
export function writeDeleteSet(w: Writer, flags: number, ref: SetRef, ifExists = false): void {
  const start = beginNfMessage(w, nftMsgType(ifExists ? NFT_MSG_DESTROYSET : NFT_MSG_DELSET), flags, familyNumber(ref?.family, 'set.family'));
  writeSetRef(w, ref, 'set');
  w.end(start);
}

/** Writes NFT_MSG_DELSETELEM without elements: the set is emptied. */
export function writeFlushSet(w: Writer, flags: number, ref: { family: Family; table: string; name: string }): void {
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_DELSETELEM), flags, familyNumber(ref?.family, 'set.family'));
  writeName(w, NFTA_SET_ELEM_LIST_TABLE, checkName(ref.table, 'set.table'));
  writeName(w, NFTA_SET_ELEM_LIST_SET, checkName(ref.name, 'set.name'));
  w.end(start);
}

// ---- elements ----

/** One element as it goes on the wire. */
interface WireElem {
  key?: Buffer;
  keyEnd?: Buffer;
  flags: number;
  data?: Buffer | Verdict;
  timeout?: number;
  udata?: Buffer;
}

/** The inclusive [start, end] of an element's key: a value, a CIDR prefix, or key..keyEnd. */
function keyBounds(t: DataType<any>, e: SetElement, arg: string): [Buffer, Buffer] {
  const start = Buffer.alloc(t.len);
  const end = Buffer.alloc(t.len);
  const parts = t.parts ?? [t];
  const keys: unknown[] = t.parts ? (Array.isArray(e.key) ? e.key : []) : [e.key];
  if (t.parts && (!Array.isArray(e.key) || e.key.length !== parts.length)) throw new TypeError(`${arg}.key must be an array of ${parts.length} values (${t.name})`);
  let off = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const k = keys[i];
    const where = t.parts ? `${arg}.key[${i}]` : `${arg}.key`;
    if (p.prefixes && typeof k === 'string' && k.includes('/')) {
      const c = parseCidr(k, where);
      const net = networkBytes(ipToBytes(c.address), c.prefix);
      if (net.length !== p.len) throw new TypeError(`${where}: ${JSON.stringify(k)} is not an ${p.name}`);
      net.copy(start, off);
      const mask = prefixMask(p.len, c.prefix);
      for (let j = 0; j < p.len; j++) end[off + j] = net[j] | (~mask[j] & 0xff);
    } else {
      p.write(start, off, k, where);
      p.write(end, off, k, where);
    }
    off += t.parts ? (p.len + 3) & ~3 : p.len;
  }
  if (e.keyEnd !== undefined) {
    end.fill(0);
    t.write(end, 0, e.keyEnd, `${arg}.keyEnd`);
  }
  return [start, end];
}

function elementExtras(types: SetTypes, e: SetElement, arg: string): Pick<WireElem, 'data' | 'timeout' | 'udata'> {
  const out: Pick<WireElem, 'data' | 'timeout' | 'udata'> = {};
  if (types.data) {
    if (e.data === undefined) throw new TypeError(`${arg}.data is required: the set is a map`);
    if (types.verdict) out.data = checkVerdict(e.data, `${arg}.data`);
    else {
      const b = Buffer.alloc(types.data.len);
      types.data.write(b, 0, e.data, `${arg}.data`);
      out.data = b;
    }
  } else if (e.data !== undefined && !types.keysOnly) {
    throw new TypeError(`${arg}.data: the set is not a map`);
  }
  if (types.keysOnly) return out;
  if (e.timeout !== undefined) {
    if (!Number.isSafeInteger(e.timeout) || e.timeout <= 0) throw new RangeError(`${arg}.timeout must be a positive number of milliseconds`);
    out.timeout = e.timeout;
  }
  if (e.comment !== undefined) out.udata = buildUdata([[NFTNL_UDATA_SET_ELEM_COMMENT, udataString(checkComment(e.comment, `${arg}.comment`))]]);
  return out;
}

/** Big-endian increment; undefined when it overflows (the range ends at the top of the key space). */
function plusOne(b: Buffer): Buffer | undefined {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
      return out;
    }
    out[i] = 0;
  }
  return undefined;
}

function minusOne(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0) {
      out[i]--;
      return out;
    }
    out[i] = 0xff;
  }
  return out;
}

/** Elements of an interval set, as wire elements (sorted; overlaps refused). */
function intervalElems(types: SetTypes, elements: readonly SetElement[]): WireElem[] {
  const ranges = elements.map((e, i) => {
    const arg = `elements[${i}]`;
    if (e.catchall) return { e, arg, bounds: undefined };
    return { e, arg, bounds: keyBounds(types.key, e, arg) };
  });
  const out: WireElem[] = [];
  if (types.key.parts) {
    for (const { e, arg, bounds } of ranges) {
      if (!bounds) out.push({ flags: NFT_SET_ELEM_CATCHALL, ...elementExtras(types, e, arg) });
      else out.push({ key: bounds[0], keyEnd: bounds[1], flags: 0, ...elementExtras(types, e, arg) });
    }
    return out;
  }
  const sorted = ranges.filter((r) => r.bounds).sort((a, b) => Buffer.compare(a.bounds![0], b.bounds![0]));
  for (let i = 0; i < sorted.length; i++) {
    const { e, arg, bounds } = sorted[i];
    const [start, end] = bounds!;
    if (Buffer.compare(start, end) > 0) throw new RangeError(`${arg}: the range ends before it starts`);
    if (i > 0 && Buffer.compare(start, sorted[i - 1].bounds![1]) <= 0) throw new RangeError(`${arg} overlaps ${sorted[i - 1].arg}`);
    out.push({ key: start, flags: 0, ...elementExtras(types, e, arg) });
    const next = plusOne(end);
    if (next) out.push({ key: next, flags: NFT_SET_ELEM_INTERVAL_END });
  }
  for (const { e, arg, bounds } of ranges) if (!bounds) out.push({ flags: NFT_SET_ELEM_CATCHALL, ...elementExtras(types, e, arg) });
  return out;
}

function writeValueNest(w: Writer, type: number, b: Buffer): void {
  const at = w.nest(type);
  w.bytes(NFTA_DATA_VALUE, b);
  w.endNest(at);
}

function writeWireElem(w: Writer, e: WireElem): void {
  const el = w.nest(NFTA_LIST_ELEM);
  if (e.flags) w.be32(NFTA_SET_ELEM_FLAGS, e.flags);
  if (e.timeout !== undefined) w.be64(NFTA_SET_ELEM_TIMEOUT, e.timeout);
  if (e.key) writeValueNest(w, NFTA_SET_ELEM_KEY, e.key);
  if (e.keyEnd) writeValueNest(w, NFTA_SET_ELEM_KEY_END, e.keyEnd);
  if (e.data !== undefined) {
    if (Buffer.isBuffer(e.data)) writeValueNest(w, NFTA_SET_ELEM_DATA, e.data);
    else writeDataVerdict(w, NFTA_SET_ELEM_DATA, e.data);
  }
  if (e.udata) w.bytes(NFTA_SET_ELEM_USERDATA, e.udata);
  w.endNest(el);
}

/** An nlattr header written byte by byte (cheaper than Buffer methods, even before the JIT warms up). */
function hdr(b: Buffer, o: number, len: number, type: number): void {
  b[o] = len & 0xff;
  b[o + 1] = len >> 8;
  b[o + 2] = type & 0xff;
  b[o + 3] = type >> 8;
}

/** Re-labels a value error with the element it came from (the hot path passes a fixed label). */
function atElement(err: unknown, i: number, label: string): unknown {
  if (err instanceof TypeError || err instanceof RangeError) {
    const E = err instanceof TypeError ? TypeError : RangeError;
    return new E(err.message.replace(label, `elements[${i}].${label.slice(1)}`));
  }
  return err;
}

const NESTED = 0x8000;
const KEY_LABEL = '#key';
const DATA_LABEL = '#data';

// NFTA_SET_ELEM_LIST_ELEMENTS is one attribute: its 16-bit length caps a message's elements.
const MAX_LIST = 0xffff;

/**
 * Writes NEWSETELEM (or DELSETELEM / DESTROYSETELEM) messages for the
 * elements, as many messages as their size needs.
 */
export function writeElements(
  w: Writer,
  flags: number,
  msg: number,
  ref: TypedSetRef,
  elements: readonly SetElement[],
  opts: { setId?: number } = {},
): void {
  const family = familyNumber(ref?.family, 'set.family');
  const table = checkName(ref.table, 'set.table');
  const name = checkName(ref.name, 'set.name');
  if (!Array.isArray(elements)) throw new TypeError('elements must be an array');
  if (elements.length === 0) return;
  // Deletes name elements by key alone: map data is not sent.
  const full = setTypes(ref);
  const types: SetTypes = msg === NFT_MSG_NEWSETELEM ? full : { ...full, data: undefined, verdict: false, keysOnly: true };
  let start = 0;
  let list = 0;
  const open = () => {
    start = beginNfMessage(w, nftMsgType(msg), flags, family);
    writeName(w, NFTA_SET_ELEM_LIST_TABLE, table);
    writeName(w, NFTA_SET_ELEM_LIST_SET, name);
    if (opts.setId !== undefined) w.be32(NFTA_SET_ELEM_LIST_SET_ID, opts.setId);
    list = w.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
  };
  const close = () => {
    w.endNest(list);
    w.end(start);
  };
  const put = (write: () => void) => {
    const mark = w.off;
    write();
    if (w.off - list > MAX_LIST) {
      w.off = mark;
      close();
      open();
      write();
    }
  };
  open();
  if (types.interval) {
    for (const e of intervalElems(types, elements)) put(() => writeWireElem(w, e));
    close();
    return;
  }
  // Plain elements (a key, and value data in a map) are written straight
  // into the buffer: LIST_ELEM { KEY { VALUE }, DATA { VALUE } }.
  const kt = types.key;
  const dt = types.verdict ? undefined : types.data;
  const kPad = (kt.len + 3) & ~3;
  const dPad = dt ? (dt.len + 3) & ~3 : 0;
  const keyNest = 8 + kPad;
  const dataNest = dt ? 8 + dPad : 0;
  const size = 4 + keyNest + dataNest;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    if (typeof e !== 'object' || e === null) throw new TypeError(`elements[${i}] must be an object like { key, data? }`);
    if (e.keyEnd !== undefined) throw new TypeError(`elements[${i}].keyEnd: ranges need a set with the interval flag`);
    const plain = !e.catchall && (types.keysOnly || (e.timeout === undefined && e.comment === undefined)) && (types.verdict ? types.keysOnly : true);
    if (!plain) {
      const arg = `elements[${i}]`;
      const x = elementExtras(types, e, arg);
      if (e.catchall) put(() => writeWireElem(w, { flags: NFT_SET_ELEM_CATCHALL, ...x }));
      else {
        const key = Buffer.alloc(kt.len);
        kt.write(key, 0, e.key, `${arg}.key`);
        put(() => writeWireElem(w, { key, flags: 0, ...x }));
      }
      continue;
    }
    if (dt && e.data === undefined) throw new TypeError(`elements[${i}].data is required: the set is a map`);
    if (!types.data && !types.keysOnly && e.data !== undefined) throw new TypeError(`elements[${i}].data: the set is not a map`);
    if (w.off + size - list > MAX_LIST) {
      close();
      open();
    }
    w.ensure(size);
    const b = w.buf;
    let o = w.off;
    hdr(b, o, size, NFTA_LIST_ELEM | NESTED);
    hdr(b, o + 4, keyNest, NFTA_SET_ELEM_KEY | NESTED);
    hdr(b, o + 8, 4 + kt.len, NFTA_DATA_VALUE);
    o += 12;
    try {
      kt.write(b, o, e.key, KEY_LABEL);
    } catch (err) {
      throw atElement(err, i, KEY_LABEL);
    }
    for (let j = kt.len; j < kPad; j++) b[o + j] = 0;
    o += kPad;
    if (dt) {
      hdr(b, o, dataNest, NFTA_SET_ELEM_DATA | NESTED);
      hdr(b, o + 4, 4 + dt.len, NFTA_DATA_VALUE);
      o += 8;
      try {
        dt.write(b, o, e.data, DATA_LABEL);
      } catch (err) {
        throw atElement(err, i, DATA_LABEL);
      }
      for (let j = dt.len; j < dPad; j++) b[o + j] = 0;
      o += dPad;
    }
    w.off = o;
  }
  close();
}

// ---- reading elements ----

const elemListAttrs = schema('set element list', {
  table: [NFTA_SET_ELEM_LIST_TABLE, 'string'],
  set: [NFTA_SET_ELEM_LIST_SET, 'string'],
  elements: [NFTA_SET_ELEM_LIST_ELEMENTS, 'binary'],
  setId: [NFTA_SET_ELEM_LIST_SET_ID, 'be32'],
} as const);

/** An element as the kernel sent it: raw key and data, for callers that know no types (events). */
export interface RawSetElement {
  key?: Buffer;
  keyEnd?: Buffer;
  data?: Buffer | Verdict;
  flags: number;
  timeout?: number;
  expires?: number;
  comment?: string;
}

export interface RawElementList {
  family: Family;
  table: string;
  set: string;
  elements: RawSetElement[];
}

/** The payload of the NFTA_DATA_VALUE inside a nested nft_data, or a verdict. */
function dataIn(b: Buffer, where: string, valueOnly: boolean): Buffer | Verdict {
  // The common case, one NFTA_DATA_VALUE, without the generic walker.
  if (b.length >= 4) {
    const len = b.readUInt16LE(0);
    if ((b.readUInt16LE(2) & 0x3fff) === NFTA_DATA_VALUE && len >= 4 && len <= b.length) return b.subarray(4, len);
  }
  const d = readData(b);
  if ('value' in d) return d.value;
  if (valueOnly) throw new NetlinkParseError(`${where}: expected a value, got a verdict`);
  return d.verdict;
}

/** One NFTA_LIST_ELEM of an element list. Lengths are checked; unknown attributes skipped. */
function decodeElem(b: Buffer): RawSetElement {
  const out: RawSetElement = { flags: 0 };
  let off = 0;
  while (b.length - off >= 4) {
    const len = b.readUInt16LE(off);
    const type = b.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || len > b.length - off) throw new NetlinkParseError(`set element attribute ${type} at ${off} claims ${len} bytes, ${b.length - off} available`);
    const v = b.subarray(off + 4, off + len);
    switch (type) {
      case NFTA_SET_ELEM_KEY:
        out.key = dataIn(v, 'element key', true) as Buffer;
        break;
      case NFTA_SET_ELEM_KEY_END:
        out.keyEnd = dataIn(v, 'element key end', true) as Buffer;
        break;
      case NFTA_SET_ELEM_DATA:
        out.data = dataIn(v, 'element data', false);
        break;
      case NFTA_SET_ELEM_FLAGS:
        if (v.length >= 4) out.flags = v.readUInt32BE(0);
        break;
      case NFTA_SET_ELEM_TIMEOUT:
        if (v.length >= 8) out.timeout = Number(v.readBigUInt64BE(0));
        break;
      case NFTA_SET_ELEM_EXPIRATION:
        if (v.length >= 8) out.expires = Number(v.readBigUInt64BE(0));
        break;
      case NFTA_SET_ELEM_USERDATA: {
        const c = udataComment(v, NFTNL_UDATA_SET_ELEM_COMMENT);
        if (c !== undefined) out.comment = c;
        break;
      }
    }
    off += (len + 3) & ~3;
  }
  return out;
}

export function decodeRawElements(m: Message): RawElementList {
  const g = readNfgenmsg(m.payload);
  const a = elemListAttrs.decode(m.payload, NFGENMSG_LEN);
  const elements: RawSetElement[] = [];
  if (a.elements) {
    forEachAttr(a.elements, 0, a.elements.length, (type, value) => {
      if (type === NFTA_LIST_ELEM) elements.push(decodeElem(value));
    });
  }
  return { family: familyName(g.family), table: a.table ?? '', set: a.set ?? '', elements };
}

function typed(types: SetTypes, raw: RawSetElement, key: Buffer | undefined, keyEnd: Buffer | undefined): SetElement {
  const out: SetElement = {};
  if (raw.flags & NFT_SET_ELEM_CATCHALL) out.catchall = true;
  if (key) out.key = types.key.read(key, 0);
  if (keyEnd && key && !keyEnd.equals(key)) out.keyEnd = types.key.read(keyEnd, 0);
  if (raw.data !== undefined) out.data = Buffer.isBuffer(raw.data) && types.data && !types.verdict ? types.data.read(raw.data, 0) : raw.data;
  if (raw.timeout !== undefined) out.timeout = raw.timeout;
  if (raw.expires !== undefined) out.expires = raw.expires;
  if (raw.comment !== undefined) out.comment = raw.comment;
  return out;
}

/** Typed elements from raw ones; start/end pairs of a single-field interval set become ranges. */
export function typedElements(ref: TypedSetRef, raw: readonly RawSetElement[]): SetElement[] {
  const types = setTypes(ref);
  if (!types.interval || types.key.parts) return raw.map((r) => typed(types, r, r.key, r.keyEnd ?? r.key));
  const keyed = raw.filter((r) => r.key).sort((a, b) => Buffer.compare(a.key!, b.key!));
  const out: SetElement[] = [];
  for (let i = 0; i < keyed.length; i++) {
    const r = keyed[i];
    if (r.flags & NFT_SET_ELEM_INTERVAL_END) continue;
    const next = keyed[i + 1];
    const end = next && next.flags & NFT_SET_ELEM_INTERVAL_END ? minusOne(next.key!) : Buffer.alloc(r.key!.length, 0xff);
    out.push(typed(types, r, r.key, end));
  }
  for (const r of raw) if (r.flags & NFT_SET_ELEM_CATCHALL) out.push(typed(types, r, undefined, undefined));
  return out;
}

export const describeSet = (verb: string, s: { family: Family; table: string; name?: string; handle?: number }) =>
  `${verb} set ${s.family} ${s.table} ${s.name ?? `handle ${s.handle}`}`;

/** Sets and maps (`nft list sets [family]`), optionally of one table. */
export async function listSets(opts: NsOption & { family?: Family; table?: string } = {}): Promise<NftSet[]> {
  const family = opts.family === undefined ? NFPROTO_UNSPEC : familyNumber(opts.family);
  if (opts.table !== undefined) checkName(opts.table, 'table');
  const all = (await dump(opts, { msg: NFT_MSG_GETSET, family, operation: 'listSets' })).map(decodeSet);
  return opts.table === undefined ? all : all.filter((s) => s.table === opts.table);
}

/** A set reference checked: its family number, table and name, and how errors name it. */
function checkSetRef(ref: { family: Family; table: string; name: string }): { family: number; table: string; name: string; subject: string } {
  const family = familyNumber(ref?.family, 'set.family');
  const table = checkName(ref.table, 'set.table');
  const name = checkName(ref.name, 'set.name');
  return { family, table, name, subject: `${ref.family} ${table} ${name}` };
}

/** One set or map (`nft list set|map <family> <table> <name>`, without elements). ENOENT if missing. */
export async function getSet(ref: { family: Family; table: string; name: string }, opts: NsOption = {}): Promise<NftSet> {
  const { family, table, name, subject } = checkSetRef(ref);
  const m = await get(opts, {
    msg: NFT_MSG_GETSET,
    family,
    attrs: (w) => {
      writeName(w, NFTA_SET_TABLE, table);
      writeName(w, NFTA_SET_NAME, name);
    },
    operation: 'getSet',
    subject,
  });
  return decodeSet(m);
}

/** The elements of a set or map, typed by its key and data types (`nft list set …`'s elements). */
export async function listElements(ref: (TypedSetRef | { family: Family; table: string; name: string }), opts: NsOption = {}): Promise<SetElement[]> {
  const typedRef = 'key' in ref ? ref : await getSet(ref, opts);
  const { family, table, name, subject } = checkSetRef(ref);
  for (let attempt = 0; ; attempt++) {
    const msgs = await dump(opts, {
      msg: NFT_MSG_GETSETELEM,
      family,
      attrs: (w) => {
        writeName(w, NFTA_SET_ELEM_LIST_TABLE, table);
        writeName(w, NFTA_SET_ELEM_LIST_SET, name);
      },
      operation: 'listElements',
      subject,
    });
    const raw = msgs.flatMap((m) => decodeRawElements(m).elements);
    // One message is one part of the dump: nothing to be inconsistent with.
    if (msgs.length <= 1 || !hasRepeatedElement(raw)) return typedElements(typedRef as TypedSetRef, raw);
    // The kernel continues a dump of a hash set by skipping as many elements as
    // it already sent; when the table is resized between two parts (a set that
    // just grew is rehashed by a deferred worker), the order changes and some
    // elements come twice while as many are never sent. The generation does
    // not move, so no NLM_F_DUMP_INTR says so: a repeat is the only sign.
    if (attempt >= DUMP_ATTEMPTS - 1) {
      throw new NetlinkError(11 /* EAGAIN */, 'listElements', { subject, kernelMessage: `the set was rehashed during each of ${DUMP_ATTEMPTS} dumps (elements came twice, so others were missed)` });
    }
    await new Promise((r) => setTimeout(r, 2 ** attempt));
  }
}

const DUMP_ATTEMPTS = 6;

/** Whether a dump sent some element twice (by key, flags and end key: an interval's end may share its key with the next start). */
export function hasRepeatedElement(raw: readonly RawSetElement[]): boolean {
  const seen = new Set<string>();
  for (const e of raw) {
    const id = `${e.flags}|${e.key?.toString('latin1') ?? ''}|${e.keyEnd?.toString('latin1') ?? ''}`;
    if (seen.has(id)) return true;
    seen.add(id);
  }
  return false;
}

/**
 * Looks elements up by key (`nft get element <family> <table> <set> { … }`):
 * returns them with their data, comment and timeouts. ENOENT when any key is
 * not in the set. Sets without the interval flag.
 */
export async function getElements(
  ref: TypedSetRef | { family: Family; table: string; name: string },
  keys: readonly unknown[],
  opts: NsOption = {},
): Promise<SetElement[]> {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('keys must be a non-empty array');
  const typedRef = 'key' in ref ? ref : await getSet(ref, opts);
  const types = setTypes(typedRef as TypedSetRef);
  if (types.interval) throw new TypeError('getElements: interval sets are not supported; use listElements');
  const w = new Writer(256);
  writeElements(w, NLM_F_REQUEST | NLM_F_ACK, NFT_MSG_GETSETELEM, { ...(typedRef as TypedSetRef), data: undefined, dataType: undefined }, keys.map((key) => ({ key })));
  const msgs = await Namespace.of(opts?.ns).netfilter().call(w.finish(), { operation: 'getElements', subject: `${ref.family} ${ref.table} ${ref.name}` });
  const raw = msgs.filter((m) => nftMsgOf(m.type) === NFT_MSG_NEWSETELEM).flatMap((m) => decodeRawElements(m).elements);
  return typedElements(typedRef as TypedSetRef, raw);
}

export const describeElements = (verb: string, s: { family: Family; table: string; name: string }, n: number) =>
  `${verb} ${n} element${n === 1 ? '' : 's'} ${verb === 'add' ? 'to' : 'of'} set ${s.family} ${s.table} ${s.name}`;

/**
 * Adds a set or map (`nft add set|map <family> <table> <name> { type …; flags …; }`),
 * with its elements if given, in one transaction. Returns it with its handle.
 */
export async function addSet(spec: SetSpec, opts: CommitOptions & { exclusive?: boolean } = {}): Promise<NftSet> {
  checkSetSpec(spec);
  const b = new SetBatch();
  b.add(describeSet('add', spec), (w, f) => writeAddSet(w, f, spec, 1, opts.exclusive), decodeSet);
  if (spec.elements?.length) {
    const ref = { ...spec, flags: spec.flags };
    b.add(describeElements('add', spec, spec.elements.length), (w, f) => writeElements(w, f, NFT_MSG_NEWSETELEM, ref, spec.elements!));
  }
  return (await b.run({ ...opts, echo: true }, 'addSet', `${spec.family} ${spec.table} ${spec.name}`)).results[0] as NftSet;
}

class SetBatch extends Batch {
  run(opts: CommitOptions, operation: string, subject: string) {
    return this.send(opts, operation, subject);
  }
}

/** Deletes a set or map (`nft delete set`; with ifExists, `nft destroy set`). EBUSY while rules use it. */
export async function deleteSet(ref: SetRef, opts: CommitOptions & { ifExists?: boolean } = {}): Promise<void> {
  familyNumber(ref?.family, 'set.family');
  await commitOne(opts, 'deleteSet', `${ref.family} ${ref.table} ${ref.name ?? ref.handle}`, describeSet(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) =>
    writeDeleteSet(w, f, ref, opts.ifExists),
  );
}

/** Removes every element (`nft flush set|map`). */
export async function flushSet(ref: { family: Family; table: string; name: string }, opts: CommitOptions = {}): Promise<void> {
  familyNumber(ref?.family, 'set.family');
  await commitOne(opts, 'flushSet', `${ref.family} ${ref.table} ${ref.name}`, describeSet('flush', ref), (w, f) => writeFlushSet(w, f, ref));
}

async function typedRefOf(ref: TypedSetRef | { family: Family; table: string; name: string }, opts: NsOption): Promise<TypedSetRef> {
  return 'key' in ref ? ref : getSet(ref, opts);
}

/**
 * Adds elements (`nft add element <family> <table> <set> { … }`), all in one
 * transaction. Given only the set's name, its types are read first.
 * With exclusive (`nft create element`), an existing element is EEXIST.
 */
export async function addElements(
  ref: TypedSetRef | { family: Family; table: string; name: string },
  elements: readonly SetElement[],
  opts: CommitOptions & { exclusive?: boolean } = {},
): Promise<void> {
  familyNumber(ref?.family, 'set.family');
  const t = await typedRefOf(ref, opts);
  await commitOne(opts, 'addElements', `${ref.family} ${ref.table} ${ref.name}`, describeElements('add', ref, elements.length), (w, f) =>
    writeElements(w, f | NLM_F_CREATE | (opts.exclusive ? NLM_F_EXCL : 0), NFT_MSG_NEWSETELEM, t, elements),
  );
}

/** Deletes elements (`nft delete element …`; with ifExists, `nft destroy element`). */
export async function deleteElements(
  ref: TypedSetRef | { family: Family; table: string; name: string },
  elements: readonly SetElement[],
  opts: CommitOptions & { ifExists?: boolean } = {},
): Promise<void> {
  familyNumber(ref?.family, 'set.family');
  const t = await typedRefOf(ref, opts);
  await commitOne(opts, 'deleteElements', `${ref.family} ${ref.table} ${ref.name}`, describeElements(opts.ifExists ? 'destroy' : 'delete', ref, elements.length), (w, f) =>
    writeElements(w, f, opts.ifExists ? NFT_MSG_DESTROYSETELEM : NFT_MSG_DELSETELEM, t, elements),
  );
}
