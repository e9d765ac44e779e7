// Benchmark statistics for `ustack bench` (issue 8, SPEC §6): the handshake
// histograms (stats/histogram.ts), the timer service's expiry count, a probe that
// times schedule+cancel on the live timer queue, and the TIME-WAIT census. All of it
// is read-only for the stack except histReset and the probe (which leaves the queue
// as it found it). Exported by index.ts; lower-case names only, so the ABI mirror
// (host/abi.ts) has nothing to follow.
//
//   host (host/bench/histogram.ts)                 module
//   benchHistAddr(id) ──────────────────────────► HIST_STRIDE bytes at a static address:
//   new BigUint64Array(memory.buffer, addr, n)     counts[HIST_BUCKETS] + total,sum,min,max

import { stackReady } from "../mem/layout";
import { histAddr, histReset, HIST_BUCKETS, HIST_SUB_BITS, HIST_COUNT, HIST_SUMMARY_WORDS } from "../stats/histogram";
import { timers } from "../time/clock";
import { timerInit, timerIsActive, TIMER_NODE_SIZE, TIMER_KIND_TEST } from "../time/timer";
import { endpointSlab } from "../mem/endpoints";
import { slabAt } from "../mem/slab";
import { timeWaitInUse, TW_RECORD_SIZE } from "../mem/timewait";
import { Tcb, TCB_SIZE } from "../tcp/tcb";
import { STATE_TIME_WAIT } from "../tcp/state";
import { timeWaitMs } from "../tcp/config";
import { FIFO_2MSL } from "../time/fifo";

/** Address of histogram `id` (HIST_BUCKETS + 4 u64 words), 0 for an unknown id. */
export function benchHistAddr(id: u32): usize { return histAddr(id); }
/** Buckets per histogram. */
export function benchHistBuckets(): u32 { return HIST_BUCKETS; }
/** Linear sub-bucket bits of the log-linear geometry. */
export function benchHistSubBits(): u32 { return HIST_SUB_BITS; }
/** Number of histograms (0 server handshake, 1 client connect). */
export function benchHistCount(): u32 { return HIST_COUNT; }
/** Summary words after the counts (total, sum, min, max). */
export function benchHistSummaryWords(): u32 { return HIST_SUMMARY_WORDS; }
/** Zeroes histogram `id` (all of them for id ≥ count). */
export function benchHistReset(id: u32): void { histReset(id); }

/** Timers that have fired since init (0 before init). */
export function benchTimersExpired(): u64 {
  return stackReady() ? timers.totalExpired : 0;
}

/** Timer schedule() calls since init (0 before init). */
export function benchTimersScheduled(): u64 {
  return stackReady() ? timers.totalScheduled : 0;
}

/** Cancels of active timers since init (0 before init). */
export function benchTimersCancelled(): u64 {
  return stackReady() ? timers.totalCancelled : 0;
}

/**
 * Constant-delay queue operations since init (time/fifo.ts): appends + unlinks of
 * linked nodes (0 before init). Their pops are benchFifoExpired.
 */
export function benchFifoOps(): u64 {
  return stackReady() ? timers.fifoScheduled + timers.fifoCancelled : 0;
}

/** Nodes popped (expired) from the constant-delay queues since init. */
export function benchFifoExpired(): u64 {
  return stackReady() ? timers.fifoExpired : 0;
}

/** A private idle node for the probes; never left linked. */
const probeNode: usize = memory.data(<i32>TIMER_NODE_SIZE, 8);
let probeReady = false;

/**
 * Schedules and cancels a private timer node `n` times on the live timer queue (the
 * stack's wheel or list, at its current occupancy), delays cycling through
 * 1 .. maxDelayMs (clamped to ≥ 1). The host times the call: ns per schedule+cancel
 * pair at the real queue state. Returns the pairs done (0 before init).
 */
export function benchTimerProbe(n: u32, maxDelayMs: u32): u32 {
  if (!stackReady()) return 0;
  if (!probeReady) {
    timerInit(probeNode, TIMER_KIND_TEST, 0);
    probeReady = true;
  }
  const span: u64 = maxDelayMs == 0 ? 1 : <u64>maxDelayMs;
  let d: u64 = 1;
  // Multiplicative stepping spreads the delays over the levels without a PRNG.
  for (let i: u32 = 0; i < n; i++) {
    timers.schedule(probeNode, d);
    timers.cancel(probeNode);
    d = (d * 7 + 13) % span + 1;
  }
  if (timerIsActive(probeNode)) timers.cancel(probeNode);
  return n;
}

/**
 * Appends a private node to the live 2 MSL queue (the one holding the TIME-WAIT
 * records, at its current length) with the queue's delay, and unlinks it, `n` times.
 * The host times the call: ns per append+unlink pair, the cost of one constant-delay
 * timer armed and cancelled (or popped). Returns the pairs done (0 before init).
 */
export function benchFifoProbe(n: u32): u32 {
  if (!stackReady()) return 0;
  if (!probeReady) {
    timerInit(probeNode, TIMER_KIND_TEST, 0);
    probeReady = true;
  }
  const d: u64 = <u64>timeWaitMs;
  for (let i: u32 = 0; i < n; i++) {
    timers.scheduleFifo(FIFO_2MSL, probeNode, d);
    timers.cancel(probeNode);
  }
  return n;
}

/**
 * Connections in TIME-WAIT right now: control blocks in state TIME-WAIT (a scan of
 * the endpoint slab, O(capacity): call it once a second, not per connection) plus
 * compact TIME-WAIT records (mem/timewait.ts, issue 6).
 */
export function benchTimeWaitCount(): u32 {
  if (!stackReady()) return 0;
  return tcbsInTimeWait() + timeWaitInUse();
}

/** Bytes those TIME-WAIT connections hold: full control blocks plus compact records. */
export function benchTimeWaitBytes(): u64 {
  if (!stackReady()) return 0;
  return <u64>tcbsInTimeWait() * <u64>TCB_SIZE + <u64>timeWaitInUse() * <u64>TW_RECORD_SIZE;
}

function tcbsInTimeWait(): u32 {
  const s = endpointSlab();
  let n: u32 = 0;
  const cap = s.capacity;
  for (let i: u32 = 0; i < cap; i++) {
    if (changetype<Tcb>(slabAt(s, i)).state == STATE_TIME_WAIT) n++;
  }
  return n;
}
