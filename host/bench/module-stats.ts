// Reads what `ustack bench` reports from one stack module: the handshake histograms
// kept in the module (glue/bench-stats.ts) and a snapshot of its counters, memory
// accounting and gauges (host/stack-core.ts).

import type { StackCore } from "../stack-core.ts";
import { LogLinearHistogram } from "./histogram.ts";

export interface ModuleSnapshot {
  /** Memory counters (plain names), interface (iface_*), TCP (tcp_*). */
  stats: Record<string, number>;
  /** Memory accounting, bytes (bytesPerConnection, endpointRecord, ...). */
  memory: Record<string, number>;
  gauges: Record<string, number>;
}

/** Names of the module's benchmark exports (glue/bench-stats.ts). */
export const BENCH_EXPORTS = [
  "benchHistAddr", "benchHistBuckets", "benchHistSubBits", "benchHistReset", "benchTimersExpired",
  "benchTimerProbe", "benchTimeWaitCount", "benchTimeWaitBytes", "benchTimersScheduled", "benchTimersCancelled",
  "benchFifoOps", "benchFifoExpired", "benchFifoProbe",
] as const;

export class ModuleStats {
  constructor(private readonly core: StackCore) {
    const missing = BENCH_EXPORTS.filter((n) => typeof core.exports[n] !== "function");
    if (missing.length) throw new Error(`bench: the core module lacks ${missing.join(", ")} (rebuild: npm run build)`);
  }

  /** Histogram `id` (0 server handshake, 1 client connect), decoded from module memory. */
  histogram(id: number): LogLinearHistogram {
    const x = this.core.exports;
    const buckets = x.benchHistBuckets() >>> 0;
    const addr = x.benchHistAddr(id) >>> 0;
    if (addr === 0) throw new RangeError(`bench: no module histogram ${id}`);
    const words = new BigUint64Array(this.core.memory.buffer, addr, buckets + 4);
    return LogLinearHistogram.fromModule(words, x.benchHistSubBits() >>> 0, buckets);
  }

  snapshot(): ModuleSnapshot {
    const raw = this.core.stats();
    const stats: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) stats[k] = Number(v);
    return { stats, memory: this.core.memoryStats(), gauges: this.core.gauges() };
  }
}
