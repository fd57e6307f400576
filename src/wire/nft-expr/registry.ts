// The nf_tables expression registry: each expression's file (meta.ts,
// payload.ts, ...) registers its codec here under its kernel name
// (NFTA_EXPR_NAME) and adds its typed shape to ExprByName by declaration
// merging. Rules are lists of NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }.
// Expressions nobody registered, and ones whose attributes do not parse, are
// kept raw as { type: 'unknown' } so a rule from a newer nft never breaks a dump.
import { NetlinkParseError } from '../../errors.js';
import { cString, forEachAttr, NLA_F_NESTED, type Writer } from '../netlink.js';
import { NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFTA_LIST_ELEM, writeName } from '../nfnetlink.js';

/** Kernel expression name → its typed form. Each expression file adds its entry. */
export interface ExprByName {}

/** An expression this library does not model (or could not parse): its name and raw NFTA_EXPR_DATA. */
export interface UnknownExpr {
  type: 'unknown';
  name: string;
  data: Buffer;
  /** Why a registered expression fell back to raw form. */
  error?: string;
}

export type KnownExpr = ExprByName[keyof ExprByName];
/** One nf_tables expression, discriminated by `type` (the kernel's expression name). */
export type Expr = KnownExpr | UnknownExpr;

export interface ExprCodec<E extends { type: string } = any> {
  /** NFTA_EXPR_NAME, also the `type` of the typed form. */
  readonly name: E['type'];
  /** Writes the attributes that go inside NFTA_EXPR_DATA; validates as it goes. */
  encode(w: Writer, e: E): void;
  /** Parses NFTA_EXPR_DATA's payload. */
  decode(data: Buffer): E;
  /** The expression has no attributes: libnftnl then sends no NFTA_EXPR_DATA at all. */
  readonly noData?: boolean;
}

const codecs = new Map<string, ExprCodec>();

export function registerExpr<E extends { type: string }>(codec: ExprCodec<E>): ExprCodec<E> {
  if (codecs.has(codec.name) || codec.name === 'unknown') throw new Error(`nft expression ${JSON.stringify(codec.name)} registered twice`);
  codecs.set(codec.name, codec);
  return codec;
}

export function exprCodec(name: string): ExprCodec | undefined {
  return codecs.get(name);
}

export function registeredExprs(): string[] {
  return [...codecs.keys()].sort();
}

/** Writes one expression as an NFTA_LIST_ELEM. */
export function encodeExpr(w: Writer, e: Expr): void {
  const el = w.nest(NFTA_LIST_ELEM);
  encodeExprAttrs(w, e);
  w.endNest(el);
}

/** Writes NFTA_EXPR_NAME and NFTA_EXPR_DATA (the contents of a list element, or of NFTA_DYNSET_EXPR). */
export function encodeExprAttrs(w: Writer, e: Expr): void {
  if (typeof e !== 'object' || e === null || typeof e.type !== 'string') throw new TypeError('an expression must be an object with a string `type`');
  if (e.type === 'unknown') {
    const u = e as UnknownExpr;
    if (typeof u.name !== 'string' || !(u.data instanceof Uint8Array)) throw new TypeError('an unknown expression needs `name` and `data` (Buffer)');
    writeName(w, NFTA_EXPR_NAME, u.name);
    w.bytes(NFTA_EXPR_DATA | NLA_F_NESTED, u.data);
    return;
  }
  const codec = codecs.get(e.type);
  if (!codec) throw new TypeError(`unknown nft expression type ${JSON.stringify(e.type)} (registered: ${registeredExprs().join(', ')})`);
  writeName(w, NFTA_EXPR_NAME, codec.name);
  if (codec.noData && !('unknown' in e && e.unknown)) {
    codec.encode(w, e);
    return;
  }
  const data = w.nest(NFTA_EXPR_DATA);
  codec.encode(w, e);
  w.endNest(data);
}

/** Writes `type` as a nested list of expressions (NFTA_RULE_EXPRESSIONS and friends). */
export function encodeExprList(w: Writer, type: number, exprs: readonly Expr[]): void {
  const at = w.nest(type);
  for (const e of exprs) encodeExpr(w, e);
  w.endNest(at);
}

/** Decodes { NFTA_EXPR_NAME, NFTA_EXPR_DATA } (an NFTA_LIST_ELEM payload). */
export function decodeExpr(buf: Buffer): Expr {
  let name: string | undefined;
  let data: Buffer = Buffer.alloc(0);
  forEachAttr(buf, 0, buf.length, (type, value) => {
    if (type === NFTA_EXPR_NAME) name = cString(value);
    else if (type === NFTA_EXPR_DATA) data = value;
  });
  if (name === undefined) throw new NetlinkParseError('nft expression without NFTA_EXPR_NAME');
  const codec = codecs.get(name);
  if (!codec) return { type: 'unknown', name, data };
  try {
    return codec.decode(data);
  } catch (err) {
    if (!(err instanceof NetlinkParseError || err instanceof RangeError)) throw err;
    return { type: 'unknown', name, data, error: err.message };
  }
}

/** Decodes a nested list of expressions. */
export function decodeExprList(buf: Buffer): Expr[] {
  const out: Expr[] = [];
  forEachAttr(buf, 0, buf.length, (type, value) => {
    if (type === NFTA_LIST_ELEM) out.push(decodeExpr(value));
  });
  return out;
}
