// Docker's `-p` / `--publish` port specs:
//   [hostIp:][hostPort:]containerPort[/protocol]
// hostIp may be bracketed ("[::1]"); hostPort and containerPort may be
// ranges ("8000-8010"). Parsed the way dockerd's go-connections does: the
// last ':'-separated field is the container port, the one before it the
// host port, the rest the host address.
import { canonicalIp } from './ipam.js';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  /** Host address to bind; absent means all addresses. */
  hostIp?: string;
  /** Host port; absent means "any free port" (`-p 80`, `-p 127.0.0.1::80`). */
  hostPort?: number;
  /** Set with hostPort when the spec names a host range for one container port (`-p 8000-8010:80`): any free port in hostPort..hostPortEnd. */
  hostPortEnd?: number;
  containerPort: number;
  protocol: PortProtocol;
}

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

function parsePort(text: string, what: string, spec: string, arg: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new TypeError(`${arg} ${JSON.stringify(spec)}: ${what} ${JSON.stringify(text)} is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new RangeError(`${arg} ${JSON.stringify(spec)}: ${what} ${n} is outside 1..65535`);
  return n;
}

function parseRange(text: string, what: string, spec: string, arg: string): [number, number] {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const p = parsePort(text, what, spec, arg);
    return [p, p];
  }
  const lo = parsePort(text.slice(0, dash), what, spec, arg);
  const hi = parsePort(text.slice(dash + 1), what, spec, arg);
  if (hi < lo) throw new RangeError(`${arg} ${JSON.stringify(spec)}: ${what} range ${text} ends before it starts`);
  return [lo, hi];
}

/**
 * Parses one `-p` spec into one mapping per container port:
 * "80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80", "[::1]:8080:80",
 * "8000-8010:80-90/udp", "8000-8010:80" (any host port of the range).
 * A host range and a container range must have the same length.
 */
export function parsePortSpec(spec: string, arg = 'spec'): PortMapping[] {
  if (typeof spec !== 'string') throw new TypeError(`${arg} must be a port spec string like "8080:80/tcp", got ${typeof spec}`);
  if (spec === '' || /\s/.test(spec)) throw new TypeError(`${arg} ${JSON.stringify(spec)} must be a non-empty port spec without whitespace`);

  let rest = spec;
  let protocol: PortProtocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (!PROTOCOLS.includes(p as PortProtocol)) {
      throw new TypeError(`${arg} ${JSON.stringify(spec)}: protocol ${JSON.stringify(rest.slice(slash + 1))} must be one of ${PROTOCOLS.join(', ')}`);
    }
    protocol = p as PortProtocol;
    rest = rest.slice(0, slash);
  }

  const parts = rest.split(':');
  const containerText = parts[parts.length - 1];
  const hostPortText = parts.length >= 2 ? parts[parts.length - 2] : '';
  let ipText = parts.length >= 3 ? parts.slice(0, parts.length - 2).join(':') : '';
  if (containerText === '') throw new TypeError(`${arg} ${JSON.stringify(spec)} has no container port`);

  let hostIp: string | undefined;
  if (parts.length >= 3) {
    if (ipText.startsWith('[') && ipText.endsWith(']')) ipText = ipText.slice(1, -1);
    if (ipText === '') throw new TypeError(`${arg} ${JSON.stringify(spec)}: empty host address`);
    try {
      hostIp = canonicalIp(ipText, 'host address');
    } catch {
      throw new TypeError(`${arg} ${JSON.stringify(spec)}: ${JSON.stringify(ipText)} is not an IP address`);
    }
  }

  const [cLo, cHi] = parseRange(containerText, 'container port', spec, arg);
  const out: PortMapping[] = [];
  const base = (): Pick<PortMapping, 'hostIp'> => (hostIp !== undefined ? { hostIp } : {});
  if (hostPortText === '') {
    for (let p = cLo; p <= cHi; p++) out.push({ ...base(), containerPort: p, protocol });
    return out;
  }
  const [hLo, hHi] = parseRange(hostPortText, 'host port', spec, arg);
  if (cLo === cHi && hLo !== hHi) {
    return [{ ...base(), hostPort: hLo, hostPortEnd: hHi, containerPort: cLo, protocol }];
  }
  if (hHi - hLo !== cHi - cLo) {
    throw new RangeError(`${arg} ${JSON.stringify(spec)}: host range ${hostPortText} and container range ${containerText} differ in length`);
  }
  for (let i = 0; i <= cHi - cLo; i++) out.push({ ...base(), hostPort: hLo + i, containerPort: cLo + i, protocol });
  return out;
}

/** Parses several `-p` specs; errors name the index ("specs[2]"). */
export function parsePortSpecs(specs: readonly string[]): PortMapping[] {
  if (!Array.isArray(specs)) throw new TypeError('specs must be an array of port spec strings');
  return specs.flatMap((s, i) => parsePortSpec(s, `specs[${i}]`));
}

/** The `-p` text of one mapping ("127.0.0.1:8080:80/tcp", "[::1]::53/udp"). */
export function formatPortMapping(m: PortMapping): string {
  const host = m.hostPort === undefined ? '' : m.hostPortEnd !== undefined ? `${m.hostPort}-${m.hostPortEnd}` : String(m.hostPort);
  const ip = m.hostIp === undefined ? '' : m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp;
  const prefix = ip !== '' ? `${ip}:${host}:` : host !== '' ? `${host}:` : '';
  return `${prefix}${m.containerPort}/${m.protocol}`;
}
