// The firewall's state per namespace: what netweave's table holds (read from
// the kernel, which is the source of truth), the ruleset generation that
// reading belongs to, and a lock that orders this process's changes.
//
// A change is a read-modify-write: it is checked against the cached state
// and committed with expectGeneration set to the cached generation, so a
// commit from anyone else in between (another process, `nft`) makes the
// kernel refuse it (ERESTART); the state is then read again and the change
// re-checked. On a quiet namespace a change therefore costs one commit, not
// a read of the whole table: publishing the 10,001st port costs what the
// first did.
import { NetlinkError } from '../errors.js';
import { Namespace } from '../namespace.js';
import {
  getGeneration,
  listChains,
  listElements,
  listRules,
  listSets,
  listTables,
  transaction,
  type Chain,
  type NftSet,
  type Rule,
  type SetElement,
  type Transaction,
} from '../nft/index.js';
import { priorityNumber } from '../nft/family.js';
import {
  CHAINS,
  decodePostRule,
  FAMILY,
  fixedRules,
  fixedRulesIntact,
  ISOLATE_SET,
  PORT_MAPS,
  portMap,
  portMapSpec,
  postRuleExprs,
  postRuleKey,
  TABLE,
  TABLE_COMMENT,
  type IpFamily,
  type PortMap,
  type PostRule,
  type Protocol,
} from './layout.js';

/** A published port as netweave keeps it (one map element). */
export interface PortEntry {
  family: IpFamily;
  /** Only traffic to this host address; undefined: any local address. */
  hostIp?: string;
  hostPort: number;
  protocol: Protocol;
  to: { address: string; port: number };
  tag?: string;
}

/** A rule of the post chain netweave recognises, with its handle in the kernel. */
export interface PostEntry {
  rule: PostRule;
  comment?: string;
  /** 0 while only desired (not yet in the kernel with a known handle). */
  handle: number;
}

export interface Desired {
  post: Map<string, PostEntry>;
  /** By portKey; change through putPort / dropPort, which keep portIndex. */
  ports: Map<string, PortEntry>;
  /** Ports by "family|protocol|hostPort", for clash checks without a scan. */
  portIndex: Map<number, PortEntry[]>;
  /** Interface pairs [iif, oif] in the isolate set, keyed "iif oif". */
  isolate: Map<string, [string, string]>;
}

export const emptyDesired = (): Desired => ({ post: new Map(), ports: new Map(), portIndex: new Map(), isolate: new Map() });

/** A copy to change without touching the original (the entries themselves are shared). */
export function cloneDesired(d: Desired): Desired {
  const portIndex = new Map<number, PortEntry[]>();
  for (const [k, l] of d.portIndex) portIndex.set(k, [...l]);
  return { post: new Map(d.post), ports: new Map(d.ports), portIndex, isolate: new Map(d.isolate) };
}

/** (family, protocol, port) as one number: no string built per lookup (publishing 10,000 ports makes 20,000). */
const indexKey = (p: { family: IpFamily; protocol: Protocol; hostPort: number }) => (p.family === 6 ? 0x20000 : 0) + (p.protocol === 'udp' ? 0x10000 : 0) + p.hostPort;

export function putPort(d: Desired, e: PortEntry): void {
  const k = portKey(e);
  const old = d.ports.get(k);
  if (old) dropPort(d, old);
  d.ports.set(k, e);
  indexPort(d.portIndex, e);
}

/** Files a port under (family, protocol, port): what clash checks look up. */
export function indexPort(index: Map<number, PortEntry[]>, e: PortEntry): void {
  const ik = indexKey(e);
  const l = index.get(ik);
  if (l) l.push(e);
  else index.set(ik, [e]);
}

export function dropPort(d: Desired, e: PortEntry): void {
  const k = portKey(e);
  const have = d.ports.get(k);
  if (!have) return;
  d.ports.delete(k);
  const ik = indexKey(have);
  const l = d.portIndex.get(ik)?.filter((x) => x !== have);
  if (l?.length) d.portIndex.set(ik, l);
  else d.portIndex.delete(ik);
}

/** A published port that a new one would clash with: an any-address port clashes with every address's, and the reverse. */
export function clashWith(d: Desired, p: { family: IpFamily; protocol: Protocol; hostPort: number; hostIp?: string }): PortEntry | undefined {
  return clashIn(d.portIndex, p);
}

/** clashWith on a bare index (see indexPort). */
export function clashIn(index: Map<number, PortEntry[]>, p: { family: IpFamily; protocol: Protocol; hostPort: number; hostIp?: string }): PortEntry | undefined {
  return index.get(indexKey(p))?.find((e) => p.hostIp === undefined || e.hostIp === undefined || e.hostIp === p.hostIp);
}

