// The stack's timer service: one interface over the V2 wheel or the V1 list,
// chosen at init by configuration (the mission's `use_timer_wheel_v2` flag).
// Every owner (TCP endpoints, syncache, ARP cache, reassembly) goes through this.
//
// Time unit: 1 tick = 1 ms. The host's µs clock enters through tick(nowUs) in
// index.ts, which calls advanceTo(nowUs / 1000).

import { TimerHandler, NO_TIMER } from "./timer";
import { TimerWheel, TickCounts } from "./wheel";
import { TimerList } from "./list";

export class Timers {
  readonly useWheel: bool;
  private wheel: TimerWheel | null = null;
  private list: TimerList | null = null;

  constructor(useWheel: bool, startTick: u64, handler: TimerHandler) {
    this.useWheel = useWheel;
    if (useWheel) this.wheel = new TimerWheel(startTick, handler);
    else this.list = new TimerList(startTick, handler);
  }

  @inline schedule(p: usize, delayMs: u64): void {
    if (this.useWheel) changetype<TimerWheel>(this.wheel).schedule(p, delayMs);
    else changetype<TimerList>(this.list).schedule(p, delayMs);
  }

  @inline cancel(p: usize): void {
    if (this.useWheel) changetype<TimerWheel>(this.wheel).cancel(p);
    else changetype<TimerList>(this.list).cancel(p);
  }

  tick(): u32 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).tick() : changetype<TimerList>(this.list).tick();
  }

  tickTo(t: u64): u32 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).tickTo(t) : changetype<TimerList>(this.list).tickTo(t);
  }

  /** Exact ticks until the earliest pending timer, or NO_TIMER. */
  nextExpiration(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).nextExpiration() : changetype<TimerList>(this.list).nextExpiration();
  }

  /** Ticks until the queue next has work (≤ nextExpiration), for the host's sleep. */
  nextWakeup(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).nextEventDistance() : changetype<TimerList>(this.list).nextExpiration();
  }

  get now(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).elapsed : changetype<TimerList>(this.list).elapsed;
  }

  get active(): u32 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).active : changetype<TimerList>(this.list).active;
  }

  get totalExpired(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).totalExpired : changetype<TimerList>(this.list).totalExpired;
  }

  get totalScheduled(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).totalScheduled : changetype<TimerList>(this.list).totalScheduled;
  }

  /** Cancels of active timers (cancels of idle nodes are free and not counted). */
  get totalCancelled(): u64 {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).totalCancelled : changetype<TimerList>(this.list).totalCancelled;
  }

  /** {expired, cascaded} of the last tick()/tickTo(). */
  get last(): TickCounts {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).last : changetype<TimerList>(this.list).last;
  }
}

export { NO_TIMER };
