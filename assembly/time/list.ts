// TimerList V1: the naive timer queue, kept only so benchmarks can show what the
// wheel buys (the mission's `use_timer_wheel_v2 = false`).
//
// One doubly linked list of the same intrusive TimerNodes, sorted by expiry
// (ties in scheduling order). schedule walks from the tail back to its place: O(n)
// in general, O(1) when timers are scheduled in expiry order.
// cancel unlinks: O(1). tick/tickTo pop from the head: O(expired).
//
//   head ─▶ [e=5] ⇄ [e=9] ⇄ [e=9] ⇄ [e=300] ◀─ tail
//
// Semantics are identical to TimerWheel (delay clamps, reschedule cancels first,
// `elapsed` equals the node's expiry while its handler runs, tickTo to the past is a
// no-op, tick/tickTo from a handler is refused), so the same model test runs against
// both. One thing is unspecified in both: the order in which timers due on the same
// tick fire (the list fires them in scheduling order, the wheel in slot-list order).
// So switching queues may change the order of same-tick work, never its tick.

import { TimerNode, TimerHandler, LEVEL_IDLE, LEVEL_LIST, NO_TIMER, TIMER_KIND_FIFO_HEAD } from "./timer";
import { MAX_DELAY, TickCounts } from "./wheel";

export class TimerList {
  private head: usize = 0;
  private tail: usize = 0;
  elapsed: u64;
  active: u32 = 0;
  totalExpired: u64 = 0;
  totalScheduled: u64 = 0;
  totalCancelled: u64 = 0;
  readonly last: TickCounts = new TickCounts();
  handler: TimerHandler;
  /** Called instead of `handler` for a constant-delay queue's head node (time/timers.ts). */
  headHandler: TimerHandler;
  private advancing: bool = false;
  refusedReentrant: u32 = 0;

  constructor(startTick: u64, handler: TimerHandler) {
    this.elapsed = startTick;
    this.handler = handler;
    this.headHandler = handler;
  }

  schedule(p: usize, delay: u64): void {
    const n = changetype<TimerNode>(p);
    if (n.level != LEVEL_IDLE) this.cancel(p);
    this.totalScheduled++;
    if (delay == 0) delay = 1;
    else if (delay > MAX_DELAY) delay = MAX_DELAY;
    const now = this.elapsed;
    const e = now + delay;
    // Walk back from the tail to the last node expiring no later (ties keep FIFO order).
    let prev = this.tail;
    while (prev != 0 && changetype<TimerNode>(prev).expiresAt - now > delay) prev = changetype<TimerNode>(prev).prev;
    const q = prev != 0 ? changetype<TimerNode>(prev).next : this.head;
    n.expiresAt = e;
    n.level = LEVEL_LIST;
    n.slot = 0;
    n.next = q;
    n.prev = prev;
    if (prev != 0) changetype<TimerNode>(prev).next = p; else this.head = p;
    if (q != 0) changetype<TimerNode>(q).prev = p; else this.tail = p;
    this.active++;
  }

  cancel(p: usize): void {
    if (changetype<TimerNode>(p).level == LEVEL_IDLE) return;
    this.unlinkNode(p);
    this.totalCancelled++;
  }

  private unlinkNode(p: usize): void {
    const n = changetype<TimerNode>(p);
    const prev = n.prev, next = n.next;
    if (prev != 0) changetype<TimerNode>(prev).next = next; else this.head = next;
    if (next != 0) changetype<TimerNode>(next).prev = prev; else this.tail = prev;
    n.next = 0;
    n.prev = 0;
    n.level = LEVEL_IDLE;
    this.active--;
  }

  tick(): u32 {
    return this.tickTo(this.elapsed + 1);
  }

  tickTo(t: u64): u32 {
    if (this.advancing) { this.refusedReentrant++; return 0; }
    this.last.expired = 0;
    this.last.cascaded = 0;
    if (<i64>(t - this.elapsed) <= 0) return 0;
    this.advancing = true;
    while (this.head != 0) {
      const p = this.head;
      const e = changetype<TimerNode>(p).expiresAt;
      if (e - this.elapsed > t - this.elapsed) break;
      this.elapsed = e;
      this.unlinkNode(p);
      this.last.expired++;
      this.totalExpired++;
      if (changetype<TimerNode>(p).kind == TIMER_KIND_FIFO_HEAD) this.headHandler(p);
      else this.handler(p);
    }
    this.elapsed = t;
    this.advancing = false;
    return this.last.expired;
  }

  nextExpiration(): u64 {
    return this.head == 0 ? NO_TIMER : changetype<TimerNode>(this.head).expiresAt - this.elapsed;
  }
}
