// What the address, route, neighbour and event modules share: address
// families, scopes, flag names, and picking one kind of message out of a reply.
import type { linkTarget } from './link.js';
import * as validate from './validate.js';
import { AF_INET, AF_INET6, AF_UNSPEC } from './wire/address.js';
import type { Message } from './wire/netlink.js';
import { RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_NAMES, RT_SCOPE_NOWHERE, RT_SCOPE_SITE, RT_SCOPE_UNIVERSE } from './wire/route.js';

/** A checked interface reference: an index (no lookup needed) or a name, and the namespace a Link was read in. */
export type LinkTarget = ReturnType<typeof linkTarget>;

export type Family = 'inet' | 'inet6';

export const FAMILY_NAMES: Readonly<Record<number, Family>> = { [AF_INET]: 'inet', [AF_INET6]: 'inet6' };

export function familyNumber(family: unknown, arg = 'family'): number {
  if (family === undefined) return AF_UNSPEC;
  return validate.oneOf(family, ['inet', 'inet6'] as const, arg) === 'inet' ? AF_INET : AF_INET6;
}

export function flagNames(bits: number, table: readonly (readonly [number, string])[]): string[] {
  const out: string[] = [];
  for (const [bit, name] of table) if (bits & bit) out.push(name);
  return out;
}

export type ScopeName = 'global' | 'site' | 'link' | 'host' | 'nowhere';
const SCOPES: Record<ScopeName, number> = {
  global: RT_SCOPE_UNIVERSE,
  site: RT_SCOPE_SITE,
  link: RT_SCOPE_LINK,
  host: RT_SCOPE_HOST,
  nowhere: RT_SCOPE_NOWHERE,
};

/** A scope name or number → the rt_scope_t value. */
export function scopeNumber(scope: unknown, arg = 'scope'): number {
  if (typeof scope === 'number') return validate.uint(scope, arg, 255);
  return SCOPES[validate.oneOf(scope, Object.keys(SCOPES) as ScopeName[], arg)];
}

export function scopeName(scope: number): ScopeName | number {
  return (RT_SCOPE_NAMES[scope] as ScopeName | undefined) ?? scope;
}

/**
 * Runs a dump streamed (`run` passes its part handler on, e.g. to
 * Pipeline.call) and keeps the decoded messages of `type` that pass `keep`,
 * decoding each part while the kernel still dumps the rest.
 */
export async function collect<T>(
  run: (onPart: (messages: Message[] | null) => void) => Promise<Message[]>,
  type: number,
  decode: (payload: Buffer) => T,
  keep: (item: T) => boolean = () => true,
): Promise<T[]> {
  let out: T[] = [];
  const take = (messages: Message[] | null) => {
    if (!messages) {
      out = []; // the kernel interrupted the dump: it starts again
      return;
    }
    for (const m of messages) {
      if (m.type !== type) continue;
      const item = decode(m.payload);
      if (keep(item)) out.push(item);
    }
  };
  take(await run(take));
  return out;
}

export function decodeAll<T>(messages: Message[], type: number, decode: (payload: Buffer) => T): T[] {
  const out: T[] = [];
  for (const m of messages) if (m.type === type) out.push(decode(m.payload));
  return out;
}
