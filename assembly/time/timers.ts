// The stack's timer service: one interface over the V2 wheel or the V1 list,
// chosen at init by configuration (the mission's `use_timer_wheel_v2` flag), plus
// FIFO_QUEUES constant-delay queues (time/fifo.ts) whose heads the wheel fires.
// Every owner (TCP endpoints, syncache, ARP cache, reassembly) goes through this.
//
// Time unit: 1 tick = 1 ms. The host's µs clock enters through tick(nowUs) in
// index.ts, which calls advanceTo(nowUs / 1000).
//
// Counters: totalScheduled / totalCancelled / totalExpired are the wheel's (or
// list's) own operations — the queue heads' nodes included. fifoScheduled /
// fifoCancelled / fifoExpired count the constant-delay queues' appends, unlinks of
// linked nodes and pops. `active` counts the owners' armed timers: wheel nodes
// without the queue heads' nodes, plus the nodes in the queues.

import { TimerNode, TimerHandler, NO_TIMER, LEVEL_IDLE, LEVEL_FIFO, timerIsActive } from "./timer";
import { TimerWheel, TickCounts, MAX_DELAY } from "./wheel";
import { TimerList } from "./list";
import { TimerFifo, FIFO_QUEUES } from "./fifo";

// The wheel/list hands a queue head's node (kind TIMER_KIND_FIFO_HEAD) to its
// headHandler: the node's owner is its timer service, its flags byte the queue.
function fifoHeadFired(node: usize): void {
  const n = changetype<TimerNode>(node);
  changetype<Timers>(<usize>n.owner).fifoFire(<u32>n.flags);
}

export class Timers {
  readonly useWheel: bool;
  private wheel: TimerWheel | null = null;
  private list: TimerList | null = null;
  private fifos: StaticArray<TimerFifo> = new StaticArray<TimerFifo>(FIFO_QUEUES);
  /** Constant-delay queues: appends, unlinks of linked nodes, pops (expiries). */
  fifoScheduled: u64 = 0;
  fifoCancelled: u64 = 0;
  fifoExpired: u64 = 0;
  /** Times a queue head's node fired (wheel expiries that are not owners' timers). */
  fifoHeadFires: u64 = 0;
  /** The owners' handler (queue pops go to it; the wheel/list calls it for its own nodes). */
  private handler: TimerHandler;

  constructor(useWheel: bool, startTick: u64, handler: TimerHandler) {
    this.useWheel = useWheel;
    this.handler = handler;
    for (let i: u32 = 0; i < FIFO_QUEUES; i++) unchecked(this.fifos[i] = new TimerFifo(i, <u32>changetype<usize>(this)));
    if (useWheel) {
      const w = new TimerWheel(startTick, handler);
      w.headHandler = fifoHeadFired;
      this.wheel = w;
    } else {
      const l = new TimerList(startTick, handler);
      l.headHandler = fifoHeadFired;
      this.list = l;
    }
  }

  @inline private qSchedule(p: usize, delayMs: u64): void {
    if (this.useWheel) changetype<TimerWheel>(this.wheel).schedule(p, delayMs);
    else changetype<TimerList>(this.list).schedule(p, delayMs);
  }

  @inline private qCancel(p: usize): void {
    if (this.useWheel) changetype<TimerWheel>(this.wheel).cancel(p);
    else changetype<TimerList>(this.list).cancel(p);
  }

  /** Arms `p` in the wheel (list) `delayMs` from now; an armed node (anywhere) is cancelled first. */
  @inline schedule(p: usize, delayMs: u64): void {
    if (changetype<TimerNode>(p).level == LEVEL_FIFO) this.fifoUnlink(p);
    this.qSchedule(p, delayMs);
  }

  /** Disarms `p`, in the wheel (list) or in its queue; a no-op when it is idle. */
  @inline cancel(p: usize): void {
    const level = changetype<TimerNode>(p).level;
    if (level == LEVEL_IDLE) return;
    if (level == LEVEL_FIFO) this.fifoUnlink(p);
    else this.qCancel(p);
  }

