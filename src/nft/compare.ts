// Comparing rules as written with rules as read back. The kernel fills in
// what a request left implicit (nat ranges of one, the register-implied nat
// flags, log level warn, dynset timeout 0) and keeps counters running; the
// canonical form drops exactly those (and a TCP reset's unused code), so a rule someone else changed differs
// and one the kernel merely completed does not.
import type { Expr } from '../wire/nft-expr/index.js';

type Flagged = { flags?: (string | number)[] };

function withoutImplied(flags: (string | number)[] | undefined): (string | number)[] | undefined {
  const f = (flags ?? []).filter((x) => x !== 'map_ips' && x !== 'proto_specified');
  return f.length ? f : undefined;
}

function canonicalExpr(e: Expr): Expr {
  const c: Record<string, unknown> = { ...e };
  switch (e.type) {
    case 'nat':
      if (e.regAddrMax !== undefined && e.regAddrMax === e.regAddrMin) delete c.regAddrMax;
      if (e.regProtoMax !== undefined && e.regProtoMax === e.regProtoMin) delete c.regProtoMax;
      c.flags = withoutImplied(e.flags);
      break;
    case 'masq':
    case 'redir':
      if (e.regProtoMax !== undefined && e.regProtoMax === e.regProtoMin) delete c.regProtoMax;
      c.flags = withoutImplied((e as Flagged).flags);
      break;
    case 'counter':
      delete c.bytes;
      delete c.packets;
      break;
    case 'log':
      if (e.level === 'warn' && e.group === undefined) delete c.level;
      break;
    case 'dynset':
      if (e.timeout === 0n) delete c.timeout;
      if (e.exprs) c.exprs = canonicalExprs(e.exprs);
      break;
    case 'reject':
      // A TCP reset has no code; nft sends 0, the kernel dumps none.
      if (e.kind === 'tcp_rst') delete c.code;
      break;
    case 'lookup':
      if (!e.invert) delete c.invert;
      delete c.setId;
      break;
  }
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c as Expr;
}

/** Expressions with kernel-filled defaults and running counters removed. */
export function canonicalExprs(exprs: readonly Expr[]): Expr[] {
  return exprs.map(canonicalExpr);
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/**
 * Whether two expression lists mean the same rule: what was written and what
 * a dump returned compare equal; any real change (a port, an address, a
 * verdict, an added expression) does not.
 */
export function sameExprs(a: readonly Expr[], b: readonly Expr[]): boolean {
  return equal(canonicalExprs(a), canonicalExprs(b));
}
