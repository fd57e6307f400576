// Tables: the top-level container of chains, sets and rules, one namespace
// per family (ip, ip6, inet, arp, bridge, netdev).
import { NFGENMSG_LEN, beginNfMessage, buildUdata, nftMsgType, NFTA_TABLE_FLAGS, NFTA_TABLE_HANDLE, NFTA_TABLE_NAME, NFTA_TABLE_OWNER, NFTA_TABLE_USE, NFTA_TABLE_USERDATA, NFTA_RULE_TABLE, NFT_MSG_DELRULE, NFT_MSG_DELTABLE, NFT_MSG_DESTROYTABLE, NFT_MSG_GETTABLE, NFT_MSG_NEWTABLE, NFTNL_UDATA_TABLE_COMMENT, readNfgenmsg, udataComment, udataString, NFPROTO_UNSPEC, writeName } from '../wire/nfnetlink.js';
import { NLM_F_CREATE, NLM_F_EXCL, type Message, type Writer } from '../wire/netlink.js';
import { schema } from '../wire/schema.js';
import { Flags } from '../wire/nft-expr/common.js';
import { commitOne, type CommitOptions, type NsOption } from './batch.js';
import { checkComment, familyName, familyNumber, checkHandle, knownKeys, checkName, type Family } from './family.js';
import { dump, get } from './request.js';

export type TableFlag = 'dormant' | 'owner' | 'persist';
export const tableFlags = new Flags<TableFlag>('table flag', { dormant: 0x1, owner: 0x2, persist: 0x4 });

export interface TableSpec {
  family: Family;
  name: string;
  /** dormant: hooks unregistered; owner: removed when the creating socket closes. */
  flags?: TableFlag[];
  comment?: string;
}

/** A table by name, or by handle. */
export interface TableRef {
  family: Family;
  name?: string;
  handle?: number;
}

export interface Table {
  family: Family;
  name: string;
  handle: number;
  flags: (TableFlag | number)[];
  /** Number of chains, sets and other objects in it. */
  use: number;
  comment?: string;
  /** Netlink port id of the owning socket (owner flag). */
  owner?: number;
}

// enum nft_table_attributes
export const tableAttrs = schema('table', {
  name: [NFTA_TABLE_NAME, 'string'],
  flags: [NFTA_TABLE_FLAGS, 'be32'],
  use: [NFTA_TABLE_USE, 'be32'],
  handle: [NFTA_TABLE_HANDLE, 'be64'],
  userdata: [NFTA_TABLE_USERDATA, 'binary'],
  owner: [NFTA_TABLE_OWNER, 'be32'],
} as const);

export function decodeTable(m: Message): Table {
  const g = readNfgenmsg(m.payload);
  const a = tableAttrs.decode(m.payload, NFGENMSG_LEN);
  const t: Table = {
    family: familyName(g.family),
    name: a.name ?? '',
    handle: Number(a.handle ?? 0n),
    flags: tableFlags.names(a.flags ?? 0),
    use: a.use ?? 0,
  };
  const c = udataComment(a.userdata, NFTNL_UDATA_TABLE_COMMENT);
  if (c !== undefined) t.comment = c;
  if (a.owner !== undefined) t.owner = a.owner;
  return t;
}

export function checkTableSpec(spec: TableSpec, arg = 'table'): void {
  knownKeys(spec, ['family', 'name', 'flags', 'comment'], arg);
  familyNumber(spec.family, `${arg}.family`);
  checkName(spec.name, `${arg}.name`);
  if (spec.comment !== undefined) checkComment(spec.comment, `${arg}.comment`);
}

/** Writes NFT_MSG_NEWTABLE. */
export function writeAddTable(w: Writer, flags: number, spec: TableSpec, exclusive = false): void {
  checkTableSpec(spec);
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_NEWTABLE), flags | NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0), familyNumber(spec.family));
  writeName(w, NFTA_TABLE_NAME, spec.name);
  // Always sent (as nft does): adding an existing table updates its flags.
  w.be32(NFTA_TABLE_FLAGS, tableFlags.value(spec.flags, 'table.flags'));
  if (spec.comment !== undefined) w.bytes(NFTA_TABLE_USERDATA, buildUdata([[NFTNL_UDATA_TABLE_COMMENT, udataString(spec.comment)]]));
  w.end(start);
}

function writeTableRef(w: Writer, ref: TableRef, arg: string): void {
  knownKeys(ref, ['family', 'name', 'handle', 'flags', 'comment', 'use', 'owner'], arg);
  if (ref.handle !== undefined) w.be64(NFTA_TABLE_HANDLE, checkHandle(ref.handle, `${arg}.handle`));
  else writeName(w, NFTA_TABLE_NAME, checkName(ref.name, `${arg}.name`));
}

