// TIME-WAIT records: a compact record per connection in TIME-WAIT (issue 6), so the
// full control block can be released when a connection enters TIME-WAIT. The slab
// has its own quota (config maxTimeWait) and exhaustion code.
//
//   TIME-WAIT record (TW_RECORD_SIZE = 64 bytes)
//   ┌──────────────────────────────┬─────────────────────────────────────────┐
//   │ timer: TimerNode (24 B)       │ bytes 24..63: owned by TCP (issue 6):   │
//   │ kind TIMER_KIND_TIME_WAIT,    │ tuple, sndNxt, rcvNxt, TS.Recent, ...   │
//   │ flags TW_NODE_FLAG, owner = h │ (zeroed on acquire)                     │
//   └──────────────────────────────┴─────────────────────────────────────────┘
//   0                              24                                        64
//
// The node's `flags` byte carries TW_NODE_FLAG so the dispatcher can tell this node
// from the TIME-WAIT node inside a Tcb (same kind). Release cancels the node first.

import { Slab, slabCarve, slabAcquire, slabRelease, slabCheck, slabAt, slabBytes, handleIndex } from "./slab";
import { TimerNode, timerInit, TIMER_KIND_TIME_WAIT } from "../time/timer";
import { timers } from "../time/clock";
import { OK, E_TIMEWAIT_EXHAUSTED, E_STALE_HANDLE, setLastError } from "../errors";
import { count, C_TIMEWAIT_EXHAUSTED, C_STALE_HANDLE, C_INVALID_HANDLE } from "./stats";

export const TW_RECORD_SIZE: u32 = 64;
export const TW_TIMER_OFF: usize = 0;
export const TW_OWNER_AREA_OFF: usize = 24;
/** TimerNode.flags value marking a TIME-WAIT record's node. */
export const TW_NODE_FLAG: u8 = 0x80;

let slab: Slab = changetype<Slab>(0);

export function timeWaitBytes(maxTimeWait: u32): u64 {
  return slabBytes(maxTimeWait, TW_RECORD_SIZE);
}

export function timeWaitInit(maxTimeWait: u32): void {
  slab = slabCarve(maxTimeWait, TW_RECORD_SIZE);
}

/** A zeroed record with an idle timer node owned by its handle, or 0 (lastError E_TIMEWAIT_EXHAUSTED, counted). */
export function timeWaitAcquire(): u32 {
  const h = slabAcquire(slab);
  if (h == 0) {
    count(C_TIMEWAIT_EXHAUSTED);
    setLastError(E_TIMEWAIT_EXHAUSTED);
    return 0;
  }
  const p = slabAt(slab, handleIndex(h));
  memory.fill(p, 0, TW_RECORD_SIZE);
  timerInit(p + TW_TIMER_OFF, TIMER_KIND_TIME_WAIT, h);
  changetype<TimerNode>(p + TW_TIMER_OFF).flags = TW_NODE_FLAG;
  return h;
}

/** The record of `h`, or 0 for a bad or stale handle (counted). */
export function timeWaitPtr(h: u32): usize {
  const rc = slabCheck(slab, h);
  if (rc == OK) return slabAt(slab, handleIndex(h));
  count(rc == E_STALE_HANDLE ? C_STALE_HANDLE : C_INVALID_HANDLE);
  return 0;
}

/** Cancels the record's timer and frees it; `h` becomes stale. */
export function timeWaitRelease(h: u32): i32 {
  const rc = slabCheck(slab, h);
  if (rc != OK) {
    count(rc == E_STALE_HANDLE ? C_STALE_HANDLE : C_INVALID_HANDLE);
    return rc;
  }
  timers.cancel(slabAt(slab, handleIndex(h)) + TW_TIMER_OFF);
  return slabRelease(slab, h);
}

export function timeWaitInUse(): u32 {
  return slab.inUse;
}

export function timeWaitSlab(): Slab {
  return slab;
}


