// Reads: one GET (a single object) or one dump per call, over the
// namespace's nfnetlink socket.
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, Writer, type Message } from '../wire/netlink.js';
import { beginNfMessage, nftMsgOf, nftMsgType, NFPROTO_UNSPEC, NFT_MSG_GETGEN } from '../wire/nfnetlink.js';
import { Namespace } from '../namespace.js';
import { readGeneration, type NsOption } from './batch.js';

export interface ReadRequest {
  /** NFT_MSG_GET* */
  msg: number;
  family?: number;
  /** Attributes that select (GET) or filter (dump) objects. */
  attrs?: (w: Writer) => void;
  operation: string;
  subject?: string;
}

/** Dumps every object of a kind; returns the data messages. */
export async function dump(opts: NsOption | undefined, req: ReadRequest): Promise<Message[]> {
  const ns = Namespace.of(opts?.ns);
  const w = new Writer(128);
  const start = beginNfMessage(w, nftMsgType(req.msg), NLM_F_REQUEST | NLM_F_DUMP, req.family ?? NFPROTO_UNSPEC);
  req.attrs?.(w);
  w.end(start);
  const msgs = await ns.netfilter().call(w.finish(), { operation: req.operation, subject: req.subject, dump: true });
  return msgs.filter((m) => nftMsgOf(m.type) >= 0);
}

/** Gets one object (ENOENT as a NetlinkError when it does not exist). */
export async function get(opts: NsOption | undefined, req: ReadRequest): Promise<Message> {
  const ns = Namespace.of(opts?.ns);
  const w = new Writer(128);
  const start = beginNfMessage(w, nftMsgType(req.msg), NLM_F_REQUEST | NLM_F_ACK, req.family ?? NFPROTO_UNSPEC);
  req.attrs?.(w);
  w.end(start);
  const msgs = (await ns.netfilter().call(w.finish(), { operation: req.operation, subject: req.subject })).filter((m) => nftMsgOf(m.type) >= 0);
  if (msgs.length !== 1) throw new Error(`${req.operation}: expected one reply, got ${msgs.length}`);
  return msgs[0];
}

/**
 * The ruleset generation id: it changes with every committed transaction in
 * the namespace (`nft list ruleset` shows none; `nft monitor` reports it).
 */
export async function getGeneration(opts: NsOption = {}): Promise<number> {
  const m = await get(opts, { msg: NFT_MSG_GETGEN, operation: 'getGeneration' });
  const id = readGeneration(m);
  if (id === undefined) throw new Error('getGeneration: the reply carries no NFTA_GEN_ID');
  return id;
}
