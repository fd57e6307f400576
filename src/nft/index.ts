// nftables over nfnetlink: tables, chains, rules built from typed
// expressions, sets and maps, atomic transactions, change events.
export { FAMILIES, CHAIN_TYPES, type Family, type Hook, type ChainType, type PriorityName } from './family.js';
export * as dataTypes from './datatypes.js';
export {
  concatType,
  resolveType,
  typeFromKernel,
  type DataType,
  type TypeName,
  type TypeSpec,
  type TypeValues,
  type InetProto,
  type NfProto,
  type CtState,
  type CtStatus,
  type FibAddrType,
} from './datatypes.js';
export * from './build.js';
export { Batch, type CommitOptions, type CommitResult, type NsOption } from './batch.js';
export { getGeneration } from './request.js';
export * from './table.js';
export * from './chain.js';
export * from './rule.js';
export * from './set.js';
export * from './transaction.js';
export * from './events.js';
export { canonicalExprs, sameExprs } from './compare.js';
export { listRuleset, type Ruleset } from './ruleset.js';
export type { Expr, UnknownExpr, KnownExpr, ExprByName } from '../wire/nft-expr/index.js';
export type { Verdict } from '../wire/nfnetlink.js';