  /**
   * Arms `p` in constant-delay queue `q` (time/fifo.ts) to fire `delayMs` from now
   * (clamped like the wheel's: 0 → 1, above u32 max → u32 max); an armed node is
   * cancelled first. O(1) when every node of the queue gets the same delay. A `q`
   * out of range arms the node in the wheel instead.
   */
  scheduleFifo(q: u32, p: usize, delayMs: u64): void {
    if (q >= FIFO_QUEUES) { this.schedule(p, delayMs); return; }
    this.cancel(p);
    if (delayMs == 0) delayMs = 1;
    else if (delayMs > MAX_DELAY) delayMs = MAX_DELAY;
    const now = this.now;
    const e = now + delayMs;
    const f = unchecked(this.fifos[q]);
    this.fifoScheduled++;
    if (f.insert(p, e, now, q)) {
      const h = f.headNode;
      if (!timerIsActive(h) || changetype<TimerNode>(h).expiresAt - now > delayMs) this.qSchedule(h, delayMs);
    }
  }

  private fifoUnlink(p: usize): void {
    const q = <u32>changetype<TimerNode>(p).slot;
    if (q >= FIFO_QUEUES) { changetype<TimerNode>(p).level = LEVEL_IDLE; return; } // never linked by scheduleFifo
    unchecked(this.fifos[q]).unlink(p);
    this.fifoCancelled++;
  }

  /** Queue `q`'s head node fired: pop and hand over every node that is due, re-arm for the next. */
  fifoFire(q: u32): void {
    if (q >= FIFO_QUEUES) return;
    const f = unchecked(this.fifos[q]);
    this.fifoHeadFires++;
    const now = this.now;
    while (true) {
      const p = f.head;
      if (p == 0) break;
      const e = changetype<TimerNode>(p).expiresAt;
      if (<i64>(now - e) < 0) break; // not due (the head it was armed for went)
      f.unlink(p);
      this.fifoExpired++;
      this.handler(p); // may append (to the tail) or unlink others
    }
    const p = f.head;
    if (p != 0 && !timerIsActive(f.headNode)) {
      this.qSchedule(f.headNode, changetype<TimerNode>(p).expiresAt - now);
    }
  }

  /** Nodes waiting in queue `q` (0 for an unknown queue). */
  fifoCount(q: u32): u32 {
    return q < FIFO_QUEUES ? unchecked(this.fifos[q]).count : 0;
  }

  /** Queue `q`'s head node (specs and the bench probe), 0 for an unknown queue. */
  fifoHeadNode(q: u32): usize {
    return q < FIFO_QUEUES ? unchecked(this.fifos[q]).headNode : 0;
  }

  /** Expiries of owners' timers in the last tick()/tickTo(): wheel (list) nodes and queue pops. */
  @inline private owned(fired: u32, heads0: u64, pops0: u64): u32 {
    return fired - <u32>(this.fifoHeadFires - heads0) + <u32>(this.fifoExpired - pops0);
  }

  tick(): u32 {
    const h0 = this.fifoHeadFires, p0 = this.fifoExpired;
    const r = this.useWheel ? changetype<TimerWheel>(this.wheel).tick() : changetype<TimerList>(this.list).tick();
    return this.owned(r, h0, p0);
  }

  tickTo(t: u64): u32 {
    const h0 = this.fifoHeadFires, p0 = this.fifoExpired;
    const r = this.useWheel ? changetype<TimerWheel>(this.wheel).tickTo(t) : changetype<TimerList>(this.list).tickTo(t);
    return this.owned(r, h0, p0);
  }

  /**
   * Ticks until the earliest pending queue event, or NO_TIMER. Exact for wheel (list)
   * nodes; a queue contributes its head node's tick, which is never later than its
   * head's expiry and earlier only after the head was cancelled (the node then fires,
   * finds nothing due and re-arms).
   */
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

  /** Armed timers of the owners: wheel (list) nodes other than the queue heads', plus queued nodes. */
  get active(): u32 {
    let n = this.useWheel ? changetype<TimerWheel>(this.wheel).active : changetype<TimerList>(this.list).active;
    for (let i: u32 = 0; i < FIFO_QUEUES; i++) {
      const f = unchecked(this.fifos[i]);
      if (timerIsActive(f.headNode)) n--;
      n += f.count;
    }
    return n;
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

  /** {expired, cascaded} of the last tick()/tickTo() (the wheel's or list's own count). */
  get last(): TickCounts {
    return this.useWheel ? changetype<TimerWheel>(this.wheel).last : changetype<TimerList>(this.list).last;
  }
}

export { NO_TIMER };
