// Refusals of the firewall layer itself (not the kernel's): a port already
// published or bound, a target outside every known network. Shaped like
// Node's system errors: `.code` ('EADDRINUSE', 'ENETUNREACH', ...).
import { NetlinkError } from '../errors.js';

export class FirewallError extends Error {
  readonly code: string;
  readonly operation: string;
  readonly subject?: string;

  constructor(code: string, operation: string, message: string, subject?: string) {
    super(`${operation}${subject ? ` ${subject}` : ''}: ${code} ${message}`);
    this.name = 'FirewallError';
    this.code = code;
    this.operation = operation;
    if (subject !== undefined) this.subject = subject;
  }
}

/** A kernel error reported under the public function's name (commit → publishPort). */
export function asOperation(err: unknown, operation: string): unknown {
  if (!(err instanceof NetlinkError) || err.operation === operation) return err;
  return new NetlinkError(err.errno, operation, {
    kernelMessage: err.kernelMessage,
    attributeOffset: err.attributeOffset,
    missingAttribute: err.missingAttribute,
    index: err.index,
    item: err.item ?? (err.operation !== 'commit' ? err.operation : undefined),
    subject: err.subject,
  });
}
