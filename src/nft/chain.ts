// Chains: regular chains (jump/goto targets) and base chains, which hook into
// the stack (type, hook, priority, policy).
import { cString, forEachAttr, NLM_F_CREATE, NLM_F_EXCL, type Message, type Writer } from '../wire/netlink.js';
import {
  beginNfMessage,
  buildUdata,
  NFGENMSG_LEN,
  NF_ACCEPT,
  NF_DROP,
  nftMsgType,
  NFTA_CHAIN_COUNTERS,
  NFTA_CHAIN_FLAGS,
  NFTA_CHAIN_HANDLE,
  NFTA_CHAIN_HOOK,
  NFTA_CHAIN_ID,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_POLICY,
  NFTA_CHAIN_TABLE,
  NFTA_CHAIN_TYPE,
  NFTA_CHAIN_USE,
  NFTA_CHAIN_USERDATA,
  NFTA_COUNTER_BYTES,
  NFTA_COUNTER_PACKETS,
  NFTA_HOOK_DEV,
  NFTA_HOOK_DEVS,
  NFTA_HOOK_HOOKNUM,
  NFTA_HOOK_PRIORITY,
  NFTA_RULE_CHAIN,
  NFTA_RULE_TABLE,
  NFT_MSG_DELCHAIN,
  NFT_MSG_DELRULE,
  NFT_MSG_DESTROYCHAIN,
  NFT_MSG_GETCHAIN,
  NFT_MSG_NEWCHAIN,
  NFTNL_UDATA_CHAIN_COMMENT,
  NFPROTO_UNSPEC,
  readNfgenmsg,
  udataComment,
  udataString,
  writeName,
} from '../wire/nfnetlink.js';
import { Flags } from '../wire/nft-expr/common.js';
import { schema } from '../wire/schema.js';
import { ifname } from '../validate.js';
import { commitOne, type CommitOptions, type NsOption } from './batch.js';
import {
  CHAIN_TYPES,
  checkComment,
  familyName,
  familyNumber,
  checkHandle,
  hookName,
  hookNumber,
  knownKeys,
  checkName,
  priorityNumber,
  type ChainType,
  type Family,
  type Hook,
  type PriorityName,
} from './family.js';
import { dump, get } from './request.js';

export interface ChainSpec {
  family: Family;
  table: string;
  name: string;
  /** Base chains: the chain type (default filter) ... */
  type?: ChainType;
  /** ... the hook ... */
  hook?: Hook;
  /** ... and its priority, a number or nft's name for it (dstnat, srcnat, filter ...). */
  priority?: number | PriorityName;
  /** What happens to packets no rule decided on (default accept). */
  policy?: 'accept' | 'drop';
  /** netdev ingress/egress: the interface. */
  device?: string;
  comment?: string;
}

/** A chain by name, or by handle. */
export interface ChainRef {
  family: Family;
  table: string;
  name?: string;
  handle?: number;
}

export type ChainFlag = 'base' | 'hw_offload' | 'binding';
export const chainFlags = new Flags<ChainFlag>('chain flag', { base: 0x1, hw_offload: 0x2, binding: 0x4 });

export interface Chain {
  family: Family;
  table: string;
  name: string;
  handle: number;
  type?: ChainType | string;
  hook?: Hook | number;
  priority?: number;
  policy?: 'accept' | 'drop' | number;
  device?: string;
  devices?: string[];
  /** Rules (and jumps to it) referencing the chain. */
  use: number;
  flags: (ChainFlag | number)[];
  comment?: string;
  counters?: { bytes: bigint; packets: bigint };
}

const hookAttrs = schema('chain hook', {
  hooknum: [NFTA_HOOK_HOOKNUM, 'be32'],
  priority: [NFTA_HOOK_PRIORITY, 'be32'],
  dev: [NFTA_HOOK_DEV, 'string'],
  devs: [NFTA_HOOK_DEVS, 'binary'],
} as const);

const counterAttrs = schema('chain counters', {
  bytes: [NFTA_COUNTER_BYTES, 'be64'],
  packets: [NFTA_COUNTER_PACKETS, 'be64'],
} as const);

// enum nft_chain_attributes
export const chainAttrs = schema('chain', {
  table: [NFTA_CHAIN_TABLE, 'string'],
  handle: [NFTA_CHAIN_HANDLE, 'be64'],
  name: [NFTA_CHAIN_NAME, 'string'],
  type: [NFTA_CHAIN_TYPE, 'string'],
  policy: [NFTA_CHAIN_POLICY, 'be32'],
  hook: [NFTA_CHAIN_HOOK, 'nested', hookAttrs],
  use: [NFTA_CHAIN_USE, 'be32'],
  counters: [NFTA_CHAIN_COUNTERS, 'nested', counterAttrs],
  flags: [NFTA_CHAIN_FLAGS, 'be32'],
  id: [NFTA_CHAIN_ID, 'be32'],
  userdata: [NFTA_CHAIN_USERDATA, 'binary'],
} as const);