/** Writes NFT_MSG_DELTABLE (or DESTROYTABLE: no error when it does not exist, Linux 6.3+). */
export function writeDeleteTable(w: Writer, flags: number, ref: TableRef, ifExists = false): void {
  const start = beginNfMessage(w, nftMsgType(ifExists ? NFT_MSG_DESTROYTABLE : NFT_MSG_DELTABLE), flags, familyNumber(ref.family, 'table.family'));
  writeTableRef(w, ref, 'table');
  w.end(start);
}

/** Writes NFT_MSG_DELRULE for a whole table: every rule of every chain goes. */
export function writeFlushTable(w: Writer, flags: number, ref: TableRef): void {
  const start = beginNfMessage(w, nftMsgType(NFT_MSG_DELRULE), flags, familyNumber(ref.family, 'table.family'));
  writeName(w, NFTA_RULE_TABLE, checkName(ref.name, 'table.name'));
  w.end(start);
}

/** Writes DELTABLE without a name: every table of the family (or all) goes. */
export function writeFlushRuleset(w: Writer, flags: number, family?: Family): void {
  w.end(beginNfMessage(w, nftMsgType(NFT_MSG_DELTABLE), flags, family === undefined ? NFPROTO_UNSPEC : familyNumber(family)));
}

export const describeTable = (verb: string, t: { family: Family; name?: string; handle?: number }) =>
  `${verb} table ${t.family} ${t.name ?? `handle ${t.handle}`}`;

/** Tables in the namespace (`nft list tables [family]`). */
export async function listTables(opts: NsOption & { family?: Family } = {}): Promise<Table[]> {
  const family = opts.family === undefined ? NFPROTO_UNSPEC : familyNumber(opts.family);
  return (await dump(opts, { msg: NFT_MSG_GETTABLE, family, operation: 'listTables' })).map(decodeTable);
}

/** One table (`nft list table <family> <name>`, the table itself). ENOENT if missing. */
export async function getTable(ref: { family: Family; name: string }, opts: NsOption = {}): Promise<Table> {
  const family = familyNumber(ref?.family, 'table.family');
  const name = checkName(ref.name, 'table.name');
  return decodeTable(await get(opts, { msg: NFT_MSG_GETTABLE, family, attrs: (w) => writeName(w, NFTA_TABLE_NAME, name), operation: 'getTable', subject: `${ref.family} ${name}` }));
}

/**
 * Adds a table (`nft add table <family> <name>`; with exclusive, `nft create
 * table`: EEXIST if it exists). Returns it with its handle.
 */
export async function addTable(spec: TableSpec, opts: CommitOptions & { exclusive?: boolean } = {}): Promise<Table> {
  checkTableSpec(spec);
  return (await commitOne(
    { ...opts, echo: true },
    'addTable',
    `${spec.family} ${spec.name}`,
    describeTable('add', spec),
    (w, f) => writeAddTable(w, f, spec, opts.exclusive),
    decodeTable,
  )) as Table;
}

/**
 * Deletes a table and everything in it (`nft delete table`; with ifExists,
 * `nft destroy table`).
 */
export async function deleteTable(ref: TableRef, opts: CommitOptions & { ifExists?: boolean } = {}): Promise<void> {
  familyNumber(ref?.family, 'table.family');
  await commitOne(opts, 'deleteTable', `${ref.family} ${ref.name ?? ref.handle}`, describeTable(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) =>
    writeDeleteTable(w, f, ref, opts.ifExists),
  );
}

/** Deletes every rule in every chain of a table (`nft flush table`). */
export async function flushTable(ref: { family: Family; name: string }, opts: CommitOptions = {}): Promise<void> {
  familyNumber(ref?.family, 'table.family');
  await commitOne(opts, 'flushTable', `${ref.family} ${ref.name}`, describeTable('flush', ref), (w, f) => writeFlushTable(w, f, ref));
}

/** Deletes every table (of one family, if given): `nft flush ruleset [family]`. */
export async function flushRuleset(opts: CommitOptions & { family?: Family } = {}): Promise<void> {
  if (opts.family !== undefined) familyNumber(opts.family);
  await commitOne(opts, 'flushRuleset', opts.family, `flush ruleset${opts.family ? ` ${opts.family}` : ''}`, (w, f) => writeFlushRuleset(w, f, opts.family));
}
