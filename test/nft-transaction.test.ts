// Transactions against the real kernel: all or nothing, errors that name the
// rejected operation, echo (handles, generation), generation checks, rule
// positions, deletes by handle, and namespaces kept apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../src/errors.js';
import type { Namespace } from '../src/namespace.js';
import {
  accept,
  addChain,
  addRule,
  addTable,
  counter,
  deleteChain,
  deleteRule,
  deleteTable,
  drop,
  flushChain,
  flushRuleset,
  flushTable,
  getGeneration,
  getTable,
  ip,
  jump,
  listChains,
  listRules,
  listTables,
  masquerade,
  meta,
  replaceRule,
  tcp,
  transaction,
} from '../src/nft/index.js';
import { NsScope } from './helpers.js';
import { nft, nftJson, ruleExprs, withoutHandles } from './nft-oracle.js';

const scope = new NsScope();
afterAll(() => scope.cleanup());

const family = 'inet' as const;
const table = 'netweave';

function fourGoodOps() {
  return transaction()
    .addTable({ family, name: table })
    .addChain({ family, table, name: 'fwd', type: 'filter', hook: 'forward', priority: 0, policy: 'accept' })
    .addRule({ family, table, chain: 'fwd', exprs: [tcp.dport.eq(22), accept()] })
    .addSet({ family, table, name: 'blocked', key: 'ipv4_addr' });
}

describe('atomicity', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('nft');
  });

  it('a batch whose 5th operation is invalid leaves nothing of the first four', async () => {
    const tx = fourGoodOps().addRule({ family, table, chain: 'fwd', exprs: [ip.saddr.in('blocked'), counter(), jump('no-such-chain')] });
    expect(tx.size).toBe(5);
    const err = await tx.commit({ ns }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.code).toBe('ENOENT');
    expect(err.operation).toBe('commit');
    expect(err.index).toBe(4);
    // The kernel's extended ack points into the rule: the jump (after nfproto, ip saddr, lookup, counter).
    expect(err.item).toBe(`add rule inet netweave fwd, at expression #6 (immediate)`);
    expect(tx.describe()[err.index]).toBe('add rule inet netweave fwd');
    expect(err.message).toContain('add rule inet netweave fwd');
    expect(await listTables({ ns })).toEqual([]);
    expect(nftJson(ns, 'list', 'ruleset')).toEqual([]);
  });

  it('a failure in the middle names that operation and applies none', async () => {
    const tx = transaction()
      .addTable({ family, name: table })
      .addChain({ family, table, name: 'a' })
      .addRule({ family, table, chain: 'missing', exprs: [drop()] })
      .addChain({ family, table, name: 'b' });
    const err = await tx.commit({ ns }).catch((e) => e);
    expect(err).toMatchObject({ code: 'ENOENT', index: 2, item: 'add rule inet netweave missing, at NFTA_RULE_CHAIN' });
    expect(await listTables({ ns })).toEqual([]);
  });

  it('a rejected change to an existing ruleset leaves it exactly as it was', async () => {
    await fourGoodOps().addElements({ family, table, name: 'blocked', key: 'ipv4_addr' }, [{ key: '10.9.9.9' }]).commit({ ns });
    const before = nftJson(ns, 'list', 'ruleset');
    const gen = await getGeneration({ ns });
    const tx = transaction()
      .deleteRule({ family, table, chain: 'fwd', handle: (await listRules({ ns, family, table }))[0].handle })
      .addChain({ family, table, name: 'x' })
      .flushChain({ family, table, name: 'fwd' })
      // A nat chain cannot hook forward.
      .addChain({ family, table, name: 'bad', type: 'nat', hook: 'forward', priority: 0 });
    await expect(tx.commit({ ns })).rejects.toMatchObject({ code: 'EOPNOTSUPP', index: 3, item: 'add chain inet netweave bad' });
    expect(nftJson(ns, 'list', 'ruleset')).toEqual(before);
    expect(await getGeneration({ ns })).toBe(gen);
    await deleteTable({ family, name: table }, { ns });
  });

  it('validates arguments before anything is sent', async () => {
    const tx = transaction();
    expect(() => tx.addRule({ family, table, chain: 'c', exprs: [tcp.dport.eq(70000)] })).toThrow(RangeError);
    expect(() => tx.addRule({ family: 'inet6' as any, table, chain: 'c', exprs: [] })).toThrow(/family must be one of/);
    expect(() => tx.addChain({ family, table, name: 'c', hook: 'input' } as any)).toThrow(/hook and priority/);
    expect(() => tx.addRule({ family, table, chain: 'c', exprs: [{ type: 'cmp', sreg: 1, op: 'eq', data: Buffer.alloc(0) }] })).toThrow(/1\.\.64 bytes/);
    expect(() => tx.addRule({ family: 'ip', table, chain: 'c', exprs: [meta.oifname.eq('an-interface-name-too-long')] })).toThrow(RangeError);
    expect(() => tx.addTable({ family, name: '' })).toThrow(TypeError);
    // Nothing of the failed adds stayed in the batch.
    expect(tx.size).toBe(0);
    await expect(addTable({ family, name: 'x'.repeat(300) }, { ns })).rejects.toThrow(RangeError);
  });
});

