// Reading netweave's networks back from the kernel: one link dump of the
// host namespace sorted by tag and interface group (see tags.ts), the
// firewall's entries with their tags, and — for drivers whose endpoints live
// only inside containers (macvlan, ipvlan) — the links of the other
// namespaces this machine has (/run/netns and /proc/<pid>/ns/net).
import { readdir, stat } from 'node:fs/promises';
import { listAddresses, type Address } from '../address.js';
import { listIsolations, listMasquerades, listPublishedPorts, type Isolation, type Masquerade, type PublishedPort } from '../firewall/index.js';
import { listLinks, type Link } from '../link.js';
import { Namespace, NETNS_RUN_DIR } from '../namespace.js';
import { addressesByNsid } from './kernel.js';
import { decodeTag, slotOfGroup, type AuxTag, type EndpointTag, type NetworkTag } from './tags.js';

export interface Tagged<T> {
  tag: T;
  link: Link;
}

export interface Stray {
  link: Link;
  /** Why it belongs to nothing: shown by inspect, acted on by prune. */
  reason: string;
  /** The namespace it lives in when not the host's. */
  ns?: Namespace;
  /**
   * A veth end in an endpoints group without a tag is a connect cut short
   * before its commit: the IPv4 addresses its peer holds (read through the
   * peer's namespace id), which the network's pool keeps until prune.
   */
  peerAddresses?: string[];
}

export interface Snapshot {
  ns: Namespace;
  links: Link[];
  byIndex: Map<number, Link>;
  byName: Map<string, Link>;
  /** Networks by id: their tagged link (bridge / anchor). */
  networks: Map<string, Tagged<NetworkTag>>;
  /** Auxiliary links (vxlan) by network id. */
  aux: Map<string, Tagged<AuxTag>[]>;
  /** Endpoint links in the host namespace (complete 'e' and pending 'p'), by network id. */
  endpoints: Map<string, Tagged<EndpointTag>[]>;
  /** Endpoint links found inside other namespaces (stacked drivers), by network id. */
  foreign: Map<string, (Tagged<EndpointTag> & { ns: Namespace })[]>;
  /** netweave's links that no complete network or endpoint accounts for. */
  strays: Stray[];
  /** The manager's clock when the scan began: what was made after it may be missing, or half-made, here. */
  since: number;
  /** The host namespace's IPv4 addresses (subnet choice, gateway checks). */
  addresses: Address[];
  ports: PublishedPort[];
  masquerades: Masquerade[];
  isolations: Isolation[];
}

export interface ScanOptions {
  /** Read the firewall's entries too (default true). */
  firewall?: boolean;
  operation: string;
  /** The manager's clock now (Snapshot.since). */
  since?: number;
}