const POLICIES = { accept: NF_ACCEPT, drop: NF_DROP } as const;

export function decodeChain(m: Message): Chain {
  const g = readNfgenmsg(m.payload);
  const a = chainAttrs.decode(m.payload, NFGENMSG_LEN);
  const family = familyName(g.family);
  const c: Chain = {
    family,
    table: a.table ?? '',
    name: a.name ?? '',
    handle: Number(a.handle ?? 0n),
    use: a.use ?? 0,
    flags: chainFlags.names(a.flags ?? 0),
  };
  if (a.type !== undefined) c.type = a.type;
  if (a.hook) {
    if (a.hook.hooknum !== undefined) c.hook = hookName(family, a.hook.hooknum);
    if (a.hook.priority !== undefined) c.priority = a.hook.priority | 0;
    if (a.hook.dev !== undefined) c.device = a.hook.dev;
    if (a.hook.devs !== undefined) {
      // NFTA_HOOK_DEVS: a list of NFTA_DEVICE_NAME strings.
      const devs: string[] = [];
      forEachAttr(a.hook.devs, 0, a.hook.devs.length, (_type, value) => devs.push(cString(value)));
      c.devices = devs;
    }
  }
  if (a.policy !== undefined) c.policy = a.policy === NF_ACCEPT ? 'accept' : a.policy === NF_DROP ? 'drop' : a.policy;
  const cm = udataComment(a.userdata, NFTNL_UDATA_CHAIN_COMMENT);
  if (cm !== undefined) c.comment = cm;
  if (a.counters?.bytes !== undefined && a.counters.packets !== undefined) c.counters = { bytes: a.counters.bytes, packets: a.counters.packets };
  return c;
}

const isBase = (s: ChainSpec) => s.hook !== undefined || s.type !== undefined || s.priority !== undefined || s.policy !== undefined || s.device !== undefined;

export function checkChainSpec(spec: ChainSpec, arg = 'chain'): void {
  knownKeys(spec, ['family', 'table', 'name', 'type', 'hook', 'priority', 'policy', 'device', 'comment'], arg);
  familyNumber(spec.family, `${arg}.family`);
  checkName(spec.table, `${arg}.table`);
  checkName(spec.name, `${arg}.name`);
  if (isBase(spec)) {
    if (spec.hook === undefined || spec.priority === undefined) throw new TypeError(`${arg}: a base chain needs hook and priority`);
    hookNumber(spec.family, spec.hook, `${arg}.hook`);
    priorityNumber(spec.family, spec.priority, `${arg}.priority`);
    if (spec.type !== undefined && !CHAIN_TYPES.includes(spec.type)) throw new TypeError(`${arg}.type must be one of ${CHAIN_TYPES.join(', ')}`);
    if (spec.policy !== undefined && !(spec.policy in POLICIES)) throw new TypeError(`${arg}.policy must be accept or drop`);
    if (spec.device !== undefined) ifname(spec.device, `${arg}.device`);
  }
  if (spec.comment !== undefined) checkComment(spec.comment, `${arg}.comment`);
}

/** Writes NFT_MSG_NEWCHAIN (an existing chain is updated: its policy, say). */
export function writeAddChain(w: Writer, flags: number, spec: ChainSpec, exclusive = false): void {
  checkChainSpec(spec);
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_NEWCHAIN), flags | NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0), familyNumber(spec.family));
  writeName(w, NFTA_CHAIN_TABLE, spec.table);
  writeName(w, NFTA_CHAIN_NAME, spec.name);
  if (isBase(spec)) {
    writeName(w, NFTA_CHAIN_TYPE, spec.type ?? 'filter');
    if (spec.policy !== undefined) w.be32(NFTA_CHAIN_POLICY, POLICIES[spec.policy]);
    const hook = w.nest(NFTA_CHAIN_HOOK);
    w.be32(NFTA_HOOK_HOOKNUM, hookNumber(spec.family, spec.hook));
    w.be32(NFTA_HOOK_PRIORITY, priorityNumber(spec.family, spec.priority) >>> 0);
    if (spec.device !== undefined) writeName(w, NFTA_HOOK_DEV, spec.device);
    w.endNest(hook);
  }
  if (spec.comment !== undefined) w.bytes(NFTA_CHAIN_USERDATA, buildUdata([[NFTNL_UDATA_CHAIN_COMMENT, udataString(spec.comment)]]));
  w.end(start);
}

