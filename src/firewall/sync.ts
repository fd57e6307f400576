// Changes, re-reads and restores of netweave's table, each under the
// namespace's lock. See state.ts for the read-modify-write scheme.
import { NetlinkError } from '../errors.js';
import type { Namespace } from '../namespace.js';
import { getGeneration, transaction, type CommitResult, type Rule, type Transaction } from '../nft/index.js';
import type { ChainTask } from '../engine.js';
import { asOperation, FirewallError } from './errors.js';
import { FAMILY, TABLE } from './layout.js';
import { addPostRule, cloneDesired, emptyDesired, isEmpty, readKernel, rebuild, stateOf, type Desired, type NsState, type PostEntry, type Snapshot } from './state.js';

const ATTEMPTS = 8;
const isRestart = (err: unknown) => err instanceof NetlinkError && err.code === 'ERESTART';

export interface Reapplied {
  /** The ruleset generation the restoring transaction produced. */
  generation?: number;
  /** What was found: the table gone, or there but with chains, maps or fixed rules missing or changed. */
  reason: 'deleted' | 'damaged';
  ports: number;
  masquerades: number;
  isolations: number;
}

/**
 * The generation a commit accepted at generation g produced: nf_tables
 * counts each commit once (nf_tables_commit: `while (++base_seq == 0);`).
 * Were it ever otherwise, the next commit would meet ERESTART and read the
 * kernel again: a slower path, never a wrong one.
 */
export function generationAfter(g: number): number {
  const n = (g + 1) >>> 0;
  return n === 0 ? 1 : n;
}

/** Listeners of restores, per state (watchers register here). */
export const restoreListeners = new WeakMap<NsState, Set<(r: Reapplied) => void>>();

/** Records the handles the kernel gave the post rules a commit added. */
function takeHandles(r: CommitResult, added: [number, PostEntry][]): void {
  for (const [index, e] of added) {
    const rule = r.results[index] as Rule | undefined;
    if (rule?.handle) e.handle = rule.handle;
  }
}

/** Adds post rules to a transaction, remembering which operation added which. */
export function postAdder(tx: Transaction, added: [number, PostEntry][]): (e: PostEntry) => void {
  return (e) => {
    added.push([tx.size, e]);
    addPostRule(tx, e);
  };
}

/** Commits a full rebuild of `d`; the state then holds d at the new generation. */
async function commitRebuild(st: NsState, ns: Namespace, d: Desired, expectGeneration: number | undefined, before?: ChainTask[]): Promise<number | undefined> {
  const { tx, post } = rebuild(d);
  const base = tx.size - post.length;
  const echo = post.length > 0 || expectGeneration === undefined;
  const r = await tx.commit({ ns, echo, expectGeneration, before });
  takeHandles(
    r,
    post.map((e, i) => [base + i, e]),
  );
  st.desired = d;
  st.generation = echo ? r.generation : generationAfter(expectGeneration!);
  st.intact = true;
  st.loaded = true;
  return r.generation;
}

/**
 * Brings the state up to date with the kernel. With a watcher running and a
 * damaged or deleted table, the last known desired state is restored (one
 * transaction) instead of adopting what is left.
 */
export async function sync(st: NsState, ns: Namespace, operation: string): Promise<'adopted' | 'restored'> {
  for (let attempt = 0; ; attempt++) {
    const snap: Snapshot = await readKernel(ns, operation);
    if (snap.intact || st.watchers === 0 || !st.loaded || isEmpty(st.desired)) {
      st.adopt(snap);
      return 'adopted';
    }
    const d = cloneDesired(st.desired);
    // Entries keep their content; their handles are new.
    for (const [k, e] of d.post) d.post.set(k, { ...e, handle: 0 });
    try {
      const generation = await commitRebuild(st, ns, d, snap.generation);
      const info: Reapplied = {
        generation,
        reason: snap.exists ? 'damaged' : 'deleted',
        ports: d.ports.size,
        masquerades: [...d.post.values()].filter((e) => e.rule.kind === 'masq').length,
        isolations: d.isolate.size,
      };
      for (const l of restoreListeners.get(st) ?? []) l(info);
      return 'restored';
    } catch (err) {
      if (isRestart(err) && attempt < ATTEMPTS) continue;
      throw err;
    }
  }
}

