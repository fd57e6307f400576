// Every expression this library models, registered by importing its file.
// Adding one: write <name>.ts (attribute table, typed form, encode/decode,
// registerExpr) and import it here.
import './meta.js';
import './payload.js';
import './cmp.js';
import './bitwise.js';
import './ct.js';
import './fib.js';
import './immediate.js';
import './counter.js';
import './nat.js';
import './masq.js';
import './redir.js';
import './lookup.js';
import './dynset.js';
import './range.js';
import './log.js';
import './limit.js';
import './reject.js';
import './notrack.js';

export * from './registry.js';
export { Enum, Flags, type Register } from './common.js';
export * from './meta.js';
export * from './payload.js';
export * from './cmp.js';
export * from './bitwise.js';
export * from './ct.js';
export * from './fib.js';
export * from './immediate.js';
export * from './counter.js';
export * from './nat-flags.js';
export * from './nat.js';
export * from './masq.js';
export * from './redir.js';
export * from './lookup.js';
export * from './dynset.js';
export * from './range.js';
export * from './log.js';
export * from './limit.js';
export * from './reject.js';
export * from './notrack.js';
