// Rules: a list of expressions in a chain, identified by a handle that stays
// fixed for the rule's life.
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE, type Message, type Writer } from '../wire/netlink.js';
import {
  beginNfMessage,
  buildUdata,
  NFGENMSG_LEN,
  nftMsgType,
  NFTA_RULE_CHAIN,
  NFTA_RULE_COMPAT,
  NFTA_RULE_EXPRESSIONS,
  NFTA_RULE_HANDLE,
  NFTA_RULE_ID,
  NFTA_RULE_POSITION,
  NFTA_RULE_TABLE,
  NFTA_RULE_USERDATA,
  NFT_MSG_DELRULE,
  NFT_MSG_DESTROYRULE,
  NFT_MSG_GETRULE,
  NFT_MSG_NEWRULE,
  NFTNL_UDATA_RULE_COMMENT,
  NFPROTO_UNSPEC,
  readNfgenmsg,
  udataComment,
  udataString,
  writeName,
} from '../wire/nfnetlink.js';
import { decodeExprList, encodeExprList, type Expr } from '../wire/nft-expr/index.js';
import { schema } from '../wire/schema.js';
import { commitOne, type CommitOptions, type NsOption } from './batch.js';
import { buildExprs, type RuleItem } from './build.js';
import { checkComment, familyName, familyNumber, checkHandle, knownKeys, checkName, type Family } from './family.js';
import { dump, get } from './request.js';

export type RulePosition = 'append' | 'prepend' | { after: number } | { before: number };

export interface RuleSpec {
  family: Family;
  table: string;
  chain: string;
  /** Expressions and builder fragments, in order. */
  exprs: readonly RuleItem[];
  comment?: string;
  /** append (default, `nft add rule`), prepend (`nft insert rule`), or next to the rule with that handle. */
  position?: RulePosition;
}

export interface RuleRef {
  family: Family;
  table: string;
  chain: string;
  handle: number;
}

export interface Rule {
  family: Family;
  table: string;
  chain: string;
  handle: number;
  exprs: Expr[];
  comment?: string;
  /** Handle of the rule before it (dumps report it). */
  position?: number;
  /** Userdata entries other than the comment, raw. */
  userdata?: Buffer;
}

// enum nft_rule_attributes
export const ruleAttrs = schema('rule', {
  table: [NFTA_RULE_TABLE, 'string'],
  chain: [NFTA_RULE_CHAIN, 'string'],
  handle: [NFTA_RULE_HANDLE, 'be64'],
  position: [NFTA_RULE_POSITION, 'be64'],
  expressions: [NFTA_RULE_EXPRESSIONS, 'binary'],
  compat: [NFTA_RULE_COMPAT, 'binary'],
  userdata: [NFTA_RULE_USERDATA, 'binary'],
  id: [NFTA_RULE_ID, 'be32'],
} as const);

export function decodeRule(m: Message): Rule {
  const g = readNfgenmsg(m.payload);
  const a = ruleAttrs.decode(m.payload, NFGENMSG_LEN);
  const r: Rule = {
    family: familyName(g.family),
    table: a.table ?? '',
    chain: a.chain ?? '',
    handle: Number(a.handle ?? 0n),
    exprs: a.expressions ? decodeExprList(a.expressions) : [],
  };
  if (a.userdata) {
    const c = udataComment(a.userdata, NFTNL_UDATA_RULE_COMMENT);
    if (c !== undefined) r.comment = c;
    if (c === undefined || a.userdata.length > Buffer.byteLength(c) + 3) r.userdata = Buffer.from(a.userdata);
  }
  if (a.position !== undefined) r.position = Number(a.position);
  return r;
}

export function checkRuleSpec(spec: RuleSpec, arg = 'rule'): void {
  knownKeys(spec, ['family', 'table', 'chain', 'exprs', 'comment', 'position', 'handle'], arg);
  familyNumber(spec.family, `${arg}.family`);
  checkName(spec.table, `${arg}.table`);
  checkName(spec.chain, `${arg}.chain`);
  if (!Array.isArray(spec.exprs)) throw new TypeError(`${arg}.exprs must be an array`);
  if (spec.comment !== undefined) checkComment(spec.comment, `${arg}.comment`);
  const p = spec.position;
  if (p !== undefined && p !== 'append' && p !== 'prepend') {
    if (typeof p !== 'object' || p === null) throw new TypeError(`${arg}.position must be 'append', 'prepend', { after: handle } or { before: handle }`);
    knownKeys(p, ['after', 'before'], `${arg}.position`);
    if (('after' in p) === ('before' in p)) throw new TypeError(`${arg}.position needs exactly one of after / before`);
    checkHandle('after' in p ? p.after : p.before, `${arg}.position`);
  }
}

