// nf_tables change events (NFNLGRP_NFTABLES) from the real kernel: changes
// made by `nft` and by this library, `nft flush ruleset`, and the generation
// that closes each transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Namespace } from '../src/namespace.js';
import { accept, addTable, getGeneration, tcp, transaction, typedElements, watchNftables, type NftEvent, type NftWatcher } from '../src/nft/index.js';
import { NsScope } from './helpers.js';
import { nft, nftScript } from './nft-oracle.js';

const scope = new NsScope();
let ns: Namespace;
let watcher: NftWatcher;
const events: NftEvent[] = [];
let waiters: (() => void)[] = [];

beforeAll(async () => {
  ns = await scope.create('nfv');
  watcher = await watchNftables({
    ns,
    onEvent(e) {
      events.push(e);
      for (const w of waiters) w();
    },
  });
});

afterAll(async () => {
  watcher?.close();
  await scope.cleanup();
});

/** Resolves with the events up to and including the next generation event, and forgets them. */
function nextTransaction(): Promise<NftEvent[]> {
  return new Promise((resolve) => {
    const check = () => {
      const i = events.findIndex((e) => e.type === 'generation');
      if (i < 0) return;
      waiters = waiters.filter((w) => w !== check);
      resolve(events.splice(0, i + 1));
    };
    waiters.push(check);
    check();
  });
}

/** A compact view: "add table inet T", "delete rule inet T c", "generation". */
function summary(list: NftEvent[]): string[] {
  return list.map((e) => {
    switch (e.type) {
      case 'table':
        return `${e.op} table ${e.table.family} ${e.table.name}`;
      case 'chain':
        return `${e.op} chain ${e.chain.family} ${e.chain.table} ${e.chain.name}`;
      case 'rule':
        return `${e.op} rule ${e.rule.family} ${e.rule.table} ${e.rule.chain}`;
      case 'set':
        return `${e.op} set ${e.set.family} ${e.set.table} ${e.set.name}`;
      case 'elements':
        return `${e.op} ${e.elements.elements.length} elements ${e.elements.family} ${e.elements.table} ${e.elements.set}`;
      case 'generation':
        return 'generation';
      default:
        return `other ${e.msg}`;
    }
  });
}

describe('events', () => {
  it('reports what nft -f adds, decoded, then the new generation', async () => {
    const gen = await getGeneration({ ns });
    const next = nextTransaction();
    nftScript(
      ns,
      `table inet T {
        set s { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 }; }
        chain c { type filter hook input priority 0; policy accept;
          tcp dport 22 accept comment "ssh"
        }
      }
      `,
    );
    const got = await next;
    // In nft's batch order; the kernel reports set elements one message each.
    expect(summary(got)).toEqual([
      'add table inet T',
      'add chain inet T c',
      'add set inet T s',
      'add 1 elements inet T s',
      'add 1 elements inet T s',
      'add rule inet T c',
      'generation',
    ]);
    const rule = got.find((e) => e.type === 'rule') as Extract<NftEvent, { type: 'rule' }>;
    expect(rule.rule.comment).toBe('ssh');
    expect(rule.rule.handle).toBeGreaterThan(0);
    expect(rule.rule.exprs.map((e) => e.type)).toEqual(['meta', 'cmp', 'payload', 'cmp', 'immediate']);
    const chain = got.find((e) => e.type === 'chain') as Extract<NftEvent, { type: 'chain' }>;
    expect(chain.chain).toMatchObject({ hook: 'input', priority: 0, policy: 'accept', type: 'filter' });
    const raw = got.flatMap((e) => (e.type === 'elements' ? e.elements.elements : []));
    const set = (got.find((e) => e.type === 'set') as Extract<NftEvent, { type: 'set' }>).set;
    expect(typedElements(set, raw).map((e) => e.key).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    const g = got.at(-1) as Extract<NftEvent, { type: 'generation' }>;
    expect(g.id).toBe(gen + 1);
    expect(g.process).toBe('nft');
    expect(g.pid).toBeGreaterThan(0);
  });

  it('reports this library’s own commits', async () => {
    const next = nextTransaction();
    await transaction()
      .addChain({ family: 'inet', table: 'T', name: 'd' })
      .addRule({ family: 'inet', table: 'T', chain: 'd', exprs: [tcp.dport.eq(80), accept()] })
      .commit({ ns });
    const got = await next;
    expect(summary(got)).toEqual(['add chain inet T d', 'add rule inet T d', 'generation']);
    // The committing task is the engine's I/O thread: its thread id and name.
    const g = got.at(-1) as Extract<NftEvent, { type: 'generation' }>;
    expect(g.pid).toBeGreaterThan(0);
    expect(typeof g.process).toBe('string');
  });

  it('nft flush ruleset arrives as deletions of everything, then a generation', async () => {
    await addTable({ family: 'ip', name: 'U' }, { ns });
    await nextTransaction();
    const next = nextTransaction();
    nft(ns, 'flush', 'ruleset');
    const got = summary(await next);
    expect(got.at(-1)).toBe('generation');
    expect(got).toEqual(expect.arrayContaining(['delete table inet T', 'delete table ip U', 'delete chain inet T c', 'delete chain inet T d', 'delete set inet T s']));
    expect(got.filter((s) => s.startsWith('delete rule'))).toHaveLength(2);
    expect(got.every((s) => s === 'generation' || s.startsWith('delete '))).toBe(true);
  });

  it('a failed transaction reports nothing', async () => {
    const bad = transaction().addTable({ family: 'ip', name: 'V' }).addChain({ family: 'ip', table: 'missing', name: 'x' });
    await expect(bad.commit({ ns })).rejects.toMatchObject({ code: 'ENOENT' });
    // The next successful change is the first thing seen.
    const next = nextTransaction();
    await addTable({ family: 'ip', name: 'W' }, { ns });
    expect(summary(await next)).toEqual(['add table ip W', 'generation']);
  });
});
