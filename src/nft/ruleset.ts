// The whole ruleset at once, consistent: read between two generation checks
// and read again if a commit landed in between.
import { NetlinkError } from '../errors.js';
import type { NsOption } from './batch.js';
import { listChains, type Chain } from './chain.js';
import type { Family } from './family.js';
import { getGeneration } from './request.js';
import { listRules, type Rule } from './rule.js';
import { listElements, listSets, type NftSet, type SetElement } from './set.js';
import { listTables, type Table } from './table.js';

export interface Ruleset {
  /** The generation all of it belongs to (pass it as expectGeneration to change it safely). */
  generation: number;
  tables: Table[];
  chains: Chain[];
  rules: Rule[];
  /** With elements: true, each set carries its elements. */
  sets: (NftSet & { elements?: SetElement[] })[];
}

const ATTEMPTS = 8;

/**
 * Everything in the namespace (or one family), like `nft -a list ruleset`:
 * tables, chains, rules in chain order, sets (and their elements if asked).
 * All of it from one generation; retried while commits keep landing.
 */
export async function listRuleset(opts: NsOption & { family?: Family; elements?: boolean } = {}): Promise<Ruleset> {
  const o = { ns: opts.ns, family: opts.family };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const generation = await getGeneration(o);
    try {
      const [tables, chains, rules, sets] = await Promise.all([listTables(o), listChains(o), listRules(o), listSets(o)]);
      const withElements: Ruleset['sets'] = opts.elements
        ? await Promise.all(sets.map(async (s) => ({ ...s, elements: await listElements(s, o) })))
        : sets;
      if ((await getGeneration(o)) === generation) return { generation, tables, chains, rules, sets: withElements };
    } catch (err) {
      // A set or table removed between two reads: the generation moved; read again.
      if (!(err instanceof NetlinkError && err.code === 'ENOENT')) throw err;
    }
  }
  throw new NetlinkError(11 /* EAGAIN */, 'listRuleset', { kernelMessage: `the ruleset changed during each of ${ATTEMPTS} reads` });
}
