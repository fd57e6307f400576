// nf_tables change notifications (NFNLGRP_NFTABLES, what `nft monitor`
// shows): every committed transaction reports each object it added or
// removed, then NFT_MSG_NEWGEN with the new generation id. `nft flush
// ruleset` arrives as deletions of every rule, chain, set and table.
import { Subscription } from '../engine.js';
import type { NetlinkError } from '../errors.js';
import { forEachAttr, NETLINK_NETFILTER, cString, type Message } from '../wire/netlink.js';
import {
  NFGENMSG_LEN,
  nftMsgOf,
  NFNLGRP_NFTABLES,
  NFTA_GEN_ID,
  NFTA_GEN_PROC_NAME,
  NFTA_GEN_PROC_PID,
  NFT_MSG_DELCHAIN,
  NFT_MSG_DELRULE,
  NFT_MSG_DELSET,
  NFT_MSG_DELSETELEM,
  NFT_MSG_DELTABLE,
  NFT_MSG_DESTROYCHAIN,
  NFT_MSG_DESTROYRULE,
  NFT_MSG_DESTROYSET,
  NFT_MSG_DESTROYSETELEM,
  NFT_MSG_DESTROYTABLE,
  NFT_MSG_NEWCHAIN,
  NFT_MSG_NEWGEN,
  NFT_MSG_NEWRULE,
  NFT_MSG_NEWSET,
  NFT_MSG_NEWSETELEM,
  NFT_MSG_NEWTABLE,
  readNfgenmsg,
} from '../wire/nfnetlink.js';
import { Namespace } from '../namespace.js';
import type { NsOption } from './batch.js';
import { decodeChain, type Chain } from './chain.js';
import { familyName, type Family } from './family.js';
import { decodeRule, type Rule } from './rule.js';
import { decodeRawElements, decodeSet, type NftSet, type RawElementList } from './set.js';
import { decodeTable, type Table } from './table.js';

export type NftEvent =
  | { type: 'table'; op: 'add' | 'delete'; table: Table }
  | { type: 'chain'; op: 'add' | 'delete'; chain: Chain }
  | { type: 'rule'; op: 'add' | 'delete'; rule: Rule }
  | { type: 'set'; op: 'add' | 'delete'; set: NftSet }
  /** Element keys and data raw: typedElements(set, e.elements.elements) types them. */
  | { type: 'elements'; op: 'add' | 'delete'; elements: RawElementList }
  /** A transaction committed: the new generation, and who committed it. */
  | { type: 'generation'; id: number; pid?: number; process?: string }
  /** Objects this library does not model (flowtables, stateful objects), or an event it could not parse. */
  | { type: 'other'; msg: number; family: Family; error?: string };

const DECODERS: Record<number, (m: Message) => NftEvent> = {
  [NFT_MSG_NEWTABLE]: (m) => ({ type: 'table', op: 'add', table: decodeTable(m) }),
  [NFT_MSG_DELTABLE]: (m) => ({ type: 'table', op: 'delete', table: decodeTable(m) }),
  [NFT_MSG_DESTROYTABLE]: (m) => ({ type: 'table', op: 'delete', table: decodeTable(m) }),
  [NFT_MSG_NEWCHAIN]: (m) => ({ type: 'chain', op: 'add', chain: decodeChain(m) }),
  [NFT_MSG_DELCHAIN]: (m) => ({ type: 'chain', op: 'delete', chain: decodeChain(m) }),
  [NFT_MSG_DESTROYCHAIN]: (m) => ({ type: 'chain', op: 'delete', chain: decodeChain(m) }),
  [NFT_MSG_NEWRULE]: (m) => ({ type: 'rule', op: 'add', rule: decodeRule(m) }),
  [NFT_MSG_DELRULE]: (m) => ({ type: 'rule', op: 'delete', rule: decodeRule(m) }),
  [NFT_MSG_DESTROYRULE]: (m) => ({ type: 'rule', op: 'delete', rule: decodeRule(m) }),
  [NFT_MSG_NEWSET]: (m) => ({ type: 'set', op: 'add', set: decodeSet(m) }),
  [NFT_MSG_DELSET]: (m) => ({ type: 'set', op: 'delete', set: decodeSet(m) }),
  [NFT_MSG_DESTROYSET]: (m) => ({ type: 'set', op: 'delete', set: decodeSet(m) }),
  [NFT_MSG_NEWSETELEM]: (m) => ({ type: 'elements', op: 'add', elements: decodeRawElements(m) }),
  [NFT_MSG_DELSETELEM]: (m) => ({ type: 'elements', op: 'delete', elements: decodeRawElements(m) }),
  [NFT_MSG_DESTROYSETELEM]: (m) => ({ type: 'elements', op: 'delete', elements: decodeRawElements(m) }),
  [NFT_MSG_NEWGEN]: decodeGeneration,
};

function decodeGeneration(m: Message): NftEvent {
  readNfgenmsg(m.payload);
  const e: { type: 'generation'; id: number; pid?: number; process?: string } = { type: 'generation', id: 0 };
  forEachAttr(m.payload, NFGENMSG_LEN, m.payload.length, (type, value) => {
    if (type === NFTA_GEN_ID && value.length >= 4) e.id = value.readUInt32BE(0);
    else if (type === NFTA_GEN_PROC_PID && value.length >= 4) e.pid = value.readUInt32BE(0);
    else if (type === NFTA_GEN_PROC_NAME) e.process = cString(value);
  });
  return e;
}

/** Decodes one nf_tables notification; never throws (unparseable ones come back as 'other' with the error). */
export function decodeEvent(m: Message): NftEvent | undefined {
  const msg = nftMsgOf(m.type);
  if (msg < 0) return undefined;
  const family = familyName(m.payload.length > 0 ? m.payload[0] : 0);
  const decode = DECODERS[msg];
  if (!decode) return { type: 'other', msg, family };
  try {
    return decode(m);
  } catch (err) {
    return { type: 'other', msg, family, error: (err as Error).message };
  }
}

export interface WatchOptions extends NsOption {
  /** Called for each change, in the order the kernel reported them. */
  onEvent(event: NftEvent): void;
  /** Events were lost (the socket overran): re-read whatever you track. */
  onResync?(error: NetlinkError): void;
  /** Keep the process alive while watching (default true). */
  ref?: boolean;
}

export interface NftWatcher {
  close(): void;
  /** Let the process exit while watching. */
  unref(): void;
  ref(): void;
}

/**
 * Watches nf_tables changes in a namespace (`nft monitor`). Resolves once
 * subscribed: changes committed after that are reported.
 */
export async function watchNftables(opts: WatchOptions): Promise<NftWatcher> {
  if (typeof opts?.onEvent !== 'function') throw new TypeError('watchNftables: onEvent must be a function');
  if (opts.onResync !== undefined && typeof opts.onResync !== 'function') throw new TypeError('watchNftables: onResync must be a function');
  const ns = Namespace.of(opts?.ns);
  const sub = new Subscription(
    NETLINK_NETFILTER,
    [NFNLGRP_NFTABLES],
    (messages) => {
      for (const m of messages) {
        const e = decodeEvent(m);
        if (e) opts.onEvent(e);
      }
    },
    (err) => opts.onResync?.(err),
    { nsFd: ns.nsFd, ref: opts.ref },
  );
  await sub.ready;
  return { close: () => sub.close(), unref: () => sub.unref(), ref: () => sub.ref() };
}
