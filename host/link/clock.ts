// Clocks for the links: the in-memory wire schedules deliveries on one, the pcap
// recorder stamps frames with one. Use the same clock as the tick loop, so a frame's
// pcap timestamp, its delivery time and the module's `now` agree.

import { runtime } from "../runtime/index.ts";

/** A monotonic time source in microseconds. */
export interface Clock {
  nowUs(): number;
}

/** Host time (monotonic, from the runtime seam). */
export const realClock: Clock = { nowUs: () => Math.floor(runtime.nowUs()) };

/** Time that moves only when told to: tests and simulations. */
export class VirtualClock implements Clock {
  private us: number;
  constructor(startUs = 0) {
    if (!Number.isSafeInteger(startUs) || startUs < 0) throw new RangeError(`VirtualClock start must be a non-negative integer (µs), got ${startUs}`);
    this.us = startUs;
  }
  nowUs(): number {
    return this.us;
  }
  advanceUs(us: number): number {
    if (!Number.isFinite(us) || us < 0) throw new RangeError(`VirtualClock cannot move by ${us} µs`);
    this.us += Math.floor(us);
    return this.us;
  }
  advanceMs(ms: number): number {
    return this.advanceUs(ms * 1000);
  }
  /** Moves to `us` (never backwards: an earlier time is ignored). */
  setUs(us: number): number {
    if (us > this.us) this.us = Math.floor(us);
    return this.us;
  }
}
