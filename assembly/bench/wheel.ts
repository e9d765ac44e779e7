// Timer-queue loop drivers for bench/wheel.bench.ts. Each export runs a whole
// measured loop inside the module so the figures are the queue's cost, not the
// JS→WASM crossing. The host times each call and divides by the operation count.

import { Timers } from "../time/timers";
import { TIMER_NODE_SIZE, timerInit, TIMER_KIND_TEST } from "../time/timer";

let T: Timers = changetype<Timers>(0);
let nodes: usize = 0;
let nodeCap: u32 = 0;
let background: u32 = 0;
let rng: u64 = 1;
let sink: u64 = 0;

function rand(): u64 {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545f4914f6cdd1d;
}

function onExpire(p: usize): void {
  sink += p;
}

@inline function node(i: u32): usize {
  return nodes + <usize>i * TIMER_NODE_SIZE;
}

/**
 * A fresh queue (V2 wheel when `useWheel`) with `active` background timers whose
 * delays spread evenly over [1, spanMs] in increasing order (so even the V1 list is
 * built in O(n)), plus `probes` idle nodes for the measured operations.
 */
export function wheelSetup(useWheel: bool, active: u32, probes: u32, spanMs: u32, minMs: u32, seed: u64): void {
  const need = active + probes;
  if (need > nodeCap) {
    nodes = heap.alloc(<usize>need * TIMER_NODE_SIZE);
    nodeCap = need;
  }
  rng = seed | 1;
  T = new Timers(useWheel, 0, onExpire);
  background = active;
  const step = <f64>(spanMs - minMs) / <f64>max<u32>(active, 1);
  for (let i: u32 = 0; i < need; i++) timerInit(node(i), TIMER_KIND_TEST, i);
  for (let i: u32 = 0; i < active; i++) T.schedule(node(i), <u64>minMs + 1 + <u64>(<f64>i * step));
}

/** Schedules probes 0..ops−1 with random delays in [1, spanMs]. */
export function wheelSchedule(ops: u32, spanMs: u32): void {
  for (let i: u32 = 0; i < ops; i++) T.schedule(node(background + i), 1 + rand() % <u64>spanMs);
}

/** Cancels probes 0..ops−1. */
export function wheelCancel(ops: u32): void {
  for (let i: u32 = 0; i < ops; i++) T.cancel(node(background + i));
}

/** Ticks one ms at a time for `ms` ticks; returns the number of timers fired. */
export function wheelStep(ms: u32): u32 {
  let fired: u32 = 0;
  for (let i: u32 = 0; i < ms; i++) fired += T.tick();
  return fired;
}

/** One tickTo jump of `ms`; returns the number of timers fired. */
export function wheelJump(ms: u64): u32 {
  return T.tickTo(T.now + ms);
}

export function wheelActive(): u32 {
  return T.active;
}

/** `count` tickTo jumps of `ms` each; returns the number of timers fired. */
export function wheelJumps(count: u32, ms: u32): u32 {
  let fired: u32 = 0;
  for (let i: u32 = 0; i < count; i++) fired += T.tickTo(T.now + <u64>ms);
  return fired;
}
