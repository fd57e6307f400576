// log (net/netfilter/nft_log.c): logs the packet to the kernel log (syslog
// levels) or to an nflog group.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, Flags, withUnknown, writeUnknown } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_log_attributes
export const NFTA_LOG_GROUP = 1;
export const NFTA_LOG_PREFIX = 2;
export const NFTA_LOG_SNAPLEN = 3;
export const NFTA_LOG_QTHRESHOLD = 4;
export const NFTA_LOG_LEVEL = 5;
export const NFTA_LOG_FLAGS = 6;

// enum nft_log_level
export const logLevels = new Enum('log level', { emerg: 0, alert: 1, crit: 2, err: 3, warn: 4, notice: 5, info: 6, debug: 7, audit: 8 });
export type LogLevel = (typeof logLevels.names)[number];
// NF_LOG_* (linux/netfilter/nf_log.h)
export const logFlags = new Flags('log flag', { tcpseq: 0x01, tcpopt: 0x02, ipopt: 0x04, uid: 0x08, nflog: 0x10, macdecode: 0x20 });

export interface LogExpr {
  type: 'log';
  prefix?: string;
  /** nflog group (then level must be unset). */
  group?: number;
  snaplen?: number;
  qthreshold?: number;
  level?: LogLevel | number;
  flags?: ('tcpseq' | 'tcpopt' | 'ipopt' | 'uid' | 'nflog' | 'macdecode' | number)[];
  unknown?: RawAttr[];
}

// libnftnl order: prefix, group, snaplen, qthreshold, level, flags.
const attrs = schema('log', {
  prefix: [NFTA_LOG_PREFIX, 'string'],
  group: [NFTA_LOG_GROUP, 'be16'],
  snaplen: [NFTA_LOG_SNAPLEN, 'be32'],
  qthreshold: [NFTA_LOG_QTHRESHOLD, 'be16'],
  level: [NFTA_LOG_LEVEL, 'be32'],
  flags: [NFTA_LOG_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('log', ['prefix', 'group', 'snaplen', 'qthreshold', 'level', 'flags']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    log: LogExpr;
  }
}

export const log = registerExpr<LogExpr>({
  name: 'log',
  encode(w, e) {
    checkFields(e);
    if (e.prefix !== undefined && Buffer.byteLength(e.prefix) > 127) throw new RangeError('log.prefix is longer than 127 bytes (NF_LOG_PREFIXLEN)');
    writeAttrs(w, {
      prefix: e.prefix,
      group: e.group,
      snaplen: e.snaplen,
      qthreshold: e.qthreshold,
      level: e.level === undefined ? undefined : logLevels.value(e.level, 'log.level'),
      flags: e.flags === undefined ? undefined : logFlags.value(e.flags, 'log.flags'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: LogExpr = { type: 'log' };
    if (a.prefix !== undefined) e.prefix = a.prefix;
    if (a.group !== undefined) e.group = a.group;
    if (a.snaplen !== undefined) e.snaplen = a.snaplen;
    if (a.qthreshold !== undefined) e.qthreshold = a.qthreshold;
    if (a.level !== undefined) e.level = logLevels.name(a.level) as LogLevel;
    if (a.flags !== undefined) e.flags = logFlags.names(a.flags) as LogExpr['flags'];
    return withUnknown(e, a.unknown);
  },
});
