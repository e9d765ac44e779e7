// TIME-WAIT records: a compact record per connection in TIME-WAIT (issue 6), so the
// full control block goes back to the pool when a connection enters TIME-WAIT (as
// Linux's inet_timewait_sock). The slab has its own quota (config maxTimeWait) and
// exhaustion code. tcp/timewait.ts owns the bytes after the timer node.
//
//   TIME-WAIT record (TW_RECORD_SIZE = 64 bytes)
//    0 ┌───────────────────────────────────────────────────────────────────┐
//      │ timer: TimerNode (24 B) kind TIMER_KIND_TIME_WAIT,                 │
//      │        flags TW_NODE_FLAG, owner = this record's handle            │
//   24 ├────────────────┬────────────────┬────────────────┬────────────────┤
//      │ entry          │ sndNxt         │ rcvNxt         │ tsRecent       │
//   40 ├────────────────┼────────────────┼────────┬───┬───┼────────────────┤
//      │ tsRecentAt     │ tsOffset       │ window │fl │ws │ lastOowAckAt   │
//   56 ├────────────────┼────────────────┴────────┴───┴───┴────────────────┤
//      │ enteredAt      │ reserved (4 B)                                   │
//   64 └────────────────┴──────────────────────────────────────────────────┘
//   entry:        table entry handle (ENTRY_TIMEWAIT) holding the 4-tuple
//   sndNxt:       SND.NXT of the old connection (its highest sequence + 1, FIN included)
//   rcvNxt:       RCV.NXT (the peer's FIN included)
//   tsRecent:     TS.Recent (RFC 7323 §4.3), echoed in TSecr; PAWS and RFC 6191 use it
//   tsRecentAt:   ms (low 32 bits) when tsRecent was stored (24-day rule; tw_reuse's 1 s)
//   tsOffset:     our per-connection TSval offset (RFC 7323 §5.4), so ACKs carry TSvals
//                 continuing the old connection's clock
//   window:       the window field of our ACKs (already shifted by our scale)
//   fl:           TWF_* bits (tcp/timewait.ts)      ws: our receive window shift
//   lastOowAckAt: ms of the last ACK sent to an out-of-window segment (rate limit)
//   enteredAt:    ms when the record was created (diagnostics)
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
export const TW_ENTRY_OFF: usize = 24;
export const TW_SND_NXT_OFF: usize = 28;
export const TW_RCV_NXT_OFF: usize = 32;
export const TW_TS_RECENT_OFF: usize = 36;
export const TW_TS_RECENT_AT_OFF: usize = 40;
export const TW_TS_OFFSET_OFF: usize = 44;
export const TW_WINDOW_OFF: usize = 48;
export const TW_FLAGS_OFF: usize = 50;
export const TW_WSCALE_OFF: usize = 51;
export const TW_LAST_OOW_ACK_OFF: usize = 52;
export const TW_ENTERED_AT_OFF: usize = 56;
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
  const h = timeWaitReady() ? slabAcquire(slab) : 0;
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
  if (!timeWaitReady()) return 0;
  const rc = slabCheck(slab, h);
  if (rc == OK) return slabAt(slab, handleIndex(h));
  count(rc == E_STALE_HANDLE ? C_STALE_HANDLE : C_INVALID_HANDLE);
  return 0;
}

/** Cancels the record's timer and frees it; `h` becomes stale. */
export function timeWaitRelease(h: u32): i32 {
  if (!timeWaitReady()) return E_STALE_HANDLE;
  const rc = slabCheck(slab, h);
  if (rc != OK) {
    count(rc == E_STALE_HANDLE ? C_STALE_HANDLE : C_INVALID_HANDLE);
    return rc;
  }
  timers.cancel(slabAt(slab, handleIndex(h)) + TW_TIMER_OFF);
  return slabRelease(slab, h);
}

export function timeWaitInUse(): u32 {
  return changetype<usize>(slab) == 0 ? 0 : slab.inUse;
}

/** True once timeWaitInit carved the slab (the engine then keeps compact records). */
export function timeWaitReady(): bool {
  return changetype<usize>(slab) != 0 && slab.capacity > 0;
}

/** Records the slab holds (config maxTimeWait), 0 before init. */
export function timeWaitCapacity(): u32 {
  return changetype<usize>(slab) == 0 ? 0 : slab.capacity;
}

/** Bytes one record costs in the slab: the record plus its handle word. */
export function timeWaitRecordBytes(): u32 {
  return TW_RECORD_SIZE + 4;
}

export function timeWaitSlab(): Slab {
  return slab;
}