/** Writes NFT_MSG_NEWRULE; with `replace`, the rule with that handle is replaced in place. */
export function writeAddRule(w: Writer, flags: number, spec: RuleSpec, replace?: number): void {
  checkRuleSpec(spec);
  const exprs = buildExprs(spec.family, spec.exprs, 'rule.exprs');
  const p = spec.position ?? 'append';
  let f = flags | NLM_F_CREATE;
  if (replace !== undefined) f |= NLM_F_REPLACE;
  else if (p === 'append' || (typeof p === 'object' && 'after' in p)) f |= NLM_F_APPEND;
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_NEWRULE), f, familyNumber(spec.family));
  writeName(w, NFTA_RULE_TABLE, spec.table);
  writeName(w, NFTA_RULE_CHAIN, spec.chain);
  if (replace !== undefined) w.be64(NFTA_RULE_HANDLE, checkHandle(replace, 'rule.handle'));
  else if (typeof p === 'object') w.be64(NFTA_RULE_POSITION, 'after' in p ? p.after : p.before);
  encodeExprList(w, NFTA_RULE_EXPRESSIONS, exprs);
  if (spec.comment !== undefined) w.bytes(NFTA_RULE_USERDATA, buildUdata([[NFTNL_UDATA_RULE_COMMENT, udataString(spec.comment)]]));
  w.end(start);
}

function writeRuleRef(w: Writer, ref: RuleRef, arg: string): void {
  knownKeys(ref, ['family', 'table', 'chain', 'handle', 'exprs', 'comment', 'position', 'userdata'], arg);
  writeName(w, NFTA_RULE_TABLE, checkName(ref.table, `${arg}.table`));
  writeName(w, NFTA_RULE_CHAIN, checkName(ref.chain, `${arg}.chain`));
  w.be64(NFTA_RULE_HANDLE, checkHandle(ref.handle, `${arg}.handle`));
}

/** Writes NFT_MSG_DELRULE (or DESTROYRULE) for one rule by handle. */
export function writeDeleteRule(w: Writer, flags: number, ref: RuleRef, ifExists = false): void {
  const start = beginNfMessage(w, nftMsgType(ifExists ? NFT_MSG_DESTROYRULE : NFT_MSG_DELRULE), flags, familyNumber(ref?.family, 'rule.family'));
  writeRuleRef(w, ref, 'rule');
  w.end(start);
}

export const describeRule = (verb: string, r: { family: Family; table: string; chain: string; handle?: number }) =>
  `${verb} rule ${r.family} ${r.table} ${r.chain}${r.handle !== undefined ? ` handle ${r.handle}` : ''}`;

/** Rules (`nft -a list ruleset`'s rules), optionally of one table or one chain, in chain order. */
export async function listRules(opts: NsOption & { family?: Family; table?: string; chain?: string } = {}): Promise<Rule[]> {
  const family = opts.family === undefined ? NFPROTO_UNSPEC : familyNumber(opts.family);
  if (opts.chain !== undefined && opts.table === undefined) throw new TypeError('listRules: chain needs table');
  const table = opts.table === undefined ? undefined : checkName(opts.table, 'table');
  const chain = opts.chain === undefined ? undefined : checkName(opts.chain, 'chain');
  const msgs = await dump(opts, {
    msg: NFT_MSG_GETRULE,
    family,
    attrs: (w) => {
      if (table !== undefined) writeName(w, NFTA_RULE_TABLE, table);
      if (chain !== undefined) writeName(w, NFTA_RULE_CHAIN, chain);
    },
    operation: 'listRules',
    subject: [opts.family, table, chain].filter(Boolean).join(' ') || undefined,
  });
  return msgs.map(decodeRule);
}

/** One rule by handle (`nft -a list chain …` and pick the handle). ENOENT if missing. */
export async function getRule(ref: RuleRef, opts: NsOption = {}): Promise<Rule> {
  const family = familyNumber(ref?.family, 'rule.family');
  const m = await get(opts, { msg: NFT_MSG_GETRULE, family, attrs: (w) => writeRuleRef(w, ref, 'rule'), operation: 'getRule', subject: describeRule('', ref).trim() });
  return decodeRule(m);
}

/**
 * Adds a rule (`nft add rule <family> <table> <chain> …`, `nft insert rule`
 * with position 'prepend', `… position <handle>` with { after } / { before }).
 * Returns it as the kernel stored it, with its handle.
 */
export async function addRule(spec: RuleSpec, opts: CommitOptions = {}): Promise<Rule> {
  checkRuleSpec(spec);
  return (await commitOne({ ...opts, echo: true }, 'addRule', `${spec.family} ${spec.table} ${spec.chain}`, describeRule('add', spec), (w, f) => writeAddRule(w, f, spec), decodeRule)) as Rule;
}

/** Replaces the rule with `handle` in place (`nft replace rule … handle <h> …`). */
export async function replaceRule(spec: RuleSpec & { handle: number }, opts: CommitOptions = {}): Promise<Rule> {
  checkRuleSpec(spec);
  checkHandle(spec.handle, 'rule.handle');
  return (await commitOne(
    { ...opts, echo: true },
    'replaceRule',
    `${spec.family} ${spec.table} ${spec.chain} handle ${spec.handle}`,
    describeRule('replace', spec),
    (w, f) => writeAddRule(w, f, spec, spec.handle),
    decodeRule,
  )) as Rule;
}

/** Deletes a rule by handle (`nft delete rule … handle <h>`; with ifExists, `nft destroy rule`). */
export async function deleteRule(ref: RuleRef, opts: CommitOptions & { ifExists?: boolean } = {}): Promise<void> {
  familyNumber(ref?.family, 'rule.family');
  await commitOne(opts, 'deleteRule', describeRule('', ref).trim().replace(/^rule /, ''), describeRule(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) =>
    writeDeleteRule(w, f, ref, opts.ifExists),
  );
}
