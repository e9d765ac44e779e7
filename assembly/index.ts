// The module ABI: what the host may call. Nothing else is exported.
// (Grows with the slab, interface and TCP work; see docs/abi.md.)

import { Timers } from "./time/timers";
import { TimerNode } from "./time/timer";

let timers: Timers | null = null;

function dispatchTimer(node: usize): void {
  // Expiry dispatch on the node's kind tag + owner handle; owners register here
  // as they are built (TCP, ARP, reassembly).
  const n = changetype<TimerNode>(node);
  n.flags = n.flags; // no owners yet
}

/** Sets up the stack. `useWheel` = the mission's use_timer_wheel_v2 flag. */
export function init(nowUs: u64, useWheel: bool): i32 {
  timers = new Timers(useWheel, nowUs / 1000, dispatchTimer);
  return 0;
}

/**
 * One host tick at time `nowUs`: advances the timers and returns the number of
 * milliseconds until the stack next has timer work (-1 when none).
 */
export function tick(nowUs: u64): i64 {
  const t = changetype<Timers>(timers);
  t.tickTo(nowUs / 1000);
  const w = t.nextWakeup();
  return w == u64.MAX_VALUE ? -1 : <i64>w;
}
