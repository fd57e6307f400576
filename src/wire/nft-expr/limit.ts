// limit (net/netfilter/nft_limit.c): token-bucket rate limit in packets or
// bytes per unit of time; the rule stops once over the limit (or under, inverted).
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, required, withUnknown, writeUnknown } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_limit_attributes
export const NFTA_LIMIT_RATE = 1;
export const NFTA_LIMIT_UNIT = 2;
export const NFTA_LIMIT_BURST = 3;
export const NFTA_LIMIT_TYPE = 4;
export const NFTA_LIMIT_FLAGS = 5;
// enum nft_limit_type / nft_limit_flags
export const limitTypes = new Enum('limit type', { packets: 0, bytes: 1 });
export const NFT_LIMIT_F_INV = 1 << 0;

export interface LimitExpr {
  type: 'limit';
  rate: bigint;
  /** Seconds per unit (1 second, 60 minute, 3600 hour, 86400 day). */
  unit: bigint;
  burst: number;
  kind: 'packets' | 'bytes';
  invert?: boolean;
  unknown?: RawAttr[];
}

const attrs = schema('limit', {
  rate: [NFTA_LIMIT_RATE, 'be64'],
  unit: [NFTA_LIMIT_UNIT, 'be64'],
  burst: [NFTA_LIMIT_BURST, 'be32'],
  type: [NFTA_LIMIT_TYPE, 'be32'],
  flags: [NFTA_LIMIT_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('limit', ['rate', 'unit', 'burst', 'kind', 'invert']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    limit: LimitExpr;
  }
}

export const limit = registerExpr<LimitExpr>({
  name: 'limit',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, {
      rate: e.rate,
      unit: e.unit,
      burst: e.burst,
      type: limitTypes.value(e.kind, 'limit.kind'),
      flags: e.invert ? NFT_LIMIT_F_INV : 0,
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: LimitExpr = {
      type: 'limit',
      rate: required(a.rate, 'limit: NFTA_LIMIT_RATE'),
      unit: required(a.unit, 'limit: NFTA_LIMIT_UNIT'),
      burst: a.burst ?? 0,
      kind: limitTypes.name(a.type ?? 0) as LimitExpr['kind'],
    };
    if (a.flags !== undefined && a.flags & NFT_LIMIT_F_INV) e.invert = true;
    return withUnknown(e, a.unknown);
  },
});