export const isEmpty = (d: Desired) => d.post.size === 0 && d.ports.size === 0 && d.isolate.size === 0;

export function portKey(p: { family: IpFamily; hostIp?: string; protocol: Protocol; hostPort: number }): string {
  return `${p.family}|${p.hostIp ?? '*'}|${p.protocol}|${p.hostPort}`;
}

export interface Snapshot {
  generation: number;
  exists: boolean;
  /** Chains, sets and fixed rules are all as netweave made them. */
  intact: boolean;
  desired: Desired;
  /** Rules in netweave's post chain that are not netweave's (dropped by the next rebuild). */
  foreignRules: number;
}

// ---- reading the kernel ----

const CHAIN_PRIORITY = new Map(CHAINS.map((c) => [c.name, priorityNumber(FAMILY, c.priority)]));

function chainsIntact(chains: readonly Chain[]): boolean {
  return CHAINS.every((want) => {
    const c = chains.find((x) => x.name === want.name);
    return c !== undefined && c.type === want.type && c.hook === want.hook && c.priority === CHAIN_PRIORITY.get(want.name) && c.policy === 'accept';
  });
}

const sameType = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function setsIntact(sets: readonly NftSet[]): boolean {
  const want = [...PORT_MAPS.map(portMapSpec), ISOLATE_SET];
  return want.every((w) => {
    const s = sets.find((x) => x.name === w.name);
    return s !== undefined && sameType(s.key, w.key) && sameType(s.data, w.data);
  });
}

function portsFrom(m: PortMap, elements: readonly SetElement[], into: Desired): void {
  for (const e of elements) {
    const key = e.key as unknown[];
    const data = e.data as unknown[];
    if (!Array.isArray(key) || !Array.isArray(data)) continue;
    const [hostIp, protocol, hostPort] = m.byAddress ? key : [undefined, ...key];
    if (protocol !== 'tcp' && protocol !== 'udp') continue;
    const p: PortEntry = { family: m.family, hostPort: hostPort as number, protocol, to: { address: data[0] as string, port: data[1] as number } };
    if (hostIp !== undefined) p.hostIp = hostIp as string;
    if (e.comment !== undefined) p.tag = e.comment;
    putPort(into, p);
  }
}

/** Decodes the post chain's rules into netweave's entries; counts the others. */
export function postFrom(rules: readonly Rule[], into: Map<string, PostEntry>): number {
  let foreign = 0;
  for (const r of rules) {
    if (r.chain !== 'post') continue;
    const d = decodePostRule(r.exprs);
    if (!d || into.has(postRuleKey(d))) {
      foreign++;
      continue;
    }
    into.set(postRuleKey(d), { rule: d, handle: r.handle, ...(r.comment !== undefined ? { comment: r.comment } : {}) });
  }
  return foreign;
}

const ATTEMPTS = 8;

/** netweave's table as the kernel holds it, all from one generation. */
export async function readKernel(ns: Namespace, operation: string): Promise<Snapshot> {
  const o = { ns };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const generation = await getGeneration(o);
    try {
      const exists = (await listTables({ ns, family: FAMILY })).some((t) => t.name === TABLE);
      if (!exists) {
        if ((await getGeneration(o)) === generation) return { generation, exists, intact: false, desired: emptyDesired(), foreignRules: 0 };
        continue;
      }
      const q = { ns, family: FAMILY, table: TABLE };
      const [chains, rules, sets] = await Promise.all([listChains(q), listRules(q), listSets(q)]);
      const desired = emptyDesired();
      const reads: Promise<void>[] = [];
      for (const m of PORT_MAPS) {
        const s = sets.find((x) => x.name === m.name);
        if (s && sameType(s.key, portMapSpec(m).key) && sameType(s.data, portMapSpec(m).data)) {
          reads.push(listElements(s, o).then((els) => portsFrom(m, els, desired)));
        }
      }
      const iso = sets.find((x) => x.name === ISOLATE_SET.name);
      if (iso && sameType(iso.key, ISOLATE_SET.key) && iso.data === undefined) {
        reads.push(
          listElements(iso, o).then((els) => {
            for (const e of els) {
              const [a, b] = e.key as [string, string];
              desired.isolate.set(`${a} ${b}`, [a, b]);
            }
          }),
        );
      }
      await Promise.all(reads);
      const foreignRules = postFrom(rules, desired.post);
      if ((await getGeneration(o)) !== generation) continue;
      const intact = chainsIntact(chains) && setsIntact(sets) && fixedRulesIntact(rules);
      return { generation, exists, intact, desired, foreignRules };
    } catch (err) {
      // Something of the table went away between two reads: read again.
      if (!(err instanceof NetlinkError && err.code === 'ENOENT')) throw err;
    }
  }
  throw new NetlinkError(11 /* EAGAIN */, operation, { subject: `${FAMILY} ${TABLE}`, kernelMessage: `the ruleset changed during each of ${ATTEMPTS} reads` });
}

