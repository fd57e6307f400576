// The network drivers, by name. Each driver file registers itself (like the
// link kinds); a program may register its own.
import { argType } from '../errors.js';
import type { CheckedOptions, NetworkDriver } from './types.js';

const drivers = new Map<string, NetworkDriver>();

/** Makes a driver available to createNetwork({ driver: name }); a name can be registered once. */
export function registerNetworkDriver(driver: NetworkDriver): void {
  if (!driver || typeof driver.name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(driver.name)) {
    throw argType('driver.name must be a lowercase name like "bridge"');
  }
  if (drivers.has(driver.name)) throw argType(`a network driver named ${JSON.stringify(driver.name)} is already registered`);
  drivers.set(driver.name, driver);
}

export function networkDriver(name: string): NetworkDriver | undefined {
  return drivers.get(name);
}

export function networkDriverNames(): string[] {
  return [...drivers.keys()];
}

/**
 * Reads driver options: each option may be given under netweave's name or
 * Docker's (`com.docker.network.bridge.name`); what is left unread is an
 * error naming it.
 */
export class OptionReader {
  private readonly used = new Set<string>();
  /** What goes into the network's tag. */
  readonly out: Record<string, string> = {};
  /** What only create needs (kept in the kernel some other way, e.g. overlay peers in the FDB). */
  readonly extra: Record<string, unknown> = {};

  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly driver: string,
  ) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw argType('options must be an object of driver options');
  }

  private take(names: readonly string[]): { name: string; value: unknown } | undefined {
    let found: { name: string; value: unknown } | undefined;
    for (const n of names) {
      if (!Object.prototype.hasOwnProperty.call(this.raw, n) || this.raw[n] === undefined) continue;
      this.used.add(n);
      if (found) throw argType(`options.${found.name} and options.${n} are the same option: give one`);
      found = { name: n, value: this.raw[n] };
    }
    return found;
  }

  string(names: readonly string[], check?: (v: string, arg: string) => string): string | undefined {
    const f = this.take(names);
    if (!f) return undefined;
    if (typeof f.value !== 'string' || f.value === '') throw argType(`options.${f.name} must be a non-empty string`);
    return check ? check(f.value, `options.${f.name}`) : f.value;
  }

  /** Booleans, or Docker's "true"/"false" strings. */
  bool(names: readonly string[]): boolean | undefined {
    const f = this.take(names);
    if (!f) return undefined;
    if (typeof f.value === 'boolean') return f.value;
    if (f.value === 'true' || f.value === 'false') return f.value === 'true';
    throw argType(`options.${f.name} must be a boolean (or "true"/"false")`);
  }

  /** Integers, or their decimal strings (Docker passes strings). */
  int(names: readonly string[], min: number, max: number): number | undefined {
    const f = this.take(names);
    if (!f) return undefined;
    const n = typeof f.value === 'string' && /^\d+$/.test(f.value) ? Number(f.value) : f.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw Object.assign(new RangeError(`options.${f.name} must be an integer in ${min}..${max}, got ${JSON.stringify(f.value)}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    return n;
  }

  list(names: readonly string[]): unknown[] | undefined {
    const f = this.take(names);
    if (!f) return undefined;
    if (typeof f.value === 'string') return f.value.split(',').filter(Boolean);
    if (!Array.isArray(f.value)) throw argType(`options.${f.name} must be an array (or a comma-separated string)`);
    return f.value;
  }

  /** Refuses options nobody read. */
  done(): CheckedOptions {
    for (const k of Object.keys(this.raw)) {
      if (!this.used.has(k) && this.raw[k] !== undefined) throw argType(`options.${k} is not an option of the ${this.driver} driver`);
    }
    return { stored: this.out, extra: this.extra };
  }
}
