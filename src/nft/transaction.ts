// Transactions: any number of changes, sent as one batch that the kernel
// applies all or nothing (what `nft -f <file>` does). Operations validate and
// encode as they are added; commit() sends them. A committed transaction can
// be committed again (the same changes, re-applied).
import { NFT_MSG_DELSETELEM, NFT_MSG_DESTROYSETELEM, NFT_MSG_NEWSETELEM, writeBatchBegin, writeBatchEnd } from '../wire/nfnetlink.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, Writer } from '../wire/netlink.js';
import { Batch, type CommitOptions, type CommitResult } from './batch.js';
import { decodeChain, describeChain, writeAddChain, writeDeleteChain, writeFlushChain, type ChainRef, type ChainSpec } from './chain.js';
import { familyNumber, type Family } from './family.js';
import { decodeRule, describeRule, writeAddRule, writeDeleteRule, type RuleRef, type RuleSpec } from './rule.js';
import {
  checkSetSpec,
  decodeSet,
  describeElements,
  describeSet,
  writeAddSet,
  writeDeleteSet,
  writeElements,
  writeFlushSet,
  type SetElement,
  type SetRef,
  type SetSpec,
  type TypedSetRef,
} from './set.js';
import { decodeTable, describeTable, writeAddTable, writeDeleteTable, writeFlushRuleset, writeFlushTable, type TableRef, type TableSpec } from './table.js';

export class Transaction extends Batch {
  private setId = 0;

  /** `add table` (exclusive: `create table`). */
  addTable(spec: TableSpec, opts: { exclusive?: boolean } = {}): this {
    this.add(describeTable('add', spec), (w, f) => writeAddTable(w, f, spec, opts.exclusive), decodeTable);
    return this;
  }

  /** `delete table` (ifExists: `destroy table`). */
  deleteTable(ref: TableRef, opts: { ifExists?: boolean } = {}): this {
    this.add(describeTable(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) => writeDeleteTable(w, f, ref, opts.ifExists));
    return this;
  }

  /** `flush table`: every rule of the table goes; chains and sets stay. */
  flushTable(ref: { family: Family; name: string }): this {
    this.add(describeTable('flush', ref), (w, f) => writeFlushTable(w, f, ref));
    return this;
  }

  /** `flush ruleset [family]`: every table goes. */
  flushRuleset(opts: { family?: Family } = {}): this {
    if (opts.family !== undefined) familyNumber(opts.family);
    this.add(`flush ruleset${opts.family ? ` ${opts.family}` : ''}`, (w, f) => writeFlushRuleset(w, f, opts.family));
    return this;
  }

  /** `add chain` (exclusive: `create chain`). */
  addChain(spec: ChainSpec, opts: { exclusive?: boolean } = {}): this {
    this.add(describeChain('add', spec), (w, f) => writeAddChain(w, f, spec, opts.exclusive), decodeChain);
    return this;
  }

  /** `delete chain` (ifExists: `destroy chain`). */
  deleteChain(ref: ChainRef, opts: { ifExists?: boolean } = {}): this {
    this.add(describeChain(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) => writeDeleteChain(w, f, ref, opts.ifExists));
    return this;
  }

  /** `flush chain` */
  flushChain(ref: { family: Family; table: string; name: string }): this {
    this.add(describeChain('flush', ref), (w, f) => writeFlushChain(w, f, ref));
    return this;
  }

  /** `add rule` / `insert rule` (by spec.position). */
  addRule(spec: RuleSpec): this {
    this.add(describeRule('add', spec), (w, f) => writeAddRule(w, f, spec), decodeRule);
    return this;
  }

  /** `replace rule … handle <h>` */
  replaceRule(spec: RuleSpec & { handle: number }): this {
    this.add(describeRule('replace', spec), (w, f) => writeAddRule(w, f, spec, spec.handle), decodeRule);
    return this;
  }

