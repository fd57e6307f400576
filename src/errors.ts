// One error class for everything the kernel refuses, shaped like Node's own
// system errors (.code, .errno, .syscall) plus the operation and the kernel's
// extended-ack text. Argument checks throw TypeError/RangeError before any
// syscall, naming the argument.
import { getSystemErrorMap } from 'node:util';

const errorMap = getSystemErrorMap();

// Where libuv's names differ from the kernel's or are missing: libuv names
// 95 ENOTSUP where the kernel (and `ip`) mean EOPNOTSUPP; nf_tables answers a
// stale generation id with ERESTART (85), which libuv does not name.
const KERNEL_ERRORS: Record<number, [string, string]> = {
  85: ['ERESTART', 'ruleset generation changed'],
  95: ['EOPNOTSUPP', 'operation not supported'],
};

export function errnoName(errno: number): string {
  const abs = Math.abs(errno);
  return KERNEL_ERRORS[abs]?.[0] ?? errorMap.get(-abs)?.[0] ?? `E${abs}`;
}

function errnoText(errno: number): string {
  const abs = Math.abs(errno);
  return KERNEL_ERRORS[abs]?.[1] ?? errorMap.get(-abs)?.[1] ?? `errno ${abs}`;
}

const EPERM_HINT =
  'netweave needs CAP_NET_ADMIN in the namespace it works on: run as root, ' +
  'or inside a user namespace (unshare --user --map-root-user --net --mount)';

export interface NetlinkErrorDetails {
  /** Extended-ack message from the kernel (NLMSGERR_ATTR_MSG). */
  kernelMessage?: string;
  /** Byte offset of the rejected attribute in the request (NLMSGERR_ATTR_OFFS). */
  attributeOffset?: number;
  /** Attribute type the kernel missed (NLMSGERR_ATTR_MISS_TYPE). */
  missingAttribute?: number;
  /** In a transaction: index of the message the kernel rejected. */
  index?: number;
  /** In a transaction: what that message was (e.g. "add rule inet netweave post"). */
  item?: string;
  /** What the error was about, e.g. the interface name. */
  subject?: string;
}

export class NetlinkError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly operation: string;
  readonly syscall: string;
  readonly kernelMessage?: string;
  readonly attributeOffset?: number;
  readonly missingAttribute?: number;
  readonly index?: number;
  readonly item?: string;
  readonly subject?: string;

  constructor(errno: number, operation: string, details: NetlinkErrorDetails = {}) {
    const abs = Math.abs(errno);
    const code = errnoName(abs);
    let message = `${operation}`;
    if (details.subject) message += ` ${details.subject}`;
    if (details.item) message += ` (${details.item})`;
    message += `: ${code} ${errnoText(abs)}`;
    if (details.kernelMessage) message += ` — kernel: ${details.kernelMessage}`;
    if (code === 'EPERM' || code === 'EACCES') message += `. ${EPERM_HINT}`;
    super(message);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = abs;
    this.operation = operation;
    this.syscall = operation;
    Object.assign(this, stripUndefined(details));
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Raised for malformed netlink input; never an out-of-bounds read. */
export class NetlinkParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetlinkParseError';
  }
}

/** Throws NetlinkError when a native synchronous call returned -errno. */
export function check(result: number, operation: string, subject?: string): number {
  if (result < 0) throw new NetlinkError(-result, operation, { subject });
  return result;
}