function writeChainRef(w: Writer, ref: ChainRef, arg: string): void {
  knownKeys(ref, ['family', 'table', 'name', 'handle', 'type', 'hook', 'priority', 'policy', 'device', 'devices', 'comment', 'use', 'flags', 'counters'], arg);
  writeName(w, NFTA_CHAIN_TABLE, checkName(ref.table, `${arg}.table`));
  if (ref.handle !== undefined) w.be64(NFTA_CHAIN_HANDLE, checkHandle(ref.handle, `${arg}.handle`));
  else writeName(w, NFTA_CHAIN_NAME, checkName(ref.name, `${arg}.name`));
}

/** Writes NFT_MSG_DELCHAIN (or DESTROYCHAIN). Its rules go with it; EBUSY while a jump or map references it. */
export function writeDeleteChain(w: Writer, flags: number, ref: ChainRef, ifExists = false): void {
  const start = beginNfMessage(w, nftMsgType(ifExists ? NFT_MSG_DESTROYCHAIN : NFT_MSG_DELCHAIN), flags, familyNumber(ref?.family, 'chain.family'));
  writeChainRef(w, ref, 'chain');
  w.end(start);
}

/** Writes NFT_MSG_DELRULE with table and chain: every rule of the chain goes. */
export function writeFlushChain(w: Writer, flags: number, ref: { family: Family; table: string; name: string }): void {
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_DELRULE), flags, familyNumber(ref?.family, 'chain.family'));
  writeName(w, NFTA_RULE_TABLE, checkName(ref.table, 'chain.table'));
  writeName(w, NFTA_RULE_CHAIN, checkName(ref.name, 'chain.name'));
  w.end(start);
}

export const describeChain = (verb: string, c: { family: Family; table: string; name?: string; handle?: number }) =>
  `${verb} chain ${c.family} ${c.table} ${c.name ?? `handle ${c.handle}`}`;

/** Chains (`nft list chains [family]`), optionally of one table. */
export async function listChains(opts: NsOption & { family?: Family; table?: string } = {}): Promise<Chain[]> {
  const family = opts.family === undefined ? NFPROTO_UNSPEC : familyNumber(opts.family);
  if (opts.table !== undefined) checkName(opts.table, 'table');
  const all = (await dump(opts, { msg: NFT_MSG_GETCHAIN, family, operation: 'listChains' })).map(decodeChain);
  return opts.table === undefined ? all : all.filter((c) => c.table === opts.table);
}

/** One chain (`nft list chain <family> <table> <name>`, without its rules). ENOENT if missing. */
export async function getChain(ref: { family: Family; table: string; name: string }, opts: NsOption = {}): Promise<Chain> {
  const family = familyNumber(ref?.family, 'chain.family');
  const table = checkName(ref.table, 'chain.table');
  const name = checkName(ref.name, 'chain.name');
  const m = await get(opts, {
    msg: NFT_MSG_GETCHAIN,
    family,
    attrs: (w) => {
      writeName(w, NFTA_CHAIN_TABLE, table);
      writeName(w, NFTA_CHAIN_NAME, name);
    },
    operation: 'getChain',
    subject: `${ref.family} ${table} ${name}`,
  });
  return decodeChain(m);
}

/**
 * Adds a chain (`nft add chain <family> <table> <name> [{ type … hook …
 * priority …; policy …; }]`); an existing one is updated (its policy), or,
 * with exclusive (`nft create chain`), EEXIST. Returns it with its handle.
 */
export async function addChain(spec: ChainSpec, opts: CommitOptions & { exclusive?: boolean } = {}): Promise<Chain> {
  checkChainSpec(spec);
  return (await commitOne(
    { ...opts, echo: true },
    'addChain',
    `${spec.family} ${spec.table} ${spec.name}`,
    describeChain('add', spec),
    (w, f) => writeAddChain(w, f, spec, opts.exclusive),
    decodeChain,
  )) as Chain;
}

/**
 * Deletes a chain and its rules (`nft flush chain` + `nft delete chain`; with
 * ifExists, `nft destroy chain`). EBUSY while a jump or map references it.
 */
export async function deleteChain(ref: ChainRef, opts: CommitOptions & { ifExists?: boolean } = {}): Promise<void> {
  familyNumber(ref?.family, 'chain.family');
  await commitOne(opts, 'deleteChain', `${ref.family} ${ref.table} ${ref.name ?? ref.handle}`, describeChain(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) =>
    writeDeleteChain(w, f, ref, opts.ifExists),
  );
}

/** Deletes every rule of a chain (`nft flush chain`). */
export async function flushChain(ref: { family: Family; table: string; name: string }, opts: CommitOptions = {}): Promise<void> {
  familyNumber(ref?.family, 'chain.family');
  await commitOne(opts, 'flushChain', `${ref.family} ${ref.table} ${ref.name}`, describeChain('flush', ref), (w, f) => writeFlushChain(w, f, ref));
}
