// Constant-delay timer queues (FIFOs) beside the wheel.
//
// A timer whose delay is the same for every node of its kind — the delayed ACK
// (delAckMs) and the 2 MSL timers (timeWaitMs: TIME-WAIT records and Tcbs, the
// orphaned FIN-WAIT-2 timeout) — expires in the order it was armed. Such nodes need no
// wheel slot: they go to the tail of an intrusive doubly linked list that is sorted by
// expiry because the delay is constant, and one wheel node per queue (`headNode`)
// fires for the head.
//
//   head ─▶ [e=7] ⇄ [e=7] ⇄ [e=9] ⇄ [e=12] ◀─ tail        headNode (in the wheel) at ≤ 7
//
// The nodes are the same 24-byte TimerNodes as the wheel's (embedded in their owners),
// with level = LEVEL_FIFO and slot = the queue index, so timerIsActive() and
// Timers.cancel() work on them unchanged and nothing is allocated after init.
//
// Operations (Timers.scheduleFifo / cancel, time/timers.ts):
//   append   e = now + delay; link at the tail. If the delay changed (configuration)
//            and e is earlier than the tail's expiry, walk back to keep the order
//            (O(k), only then). If the node became the head and headNode is idle or
//            later than e, (re)schedule headNode: the only wheel operation.
//   unlink   O(1). headNode is left as it is (lazy): it fires at the old head's
//            tick, finds nothing due and re-arms for the new head, which is never
//            earlier (the list is sorted).
//   headNode fires at tick T: every node with expiry ≤ T is popped and handed to the
//            owner's handler (in expiry order), then headNode is re-armed for the new
//            head. Invariant: queue non-empty ⇒ headNode armed at or before the head's
//            expiry, so every node fires exactly at its tick, as in the wheel.
//
// Restarting a node (the 2 MSL restart on a retransmitted FIN) is an unlink and an
// append. Nodes must be idle (cancelled) before their memory is reused, as for the
// wheel (tcbCancelTimers, timeWaitRelease).

import { TimerNode, TIMER_NODE_SIZE, timerInit, TIMER_KIND_FIFO_HEAD, LEVEL_IDLE, LEVEL_FIFO } from "./timer";

/** Queues per timer service (time/timers.ts). */
export const FIFO_QUEUES: u32 = 2;
/** Queue of the delayed-ACK timers (tcp/rcv.ts; delay delAckMs). */
export const FIFO_DELACK: u32 = 0;
/** Queue of the 2 MSL timers (delay timeWaitMs): TIME-WAIT records and Tcbs, orphaned FIN-WAIT-2. */
export const FIFO_2MSL: u32 = 1;

export class TimerFifo {
  head: usize = 0;
  tail: usize = 0;
  /** Nodes linked. */
  count: u32 = 0;
  /**
   * The wheel (or list) node that fires for the head: kind TIMER_KIND_FIFO_HEAD, owner =
   * the timer service (its address), flags = the queue index (time/timers.ts fifoHeadFired).
   */
  readonly headNode: usize;

  constructor(index: u32, service: u32) {
    const n = heap.alloc(TIMER_NODE_SIZE);
    timerInit(n, TIMER_KIND_FIFO_HEAD, service);
    changetype<TimerNode>(n).flags = <u8>index;
    this.headNode = n;
  }

  /**
   * Links idle node `p` with expiry `e` (≥ now) into queue `index`, keeping the list
   * sorted (ties in arrival order). Returns true when `p` became the head.
   */
  insert(p: usize, e: u64, now: u64, index: u32): bool {
    const n = changetype<TimerNode>(p);
    const d = e - now;
    let prev = this.tail;
    // Constant delay: the tail expires no later, the loop does not run.
    while (prev != 0 && changetype<TimerNode>(prev).expiresAt - now > d) prev = changetype<TimerNode>(prev).prev;
    const next = prev != 0 ? changetype<TimerNode>(prev).next : this.head;
    n.expiresAt = e;
    n.level = LEVEL_FIFO;
    n.slot = <u8>index;
    n.prev = prev;
    n.next = next;
    if (prev != 0) changetype<TimerNode>(prev).next = p; else this.head = p;
    if (next != 0) changetype<TimerNode>(next).prev = p; else this.tail = p;
    this.count++;
    return prev == 0;
  }

  /** Unlinks node `p` (linked in this queue) and marks it idle. */
  unlink(p: usize): void {
    const n = changetype<TimerNode>(p);
    const prev = n.prev, next = n.next;
    if (prev != 0) changetype<TimerNode>(prev).next = next; else this.head = next;
    if (next != 0) changetype<TimerNode>(next).prev = prev; else this.tail = prev;
    n.next = 0;
    n.prev = 0;
    n.level = LEVEL_IDLE;
    this.count--;
  }
}
