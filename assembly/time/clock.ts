// The module's only time source: `nowUs` is set from the host's tick(nowUs) (and
// RX timestamps), and `timers` is the stack's one timer service. Core modules read
// both from here; nothing reads a wall clock.

import { Timers } from "./timers";
import { TimerHandler } from "./timer";

/** Host time of the current tick, in microseconds. */
export let nowUs: u64 = 0;
/** The stack's timer service (1 tick = 1 ms); set by init(). */
export let timers: Timers = changetype<Timers>(0);

export function setNowUs(t: u64): void {
  nowUs = t;
}

/** Creates the timer service (at init, or per test). */
export function initTimers(useWheel: bool, startUs: u64, handler: TimerHandler): Timers {
  nowUs = startUs;
  timers = new Timers(useWheel, startUs / 1000, handler);
  return timers;
}

/** Current time in ms ticks. */
@inline
export function nowMs(): u64 {
  return nowUs / 1000;
}