describe('large transactions', () => {
  it('30,000 rules commit in one batch and are reported committed (acks past 4,096 messages are thinned)', async () => {
    const ns = await scope.create('nfl');
    const tx = transaction().addTable({ family: 'ip', name: 'big' }).addChain({ family: 'ip', table: 'big', name: 'c' });
    for (let i = 0; i < 30_000; i++) tx.addRule({ family: 'ip', table: 'big', chain: 'c', exprs: [ip.saddr.eq(`10.${i >> 8}.${i & 255}.0/24`), accept()] });
    await tx.commit({ ns });
    expect(await listRules({ ns, family: 'ip', table: 'big' })).toHaveLength(30_000);
    await expect(tx.commit({ ns, echo: true })).rejects.toThrow(RangeError);
  });

  it('a large batch whose error replies overflow is reported rejected, and nothing is applied', async () => {
    const ns = await scope.create('nfl');
    const tx = transaction().addChain({ family: 'ip', table: 'missing', name: 'c' });
    for (let i = 0; i < 30_000; i++) tx.addRule({ family: 'ip', table: 'missing', chain: 'c', exprs: [drop()] });
    const err = await tx.commit({ ns }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    // 30,001 error replies (each message fails: its table is missing) cannot all fit.
    expect(err.code).toBe('ENOBUFS');
    expect(err.item).toContain('rejected, nothing applied');
    expect(await listTables({ ns })).toEqual([]);
  });
});

describe('echo, generations, positions, deletes', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('nft');
  });

  it('single-operation calls return what the kernel created, with handles', async () => {
    const t = await addTable({ family, name: table, comment: 'made by netweave' }, { ns });
    expect(t).toMatchObject({ family, name: table, comment: 'made by netweave' });
    expect(t.handle).toBeGreaterThan(0);
    expect(await getTable({ family, name: table }, { ns })).toMatchObject({ handle: t.handle, comment: 'made by netweave' });
    const c = await addChain({ family, table, name: 'in', type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' }, { ns });
    expect(c).toMatchObject({ name: 'in', hook: 'input', priority: 0, policy: 'accept', type: 'filter' });
    const r1 = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(22), accept()], comment: 'ssh' }, { ns });
    const r2 = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(80), accept()] }, { ns });
    expect(r1.handle).toBeGreaterThan(0);
    expect(r2.handle).toBeGreaterThan(r1.handle);
    expect(r1.comment).toBe('ssh');
    // The nft oracle sees the same handles and comment.
    const rules = nftJson(ns, '-a', 'list', 'chain', family, table, 'in').filter((o) => o.rule);
    expect(rules.map((o) => [o.rule.handle, o.rule.comment])).toEqual([
      [r1.handle, 'ssh'],
      [r2.handle, undefined],
    ]);
  });

  it('commit with echo reports the new generation and per-operation results', async () => {
    const before = await getGeneration({ ns });
    const r = await transaction()
      .addChain({ family, table, name: 'extra' })
      .addRule({ family, table, chain: 'extra', exprs: [drop()] })
      .commit({ ns, echo: true });
    expect(r.generation).toBe(before + 1);
    expect(await getGeneration({ ns })).toBe(before + 1);
    expect(r.results[0]).toMatchObject({ name: 'extra' });
    expect(r.results[1]).toMatchObject({ chain: 'extra', exprs: [{ type: 'immediate', verdict: { code: 'drop' } }] });
  });

  it('expectGeneration refuses a commit after someone else changed the ruleset', async () => {
    const gen = await getGeneration({ ns });
    nft(ns, 'add', 'chain', family, table, 'by-someone-else');
    const err = await transaction().addChain({ family, table, name: 'mine' }).commit({ ns, expectGeneration: gen }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.errno).toBe(85); // ERESTART
    expect(err.item).toContain(`no longer at generation ${gen}`);
    expect((await listChains({ ns, family, table })).map((c) => c.name)).not.toContain('mine');
    await transaction().addChain({ family, table, name: 'mine' }).commit({ ns, expectGeneration: await getGeneration({ ns }) });
    expect((await listChains({ ns, family, table })).map((c) => c.name)).toContain('mine');
  });

  it('places rules: prepend, after and before a handle, replace in place, delete by handle', async () => {
    await flushChain({ family, table, name: 'in' }, { ns });
    const a = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(1), accept()] }, { ns });
    const c = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(3), accept()] }, { ns });
    const first = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(0), accept()], position: 'prepend' }, { ns });
    const b = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(2), accept()], position: { after: a.handle } }, { ns });
    const bb = await addRule({ family, table, chain: 'in', exprs: [tcp.dport.eq(22), accept()], position: { before: c.handle } }, { ns });
    const ports = async () =>
      ruleExprs(nftJson(ns, 'list', 'chain', family, table, 'in')).map((e) => e[0].match.right);
    expect(await ports()).toEqual([0, 1, 2, 22, 3]);
    const swapped = await replaceRule({ family, table, chain: 'in', handle: bb.handle, exprs: [tcp.dport.eq(2222), drop()] }, { ns });
    expect(swapped.handle).toBe(bb.handle);
    expect(await ports()).toEqual([0, 1, 2, 2222, 3]);
    await deleteRule({ family, table, chain: 'in', handle: b.handle }, { ns });
    await deleteRule({ family, table, chain: 'in', handle: first.handle }, { ns });
    expect(await ports()).toEqual([1, 2222, 3]);
    await expect(deleteRule({ family, table, chain: 'in', handle: b.handle }, { ns })).rejects.toMatchObject({ code: 'ENOENT', operation: 'deleteRule' });
    // destroy: no error for what is already gone.
    await deleteRule({ family, table, chain: 'in', handle: b.handle }, { ns, ifExists: true });
    expect((await listRules({ ns, family, table, chain: 'in' })).map((r) => r.handle)).toEqual([a.handle, bb.handle, c.handle]);
  });

  it('deletes chains by name and handle, flushes tables and the ruleset', async () => {
    const chains = await listChains({ ns, family, table });
    const extra = chains.find((x) => x.name === 'by-someone-else')!;
    await deleteChain({ family, table, handle: extra.handle }, { ns });
    await deleteChain({ family, table, name: 'mine' }, { ns });
    await deleteChain({ family, table, name: 'mine' }, { ns, ifExists: true });
    // A chain a rule jumps to cannot go.
    await addRule({ family, table, chain: 'in', exprs: [jump('extra')] }, { ns });
    await expect(deleteChain({ family, table, name: 'extra' }, { ns })).rejects.toMatchObject({ code: 'EBUSY', operation: 'deleteChain' });
    await flushTable({ family, name: table }, { ns });
    expect(await listRules({ ns, family, table })).toEqual([]);
    // A chain with rules goes with its rules.
    await addRule({ family, table, chain: 'in', exprs: [drop()] }, { ns });
    await deleteChain({ family, table, name: 'in' }, { ns });
    expect((await listChains({ ns, family, table })).map((x) => x.name)).toEqual(['extra']);
    expect(await listRules({ ns, family, table })).toEqual([]);
    await addTable({ family: 'ip', name: 'other' }, { ns });
    await flushRuleset({ ns, family: 'ip' });
    expect((await listTables({ ns })).map((t) => `${t.family} ${t.name}`)).toEqual([`inet ${table}`]);
    await flushRuleset({ ns });
    expect(await listTables({ ns })).toEqual([]);
    await deleteTable({ family, name: table }, { ns, ifExists: true });
    await expect(deleteTable({ family, name: table }, { ns })).rejects.toMatchObject({ code: 'ENOENT', operation: 'deleteTable' });
  });

  it('create semantics: exclusive adds fail on what exists', async () => {
    await addTable({ family, name: table }, { ns });
    await addTable({ family, name: table }, { ns });
    await expect(addTable({ family, name: table }, { ns, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST', operation: 'addTable' });
    await deleteTable({ family, name: table }, { ns });
  });
});

describe('re-applying', () => {
  it('a transaction that destroys and rebuilds its table commits again idempotently, also after nft flush ruleset', async () => {
    const ns = await scope.create('nfr');
    const tx = transaction()
      .deleteTable({ family, name: table }, { ifExists: true })
      .addTable({ family, name: table })
      .addChain({ family, table, name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat' })
      .addRule({ family, table, chain: 'post', exprs: [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br0'), masquerade()] });
    await tx.commit({ ns });
    const once = nftJson(ns, 'list', 'ruleset');
    await tx.commit({ ns, echo: true });
    await tx.commit({ ns });
    expect(withoutHandles(nftJson(ns, 'list', 'ruleset'))).toEqual(withoutHandles(once));
    nft(ns, 'flush', 'ruleset');
    expect(nftJson(ns, 'list', 'ruleset')).toEqual([]);
    await tx.commit({ ns });
    expect(withoutHandles(nftJson(ns, 'list', 'ruleset'))).toEqual(withoutHandles(once));
  });
});

describe('namespaces', () => {
  it('each namespace has its own ruleset; the current one is untouched', async () => {
    const a = await scope.create('nfa');
    const b = await scope.create('nfb');
    await addTable({ family: 'ip', name: 'only-a' }, { ns: a });
    await addTable({ family: 'ip', name: 'only-b' }, { ns: b });
    expect((await listTables({ ns: a })).map((t) => t.name)).toEqual(['only-a']);
    expect((await listTables({ ns: b })).map((t) => t.name)).toEqual(['only-b']);
    expect(nftJson(a, 'list', 'tables').map((o) => o.table.name)).toEqual(['only-a']);
    // The sandbox's own namespace (the default) has none of them.
    expect((await listTables()).filter((t) => t.name.startsWith('only-'))).toEqual([]);
  });
});