/** What a change wants: the state after it, and how to get there from an intact table. */
export interface Plan<T> {
  result: T;
  /** Applies the change to a desired state (after the commit, or to the copy a rebuild commits). Undefined: nothing to change. */
  change?(d: Desired): void;
  /** Adds the change's operations to tx (when the table is intact); calls addPost for each post rule it adds. */
  incremental?(tx: Transaction, addPost: (e: PostEntry) => void): void;
  /** Runs after a successful commit, still under the lock. */
  after?(): Promise<void>;
  /**
   * Checks the engine runs just before the commit, in the same pass (bind
   * probes: "only if the port is free"), made afresh for each attempt. One
   * that fails refuses the change with its error (see ChainTask.fail);
   * nothing was sent.
   */
  before?(): ChainTask[];
}

/**
 * Runs a change under the namespace's lock: plan it against the current
 * state, commit it expecting the state's generation, and on ERESTART (someone
 * else committed meanwhile) read the kernel again and plan again.
 */
export function change<T>(ns: Namespace, operation: string, plan: (st: NsState) => Promise<Plan<T>> | Plan<T>): Promise<T> {
  const st = stateOf(ns);
  return st.locked(async () => {
    try {
      for (let attempt = 0; ; attempt++) {
        let fresh = false;
        if (st.generation === undefined) {
          await sync(st, ns, operation);
          fresh = true;
        }
        // A refusal or a no-op decided on a cached state stands only if the
        // kernel is still at that state's generation (a commit is checked by
        // expectGeneration instead).
        const stale = async () => !fresh && attempt < ATTEMPTS && (await getGeneration({ ns })) !== st.generation;
        let p: Plan<T>;
        try {
          p = await plan(st);
        } catch (err) {
          if (await stale()) {
            st.generation = undefined;
            continue;
          }
          throw err;
        }
        if (!p.change) {
          if (await stale()) {
            st.generation = undefined;
            continue;
          }
          return p.result;
        }
        try {
          if (st.intact && p.incremental) {
            const tx = transaction();
            const added: [number, PostEntry][] = [];
            p.incremental(tx, postAdder(tx, added));
            if (tx.size > 0) {
              // Echo only for the handles of added rules: an accepted commit at an expected generation produces the next one.
              const echo = added.length > 0;
              const r = await tx.commit({ ns, echo, expectGeneration: st.generation, before: p.before?.() });
              takeHandles(r, added);
              st.generation = echo ? r.generation : generationAfter(st.generation!);
            }
            p.change(st.desired);
          } else {
            const next = cloneDesired(st.desired);
            p.change(next);
            await commitRebuild(st, ns, next, st.generation, p.before?.());
          }
        } catch (err) {
          // A check of `before` refused: the commit was not sent, the state stands.
          if (err instanceof FirewallError) throw err;
          if (isRestart(err) && attempt < ATTEMPTS) {
            st.generation = undefined;
            continue;
          }
          // The kernel refused the change: whatever the cache believed, read it again next time.
          st.generation = undefined;
          throw err;
        }
        await p.after?.();
        return p.result;
      }
    } catch (err) {
      throw asOperation(err, operation);
    }
  });
}

/** Deletes netweave's table; the state is then empty. */
export function removeTable(ns: Namespace, operation: string): Promise<void> {
  const st = stateOf(ns);
  return st.locked(async () => {
    try {
      const r = await transaction().deleteTable({ family: FAMILY, name: TABLE }, { ifExists: true }).commit({ ns, echo: true });
      st.desired = emptyDesired();
      st.generation = r.generation;
      st.intact = false;
      st.loaded = true;
    } catch (err) {
      st.generation = undefined;
      throw asOperation(err, operation);
    }
  });
}
