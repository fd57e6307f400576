// veth (linux/veth.h): IFLA_INFO_DATA carries VETH_INFO_PEER on create only —
// the peer's own struct ifinfomsg followed by its IFLA_* attributes (name,
// IFLA_NET_NS_FD, address, mtu ...). Dumps send no veth data: the peer shows
// up as IFLA_LINK (+ IFLA_LINK_NETNSID) of the link itself.
import { IFINFOMSG_LEN, linkAttrs, readIfinfomsg, writeLinkBody, type IfInfoMsg, type LinkAttrs } from '../link.js';
import type { Writer } from '../netlink.js';
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { VETH_INFO_UNSPEC, VETH_INFO_PEER }
export const VETH_INFO_PEER = 1;

export const vethData = schema('veth', {
  peer: [VETH_INFO_PEER, 'binary'],
} as const);

export interface VethPeerRequest {
  ifi?: Partial<IfInfoMsg>;
  attrs?: LinkAttrs;
}

export interface VethInfo {
  /** Only in create requests (decoded for tests and tooling): the peer's ifinfomsg and attributes. */
  peer?: { ifi: IfInfoMsg; attrs: Decoded<typeof linkAttrs.defs> };
}

declare module './registry.js' {
  interface LinkInfoByKind {
    veth: VethInfo;
  }
}

registerLinkKind({
  kind: 'veth',
  data: vethData,
  encode(w: Writer, info: { peer?: VethPeerRequest }) {
    for (const key of Object.keys(info)) if (key !== 'peer') throw new TypeError(`veth: unknown option ${JSON.stringify(key)} (known: peer)`);
    if (!info.peer) return;
    const at = w.nest(VETH_INFO_PEER);
    writeLinkBody(w, { ifi: info.peer.ifi, attrs: info.peer.attrs });
    w.endNest(at);
  },
  decode(raw: Decoded<typeof vethData.defs>): VethInfo {
    if (!raw.peer) return {};
    return { peer: { ifi: readIfinfomsg(raw.peer), attrs: linkAttrs.decode(raw.peer, IFINFOMSG_LEN) } };
  },
});