  /** `delete rule … handle <h>` (ifExists: `destroy rule`). */
  deleteRule(ref: RuleRef, opts: { ifExists?: boolean } = {}): this {
    this.add(describeRule(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) => writeDeleteRule(w, f, ref, opts.ifExists));
    return this;
  }

  /** `add set|map …` and, when spec.elements is given, `add element …` right after it. */
  addSet(spec: SetSpec, opts: { exclusive?: boolean } = {}): this {
    checkSetSpec(spec);
    const id = ++this.setId;
    this.add(describeSet('add', spec), (w, f) => writeAddSet(w, f, spec, id, opts.exclusive), decodeSet);
    if (spec.elements?.length) this.addElements(spec, spec.elements);
    return this;
  }

  /** `delete set|map` (ifExists: `destroy set`). */
  deleteSet(ref: SetRef, opts: { ifExists?: boolean } = {}): this {
    this.add(describeSet(opts.ifExists ? 'destroy' : 'delete', ref), (w, f) => writeDeleteSet(w, f, ref, opts.ifExists));
    return this;
  }

  /** `flush set|map` */
  flushSet(ref: { family: Family; table: string; name: string }): this {
    this.add(describeSet('flush', ref), (w, f) => writeFlushSet(w, f, ref));
    return this;
  }

  /** `add element` (exclusive: `create element`). The set's types come from `set` (a SetSpec or a listed NftSet). */
  addElements(set: TypedSetRef, elements: readonly SetElement[], opts: { exclusive?: boolean } = {}): this {
    this.add(describeElements('add', set, elements.length), (w, f) =>
      writeElements(w, f | NLM_F_CREATE | (opts.exclusive ? NLM_F_EXCL : 0), NFT_MSG_NEWSETELEM, set, elements),
    );
    return this;
  }

  /** `delete element` (ifExists: `destroy element`). */
  deleteElements(set: TypedSetRef, elements: readonly SetElement[], opts: { ifExists?: boolean } = {}): this {
    this.add(describeElements(opts.ifExists ? 'destroy' : 'delete', set, elements.length), (w, f) =>
      writeElements(w, f, opts.ifExists ? NFT_MSG_DESTROYSETELEM : NFT_MSG_DELSETELEM, set, elements),
    );
    return this;
  }

  /**
   * Sends everything as one batch (`nft -f`). On a kernel error nothing was
   * applied, and the NetlinkError's `index` / `item` name the operation the
   * kernel rejected (`item` "commit of N operations": the whole batch failed
   * its final checks). With echo, `results` holds what each add created.
   */
  commit(opts: CommitOptions = {}): Promise<CommitResult> {
    return this.send(opts, 'commit');
  }
}

/**
 * The bytes of a transaction that only adds elements to one set, for a
 * caller that sends them itself (in a request chain after a check, say):
 * what transaction().addElements(...).commit({ expectGeneration }) sends,
 * without the transaction's bookkeeping. No ack is asked for: nfnetlink
 * reports an error whether asked or not, so an applied batch answers
 * nothing at all (one receive less; ~6 µs less per publishPort here, 4
 * runs). Applied when the reply holds no error (noErrorAck); else nothing
 * was, and the caller learns why by committing the same change as a
 * Transaction, which names the error.
 */
export function addElementsBatch(set: TypedSetRef, elements: readonly SetElement[], opts: { exclusive?: boolean; expectGeneration?: number } = {}): Uint8Array {
  const w = new Writer(256);
  writeBatchBegin(w, NLM_F_REQUEST, opts.expectGeneration);
  writeElements(w, NLM_F_REQUEST | NLM_F_CREATE | (opts.exclusive ? NLM_F_EXCL : 0), NFT_MSG_NEWSETELEM, set, elements);
  writeBatchEnd(w, NLM_F_REQUEST);
  return w.finish();
}

/** A new, empty transaction. */
export function transaction(): Transaction {
  return new Transaction();
}