// ---- writing ----

/** Adds a post rule to a transaction. */
export function addPostRule(tx: Transaction, e: PostEntry): void {
  tx.addRule({ family: FAMILY, table: TABLE, chain: 'post', exprs: postRuleExprs(e.rule), ...(e.comment !== undefined ? { comment: e.comment } : {}) });
}

export function portElement(p: PortEntry): SetElement {
  const key = p.hostIp !== undefined ? [p.hostIp, p.protocol, p.hostPort] : [p.protocol, p.hostPort];
  return { key, data: [p.to.address, p.to.port], ...(p.tag !== undefined ? { comment: p.tag } : {}) };
}

export const mapOf = (p: PortEntry) => portMap(p.family, p.hostIp !== undefined);

/** Groups port entries by the map they go to, in map order. */
export function byMap(ports: Iterable<PortEntry>): [PortMap, PortEntry[]][] {
  const groups = new Map<PortMap, PortEntry[]>();
  for (const p of ports) {
    const m = mapOf(p);
    let g = groups.get(m);
    if (!g) groups.set(m, (g = []));
    g.push(p);
  }
  return PORT_MAPS.filter((m) => groups.has(m)).map((m) => [m, groups.get(m)!]);
}

/**
 * One transaction that replaces whatever netweave's table holds with the
 * desired state: destroy the table (if any), then build it again. Atomic, so
 * packets never see a half-built table; idempotent, so it also repairs.
 * Returns the post entries in the order their rules are added.
 */
export function rebuild(d: Desired): { tx: Transaction; post: PostEntry[] } {
  const tx = transaction().deleteTable({ family: FAMILY, name: TABLE }, { ifExists: true }).addTable({ family: FAMILY, name: TABLE, comment: TABLE_COMMENT });
  for (const c of CHAINS) tx.addChain(c);
  for (const m of PORT_MAPS) tx.addSet(portMapSpec(m));
  tx.addSet(ISOLATE_SET);
  for (const [m, ports] of byMap(d.ports.values())) tx.addElements(portMapSpec(m), ports.map(portElement));
  if (d.isolate.size) tx.addElements(ISOLATE_SET, [...d.isolate.values()].map((key) => ({ key })));
  for (const r of fixedRules()) tx.addRule({ family: FAMILY, table: TABLE, chain: r.chain, exprs: r.exprs });
  const post = [...d.post.values()];
  for (const e of post) addPostRule(tx, e);
  return { tx, post };
}

// ---- per-namespace state ----

export class NsState {
  /** Generation the desired state was read at or produced by this process; undefined: read first. */
  generation?: number;
  intact = false;
  /** The desired state came from the kernel (or was built here), not assumed empty. */
  loaded = false;
  desired: Desired = emptyDesired();
  /** route_localnet written since the state was loaded. */
  localnet = false;
  /** Live watchers: with one, a damaged table is restored, not adopted. */
  watchers = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** Locked calls not yet settled. */
  private held = 0;

  /**
   * Runs fn after every earlier locked call of this namespace has finished:
   * at once when none is left (no turn of the microtask queue), else after
   * the last one queued.
   */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    let run: Promise<T>;
    if (this.held++ === 0) {
      // A call made while fn's synchronous part runs waits for it too.
      let open!: () => void;
      this.tail = new Promise<void>((r) => (open = r));
      try {
        run = fn();
      } catch (err) {
        run = Promise.reject(err);
      }
      run.then(open, open);
    } else run = this.tail.then(fn, fn);
    const settled = () => {
      this.held--;
    };
    this.tail = run.then(settled, settled);
    return run;
  }

  adopt(s: Snapshot): void {
    this.generation = s.generation;
    this.intact = s.intact;
    this.desired = s.desired;
    this.loaded = true;
  }
}

// Keyed by the namespace's identity, so every Namespace object opened on one
// namespace shares the state. An identity is only trusted while the object
// that first asked is open: it keeps the namespace alive, so its inode cannot
// be reused by a new namespace meanwhile.
const states = new Map<string, { holder: WeakRef<Namespace>; state: NsState }>();

/** The state of a namespace, shared by every Namespace object that opens it. */
export function stateOf(ns: Namespace): NsState {
  const [dev, ino] = ns.identity();
  const key = `${dev}:${ino}`;
  const e = states.get(key);
  const holder = e?.holder.deref();
  if (e && holder && holder.fd >= 0) return e.state;
  const state = new NsState();
  states.set(key, { holder: new WeakRef(ns), state });
  return state;
}

/** Forgets every cached state (as a new process would start). */
export function resetStates(): void {
  states.clear();
}
