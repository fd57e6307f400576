// reject (net/netfilter/nft_reject*.c): drops the packet and answers with an
// ICMP/ICMPv6 error or a TCP reset. icmpx codes are family-neutral (inet).
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, required, withUnknown, writeUnknown } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_reject_attributes
export const NFTA_REJECT_TYPE = 1;
export const NFTA_REJECT_ICMP_CODE = 2;
// enum nft_reject_types
export const rejectTypes = new Enum('reject type', { icmp_unreach: 0, tcp_rst: 1, icmpx_unreach: 2 });
// enum nft_reject_inet_code
export const NFT_REJECT_ICMPX_NO_ROUTE = 0;
export const NFT_REJECT_ICMPX_PORT_UNREACH = 1;
export const NFT_REJECT_ICMPX_HOST_UNREACH = 2;
export const NFT_REJECT_ICMPX_ADMIN_PROHIBITED = 3;

export interface RejectExpr {
  type: 'reject';
  kind: 'icmp_unreach' | 'tcp_rst' | 'icmpx_unreach' | number;
  /** ICMP code (icmp_unreach: an ICMP or ICMPv6 code by table family; icmpx: NFT_REJECT_ICMPX_*). */
  code?: number;
  unknown?: RawAttr[];
}

const attrs = schema('reject', {
  type: [NFTA_REJECT_TYPE, 'be32'],
  code: [NFTA_REJECT_ICMP_CODE, 'u8'],
} as const);

const checkFields = fieldCheck('reject', ['kind', 'code']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    reject: RejectExpr;
  }
}

export const reject = registerExpr<RejectExpr>({
  name: 'reject',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, { type: rejectTypes.value(e.kind, 'reject.kind'), code: e.code });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: RejectExpr = { type: 'reject', kind: rejectTypes.name(required(a.type, 'reject: NFTA_REJECT_TYPE')) as RejectExpr['kind'] };
    if (a.code !== undefined) e.code = a.code;
    return withUnknown(e, a.unknown);
  },
});
