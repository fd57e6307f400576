// nft as a test-only oracle, run inside a named namespace (never the host's).
import { execFileSync } from 'node:child_process';
import type { Namespace } from '../src/namespace.js';

function nsName(ns: Namespace | string): string {
  const name = typeof ns === 'string' ? ns : ns.name;
  if (!name) throw new Error('nft oracle needs a named namespace');
  return name;
}

/** `nft -j <args>` inside the namespace, parsed; the metainfo entry dropped. */
export function nftJson(ns: Namespace | string, ...args: string[]): any[] {
  const out = execFileSync('ip', ['netns', 'exec', nsName(ns), 'nft', '-j', ...args], { encoding: 'utf8' });
  return (JSON.parse(out).nftables as any[]).filter((o) => !('metainfo' in o));
}

/** `nft <args>` inside the namespace (text output). */
export function nft(ns: Namespace | string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', nsName(ns), 'nft', ...args], { encoding: 'utf8' });
}

/** `nft -f -` with the script on stdin. */
export function nftScript(ns: Namespace | string, script: string): void {
  execFileSync('ip', ['netns', 'exec', nsName(ns), 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
}

/** A JSON ruleset without handles (they differ between two namespaces built the same way). */
export function withoutHandles(list: any[]): any[] {
  return JSON.parse(JSON.stringify(list, (k, v) => (k === 'handle' ? undefined : v)));
}

/** The rules' `expr` arrays of `nft -j list ruleset`, in order. */
export function ruleExprs(list: any[], chain?: string): any[][] {
  return list.filter((o) => o.rule && (chain === undefined || o.rule.chain === chain)).map((o) => o.rule.expr);
}