/** Reads the host namespace: links (one dump), IPv4 addresses (one dump), and the firewall's entries. */
export async function scan(ns: Namespace, opts: ScanOptions): Promise<Snapshot> {
  const withFw = opts.firewall !== false;
  const [links, addresses, ports, masquerades, isolations] = await Promise.all([
    listLinks({ ns }),
    listAddresses({ ns, family: 'inet' }),
    withFw ? listPublishedPorts({ ns }) : Promise.resolve([] as PublishedPort[]),
    withFw ? listMasquerades({ ns }) : Promise.resolve([] as Masquerade[]),
    withFw ? listIsolations({ ns }) : Promise.resolve([] as Isolation[]),
  ]);
  const snap: Snapshot = {
    ns,
    links,
    byIndex: new Map(links.map((l) => [l.index, l])),
    byName: new Map(links.map((l) => [l.name, l])),
    networks: new Map(),
    aux: new Map(),
    endpoints: new Map(),
    foreign: new Map(),
    strays: [],
    since: opts.since ?? 0,
    addresses,
    ports,
    masquerades,
    isolations,
  };
  const untagged: Link[] = [];
  for (const link of links) {
    const tag = decodeTag(link.alias);
    if (!tag) {
      if (slotOfGroup(link.group)) untagged.push(link);
      continue;
    }
    if (tag.kind === 'n') {
      if (snap.networks.has(tag.id)) snap.strays.push({ link, reason: `a second link tagged as network ${tag.id}` });
      else snap.networks.set(tag.id, { tag, link });
    } else if (tag.kind === 'x') push(snap.aux, tag.network, { tag, link });
    else push(snap.endpoints, tag.network, { tag, link });
  }
  for (const link of untagged) snap.strays.push({ link, reason: 'in a netweave interface group without a tag (a create or connect that did not finish)' });
  await Promise.all(
    snap.strays.map(async (s) => {
      if (s.link.linkNetnsId === undefined || s.link.alias !== undefined || slotOfGroup(s.link.group)?.role !== 'endpoints') return;
      const held = await addressesByNsid(ns, s.link.linkNetnsId, opts.operation).catch(() => []);
      s.peerAddresses = held.filter((a) => a.ifindex === s.link.link).map((a) => a.address);
    }),
  );
  for (const [id, list] of snap.aux) {
    if (!snap.networks.has(id)) for (const t of list) snap.strays.push({ link: t.link, reason: `belongs to network ${id}, which does not exist` });
  }
  for (const [id, list] of snap.endpoints) {
    if (!snap.networks.has(id)) for (const t of list) snap.strays.push({ link: t.link, reason: `endpoint of network ${id}, which does not exist` });
  }
  return snap;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** A namespace this machine has, found by name or by a process in it. */
interface Candidate {
  key: string;
  name?: string;
  pid?: number;
}

/** Every network namespace visible from here except `skip`: /run/netns names first, then one process per other namespace. */
async function candidates(skip: Namespace): Promise<Candidate[]> {
  const seen = new Set<string>([skip.identity().join(':')]);
  const out: Candidate[] = [];
  const add = async (path: string, c: Omit<Candidate, 'key'>) => {
    try {
      const st = await stat(path);
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ key, ...c });
    } catch {
      // gone meanwhile, or not ours to read
    }
  };
  let names: string[] = [];
  try {
    names = (await readdir(NETNS_RUN_DIR)).sort();
  } catch {
    // no named namespaces
  }
  for (const name of names) await add(`${NETNS_RUN_DIR}/${name}`, { name });
  let pids: string[] = [];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    // no /proc
  }
  // Many processes: stat them in parallel (libuv's pool), keep the order for the first-seen rule.
  const stats = await Promise.all(pids.map((p) => stat(`/proc/${p}/ns/net`).then((st) => `${st.dev}:${st.ino}`, () => undefined)));
  for (const [i, key] of stats.entries()) {
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    out.push({ key, pid: Number(pids[i]) });
  }
  return out;
}

/**
 * Finds links tagged for the given networks inside other namespaces. Each
 * namespace holding one stays open (its handle is returned with the link);
 * the others are closed again.
 */
export async function scanForeign(snap: Snapshot, networkIds: Set<string>): Promise<void> {
  if (networkIds.size === 0) return;
  const all = await candidates(snap.ns);
  const look = async (c: Candidate): Promise<void> => {
    let ns: Namespace;
    try {
      ns = c.name !== undefined ? Namespace.open(c.name) : Namespace.open({ pid: c.pid! });
    } catch {
      return;
    }
    let keep = false;
    try {
      const links = await listLinks({ ns });
      for (const link of links) {
        const tag = decodeTag(link.alias);
        if (!tag || (tag.kind !== 'e' && tag.kind !== 'p') || !networkIds.has(tag.network)) continue;
        push(snap.foreign, tag.network, { tag, link, ns });
        keep = true;
      }
    } catch {
      // the namespace went away while we looked (or is not one: a half-made /run/netns file)
    } finally {
      if (!keep) ns.close();
    }
  };
  // A few at a time: each costs a socket opened inside the namespace and one dump.
  for (let i = 0; i < all.length; i += 16) await Promise.all(all.slice(i, i + 16).map(look));
}
