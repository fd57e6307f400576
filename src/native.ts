// Typed view of the C++ addon (native/addon.cc) and its one-line loader.
// node-gyp-build prefers prebuilds/<platform>-<arch>/ and falls back to
// build/Release. Both src/ and dist/ sit one level below the package root.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const enum CompletionKind {
  Request = 0,
  Task = 1,
  Event = 2,
  /** Parts of a streamed dump so far (errno ECANCELED: drop them, the dump starts again). */
  Partial = 3,
}

export const enum RequestFlag {
  /** One dump message; completes on NLMSG_DONE and is retried on NLM_F_DUMP_INTR. */
  Dump = 1,
  /** Sent alone in its sendmsg: an nfnetlink batch must be the whole datagram. */
  Alone = 2,
  /** With Dump: parts are delivered as they arrive (CompletionKind.Partial). */
  Stream = 4,
}

/**
 * What a chain's task step runs, as [kind, ...args]. Kind 1: a bind probe in
 * a namespace. Kind 2: a new namespace and, inside it, a socket registered as
 * the step's handle (openTask completes like openSocket's).
 */
export type NativeTask =
  | readonly [kind: 1, nsFd: number, family: number, type: number, address: string, port: number, reuseAddress: boolean, spare: number, make: number]
  | readonly [kind: 2, openTask: number, protocol: number];

/** Negative numbers returned by synchronous calls are -errno. */
export interface NativeAddon {
  /**
   * onComplete gets each delivery whole: [kind, id, errno, value] for each of
   * its `count` completions in meta (reused: read it during the call), and
   * their data — the data itself when count is 1, else an array (holes where none).
   */
  init(onComplete: (meta: Float64Array, count: number, data: Buffer | undefined | (Buffer | undefined)[]) => void): number;
  openSocket(taskId: number, protocol: number, nsFd: number, groups: number[], rcvbuf: number): number;
  request(handle: number, id: number, bytes: Uint8Array, flags: number): void;
  /**
   * Dependent requests (or tasks: a NativeTask for the bytes) sent in order by the engine.
   * meta: [handle, id, flags] per step; patches: [step, from, msgType, attr, field, target] each.
   * Throws an Error with errno when a task cannot be made.
   */
  /** part: ChainPart (a chain sent in parts: key, its first step's id; base, the steps of earlier parts). */
  requestChain(meta: Uint32Array, payloads: (Uint8Array | NativeTask)[], patches: Uint32Array, part?: number, key?: number, base?: number): void;
  /** A socket handle for the socket a chain's namespace step opens. */
  reserveHandle(): number;
  /** Whether the last submission had to wake the engine thread (it was asleep). */
  woke(): boolean;
  /** sched_yield(): lets a thread waiting for this core run. */
  yieldCpu(): void;
  closeSocket(handle: number): void;
  hold(): void;
  release(): void;
  /** A namespace (task id: its fd) and an rtnetlink-like socket made inside it (openTaskId, as openSocket); returns the socket's handle. */
  netnsCreateWithSocket(id: number, openTaskId: number, protocol: number): number;
  netnsCreateNamed(id: number, name: string): void;
  netnsDelete(id: number, name: string): void;
  socketInNetns(id: number, nsFd: number, domain: number, type: number, protocol: number): number;
  sysctlRead(id: number, nsFd: number, path: string): number;
  sysctlWrite(id: number, nsFd: number, path: string, bytes: Uint8Array): number;
  /** TUNSETIFF + [TUNSETOWNER/TUNSETGROUP, -1 = leave] + TUNSETPERSIST inside the namespace. */
  tuntapCreate(id: number, nsFd: number, name: string, flags: number, owner: number, group: number): number;
  netnsOpen(path: string): number;
  netnsList(): string[] | number;
  closeFd(fd: number): number;
  fdIdentity(fd: number): [number, number] | number;
  bind(fd: number, family: number, address: string, port: number, reuseAddress: boolean): number;
  /** Engine counters: sendmsg calls, requests sent, dump retries, handles keeping the loop alive. */
  stats(): { sendmsgs: number; requests: number; dumpRetries: number; active: number };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const native: NativeAddon = createRequire(import.meta.url)('node-gyp-build')(root);
