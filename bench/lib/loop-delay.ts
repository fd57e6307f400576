// Event-loop delay while a workload runs (targets such as "event loop max
// delay < 2 ms while 1,000 creates run").
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  /** Worst delay seen, in ms: how late the loop ran a timer due every `resolutionMs`. */
  maxMs: number;
  p99Ms: number;
  meanMs: number;
  /** Number of timer samples taken. */
  samples: number;
  resolutionMs: number;
}

/**
 * Runs work() with perf_hooks.monitorEventLoopDelay sampling every
 * resolutionMs (1 ms, the finest libuv timers give). The histogram records
 * the time between timer callbacks, i.e. the period plus the delay, so the
 * period is subtracted: an idle loop reports ~0.
 */
export async function measureLoopDelay<T>(work: () => Promise<T>, resolutionMs = 1): Promise<{ result: T; delay: LoopDelay }> {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  // Let the first sample land before the workload starts.
  await new Promise((r) => setTimeout(r, resolutionMs * 2));
  let result: T;
  try {
    result = await work();
    // One more period, so a stall at the very end is recorded.
    await new Promise((r) => setTimeout(r, resolutionMs * 2));
  } finally {
    h.disable();
  }
  const excess = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return {
    result,
    delay: {
      maxMs: excess(h.max),
      p99Ms: excess(h.percentile(99)),
      meanMs: excess(h.mean),
      samples: h.count,
      resolutionMs,
    },
  };
}
