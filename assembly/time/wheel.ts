// TimerWheel V2: hierarchical, bitmask-indexed timer wheel (SPEC §3).
//
// 4 levels × 256 slots, 1 tick = 1 ms. Level L slot width = 256^L ticks:
//
//   level │ slot width  │ range covered   │ holds delays d (ticks)
//   ──────┼─────────────┼─────────────────┼──────────────────────────
//     0   │ 1 ms        │ 256 ms          │ 1 ≤ d < 2^8
//     1   │ 256 ms      │ ~65.5 s         │ 2^8 ≤ d < 2^16
//     2   │ ~65.5 s     │ ~4.66 h         │ 2^16 ≤ d < 2^24
//     3   │ ~4.66 h     │ ~49.7 days      │ 2^24 ≤ d ≤ 2^32 − 1 (delays are clamped)
//
// Memory (carved once in the constructor, never grown):
//
//   heads: 4 × 256 × u32 (address of the first node of each slot list, 0 = empty)
//   ┌─────────────── level 0 ───────────────┬─ level 1 ─┬─ level 2 ─┬─ level 3 ─┐
//   │ slot0 slot1 ...              slot255  │    ...    │    ...    │    ...    │
//   └───────────────────────────────────────┴───────────┴───────────┴───────────┘
//   0                                       1024        2048        3072       4096 B
//
//   masks: 4 levels × 4 × u64 occupancy words (bit s of level L set ⇔ slot s non-empty)
//   ┌ L0 w0 ┬ L0 w1 ┬ L0 w2 ┬ L0 w3 ┬ L1 w0 ┬ ... ┬ L3 w3 ┐
//   └───────┴───────┴───────┴───────┴───────┴─────┴───────┘  128 B
//
// Placement. A timer with expiry e, scheduled when the wheel stands at tick T with
// d = e − T, goes to level L = ⌊log2(d) / 8⌋ (the lowest level whose range covers d)
// at slot (e >> 8L) & 255. Because d < 256^(L+1), the value e >> 8L lies in
// (T >> 8L, (T >> 8L) + 256], one value per slot index: a slot therefore never holds
// timers of two different rounds, and the slot index alone tells when the slot is due.
//
// Processing tick T (T = the new value of `elapsed`):
//   1. for L = 3, 2, 1: if the low 8L bits of T are zero, level L has just entered
//      slot s = (T >> 8L) & 255: every timer in it is re-inserted by its exact expiry
//      relative to T (cascading). Its remaining delay is < 256^L, so it lands in a
//      lower level; a timer with e == T lands in level-0 slot T & 255.
//   2. level-0 slot T & 255 holds exactly the timers with e == T: pop and fire each.
// Cascading therefore never moves a timer early or late: it fires exactly at e.
//
// tickTo(t) jumps from event to event: the next event is the nearest of (a) the next
// occupied level-0 slot, (b) for each higher level, the start tick of its next
// occupied slot. Both come from the masks with one ctz each (findNext), so a jump
// over an idle hour costs O(occupied slots), not O(elapsed ticks).
//
// All tick arithmetic is on u64 modulo 2^64: distances (x − elapsed) are compared,
// never absolute values, so the wheel keeps working across the 2^64 boundary.

import {
  TimerNode, TimerHandler, LEVEL_IDLE, NO_TIMER, TIMER_KIND_FIFO_HEAD,
} from "./timer";

export const WHEEL_LEVELS: u32 = 4;
export const WHEEL_SLOTS: u32 = 256;
export const WHEEL_SLOT_BITS: u32 = 8;
/** Largest delay accepted; larger ones are clamped (SPEC §3). */
export const MAX_DELAY: u64 = <u64>u32.MAX_VALUE;

const HEADS_BYTES: usize = <usize>(WHEEL_LEVELS * WHEEL_SLOTS) << 2;
const MASK_BYTES: usize = <usize>WHEEL_LEVELS * 4 * 8;

/** Counts of one tick()/tickTo() call (the {expired, cascaded} part of the result). */
export class TickCounts {
  expired: u32 = 0;
  cascaded: u32 = 0;
}

export class TimerWheel {
  /** Base of the 1024 slot list heads (u32 node addresses). */
  private heads: usize;
  /** Base of the 16 u64 occupancy words. */
  private masks: usize;
  /** The current tick: every timer with expiresAt ≤ elapsed has fired. */
  elapsed: u64;
  /** Number of linked (active) timers. */
  active: u32 = 0;
  /** Totals since construction (stats). */
  totalExpired: u64 = 0;
  totalCascaded: u64 = 0;
  /** schedule() calls and cancels of active nodes since construction (timer-cost census). */
  totalScheduled: u64 = 0;
  totalCancelled: u64 = 0;
  /** True while tick()/tickTo() runs: a handler's own tick()/tickTo() is refused. */
  private advancing: bool = false;
  /** tick()/tickTo() calls refused because a handler made them (time only moves from outside). */
  refusedReentrant: u32 = 0;
  /** Ticks actually processed (visited) since construction: tickTo skips empty ones. */
  visited: u64 = 0;
  /** Result of the last tick()/tickTo(). */
  readonly last: TickCounts = new TickCounts();
  /** Called for every expired node after it is unlinked. */
  handler: TimerHandler;
  /** Called instead of `handler` for a constant-delay queue's head node (time/timers.ts). */
  headHandler: TimerHandler;

  // Per-level cache of the minimum expiry in the level's first occupied slot, so that
  // the exact nextExpiration() does not rescan a slot list on every call. Valid while
  // cacheSlot[L] is that slot and no node with the cached minimum has left it.
  private cacheValid: StaticArray<bool> = new StaticArray<bool>(4);
  private cacheSlot: StaticArray<u32> = new StaticArray<u32>(4);
  private cacheMin: StaticArray<u64> = new StaticArray<u64>(4);

  constructor(startTick: u64, handler: TimerHandler) {
    this.handler = handler;
    this.headHandler = handler;
    this.elapsed = startTick;
    const heads = heap.alloc(HEADS_BYTES);
    const masks = heap.alloc(MASK_BYTES);
    memory.fill(heads, 0, HEADS_BYTES);
    memory.fill(masks, 0, MASK_BYTES);
    this.heads = heads;
    this.masks = masks;
  }

  /** Bytes of linear memory the wheel itself holds (nodes live in their owners). */
  static get footprintBytes(): usize {
    return HEADS_BYTES + MASK_BYTES;
  }

  // ── slot lists and masks ────────────────────────────────────────────────────

  @inline private headAt(level: u32, slot: u32): usize {
    return this.heads + (((level << WHEEL_SLOT_BITS) | slot) << 2);
  }

  @inline private maskAt(level: u32, word: u32): usize {
    return this.masks + (((level << 2) | word) << 3);
  }

  @inline private setBit(level: u32, slot: u32): void {
    const m = this.maskAt(level, slot >> 6);
    store<u64>(m, load<u64>(m) | (<u64>1 << (slot & 63)));
  }

  @inline private clearBit(level: u32, slot: u32): void {
    const m = this.maskAt(level, slot >> 6);
    store<u64>(m, load<u64>(m) & ~(<u64>1 << (slot & 63)));
  }

  /**
   * The first occupied slot of `level` at or after `from` (0..256), wrapping around
   * to the slots before `from`; -1 if the level is empty. One ctz on the one non-zero
   * masked word it stops at; the rest are word compares.
   */
  findNext(level: u32, from: u32): i32 {
    const w0 = from >> 6;
    if (w0 < 4) {
      let m = load<u64>(this.maskAt(level, w0)) & (u64.MAX_VALUE << (from & 63));
      if (m != 0) return <i32>((w0 << 6) + <u32>ctz(m));
      for (let w = w0 + 1; w < 4; w++) {
        m = load<u64>(this.maskAt(level, w));
        if (m != 0) return <i32>((w << 6) + <u32>ctz(m));
      }
    }
    // Wrap: slots [0, from).
    const wEnd = w0 < 4 ? w0 : 3;
    for (let w: u32 = 0; w <= wEnd; w++) {
      let m = load<u64>(this.maskAt(level, w));
      if (w == w0) m &= ~(u64.MAX_VALUE << (from & 63));
      if (m != 0) return <i32>((w << 6) + <u32>ctz(m));
    }
    return -1;
  }

  /** Links `p` (idle) with expiry `e` ≥ elapsed into its level and slot. */
  private link(p: usize, e: u64): void {
    const n = changetype<TimerNode>(p);
    const d = e - this.elapsed;
    const level: u32 = d < 256 ? 0 : min<u32>(<u32>(63 - clz(d)) >> 3, 3);
    const slot = <u32>(e >> (<u64>level << 3)) & 255;
    const h = this.headAt(level, slot);
    const first = load<usize>(h);
    n.expiresAt = e;
    n.level = <u8>level;
    n.slot = <u8>slot;
    n.prev = 0;
    n.next = first;
    if (first != 0) changetype<TimerNode>(first).prev = p;
    else this.setBit(level, slot);
    store<usize>(h, p);
    if (level != 0 && unchecked(this.cacheValid[level]) && unchecked(this.cacheSlot[level]) == slot
        && e - this.elapsed < unchecked(this.cacheMin[level]) - this.elapsed) {
      unchecked(this.cacheMin[level] = e);
    }
  }

  /** Unlinks active node `p` and marks it idle. */
  private unlink(p: usize): void {
    const n = changetype<TimerNode>(p);
    const level = <u32>n.level;
    const slot = <u32>n.slot;
    const prev = n.prev, next = n.next;
    if (prev != 0) changetype<TimerNode>(prev).next = next;
    else {
      store<usize>(this.headAt(level, slot), next);
      if (next == 0) this.clearBit(level, slot);
    }
    if (next != 0) changetype<TimerNode>(next).prev = prev;
    n.next = 0;
    n.prev = 0;
    n.level = LEVEL_IDLE;
    if (level != 0 && unchecked(this.cacheSlot[level]) == slot && n.expiresAt == unchecked(this.cacheMin[level])) {
      unchecked(this.cacheValid[level] = false);
    }
  }

  // ── public API ───────────────────────────────────────────────────────────────

  /**
   * Arms node `p` to fire `delay` ticks from now. Delay 0 is clamped to 1 (never the
   * slot being processed) and delays above u32 max are clamped to u32 max. An active
   * node is cancelled first. O(1).
   */
  schedule(p: usize, delay: u64): void {
    if (changetype<TimerNode>(p).level != LEVEL_IDLE) this.cancel(p);
    if (delay == 0) delay = 1;
    else if (delay > MAX_DELAY) delay = MAX_DELAY;
    this.link(p, this.elapsed + delay);
    this.active++;
    this.totalScheduled++;
  }

  /** Disarms node `p`; a no-op when it is idle. O(1). */
  cancel(p: usize): void {
    if (changetype<TimerNode>(p).level == LEVEL_IDLE) return;
    this.unlink(p);
    this.active--;
    this.totalCancelled++;
  }

  /** Advances one tick, firing what is due. Returns the number of timers fired. */
  tick(): u32 {
    if (this.advancing) { this.refusedReentrant++; return 0; }
    this.advancing = true;
    this.last.expired = 0;
    this.last.cascaded = 0;
    this.elapsed += 1;
    this.process(this.elapsed);
    this.advancing = false;
    return this.last.expired;
  }

  /**
   * Advances to tick `t`, visiting only ticks where an occupied slot is due (found
   * via the masks). A `t` in the past (or now) is a no-op; "past" means t − now,
   * taken as a signed 64-bit distance, is ≤ 0 (the host's ms clock is far below
   * 2^63, so a forward jump is never mistaken for the past). Called from inside a
   * handler it is refused (returns 0, counted in refusedReentrant): time only
   * moves from outside. Returns timers fired.
   */
  tickTo(t: u64): u32 {
    if (this.advancing) { this.refusedReentrant++; return 0; }
    this.last.expired = 0;
    this.last.cascaded = 0;
    const span = t - this.elapsed;
    if (<i64>span <= 0) return 0;
    this.advancing = true;
    while (true) {
      const ev = this.nextEventDistance();
      if (ev > t - this.elapsed) break; // also when ev == NO_TIMER
      this.elapsed += ev;
      this.process(this.elapsed);
    }
    this.elapsed = t;
    this.advancing = false;
    return this.last.expired;
  }

  /**
   * Ticks until the next point where the wheel has work (an occupied level-0 slot's
   * expiry or a higher level's next occupied slot start), or NO_TIMER. Never later
   * than nextExpiration(); the host may sleep on it (waking at a cascade point is
   * harmless: nothing fires early).
   */
  nextEventDistance(): u64 {
    const now = this.elapsed;
    if (this.dueNow()) return 0;
    // Fast path: an occupied level-0 slot before level 0 wraps is the next event,
    // since every higher-level event lies on a multiple of 256 at or after the wrap.
    const cur0 = <u32>now & 255;
    if (cur0 < 255) {
      const s0 = this.findNext(0, cur0 + 1);
      if (<u32>s0 > cur0 && s0 >= 0) return <u64>(<u32>s0 - cur0);
    }
    let best = NO_TIMER;
    for (let level: u32 = 0; level < WHEEL_LEVELS; level++) {
      const shift = <u64>(level << 3);
      const cur = <u32>(now >> shift) & 255;
      const s = this.findNext(level, cur + 1);
      if (s < 0) continue;
      const k = <u64>((<u32>s - cur - 1) & 255) + 1; // slots ahead, 1..256
      const at = ((now >> shift) + k) << shift;
      const dist = at - now;
      if (dist < best) best = dist;
    }
    return best;
  }

  /** Exact ticks until the earliest pending timer fires, or NO_TIMER. */
  nextExpiration(): u64 {
    let best = NO_TIMER;
    const now = this.elapsed;
    if (this.dueNow()) return 0;
    for (let level: u32 = 0; level < WHEEL_LEVELS; level++) {
      const shift = <u64>(level << 3);
      const cur = <u32>(now >> shift) & 255;
      const s = this.findNext(level, cur + 1);
      if (s < 0) continue;
      const k = <u64>((<u32>s - cur - 1) & 255) + 1;
      const lower = (((now >> shift) + k) << shift) - now;
      if (level == 0) { best = lower; continue; } // level-0 slots are exact
      if (lower >= best) continue; // this level cannot beat what we have
      const e = this.slotMin(level, <u32>s);
      const dist = e - now;
      if (dist < best) best = dist;
    }
    return best;
  }

  /**
   * True when the level-0 slot of the current tick still holds timers: only while a
   * handler runs (its slot-mates are due now and not yet popped); otherwise that slot
   * is always empty.
   */
  @inline private dueNow(): bool {
    return load<usize>(this.headAt(0, <u32>this.elapsed & 255)) != 0;
  }

  /** Minimum expiry in slot `s` of `level` (≥ 1), cached per level. */
  private slotMin(level: u32, s: u32): u64 {
    if (unchecked(this.cacheValid[level]) && unchecked(this.cacheSlot[level]) == s) {
      return unchecked(this.cacheMin[level]);
    }
    const now = this.elapsed;
    let p = load<usize>(this.headAt(level, s));
    let m = changetype<TimerNode>(p).expiresAt;
    p = changetype<TimerNode>(p).next;
    while (p != 0) {
      const e = changetype<TimerNode>(p).expiresAt;
      if (e - now < m - now) m = e;
      p = changetype<TimerNode>(p).next;
    }
    unchecked(this.cacheValid[level] = true);
    unchecked(this.cacheSlot[level] = s);
    unchecked(this.cacheMin[level] = m);
    return m;
  }

  /** Processes tick `t` (== elapsed): cascades due higher-level slots, then fires. */
  private process(t: u64): void {
    this.visited++;
    // 1. Cascade, top level first, at each level whose slot boundary t is.
    if ((t & 0xff) == 0) {
      for (let level: i32 = 3; level >= 1; level--) {
        const shift = <u64>(level << 3);
        if ((t & ((<u64>1 << shift) - 1)) != 0) continue;
        this.cascade(<u32>level, <u32>(t >> shift) & 255);
      }
    }
    // 2. Fire level-0 slot t & 255: it holds exactly the timers with expiresAt == t.
    // Pop one node at a time so a handler may cancel any other node of this slot
    // or schedule any node (none can land in this slot: every delay is ≥ 1).
    const h = this.headAt(0, <u32>t & 255);
    let p = load<usize>(h);
    while (p != 0) {
      assert(changetype<TimerNode>(p).expiresAt == t, "timer in wrong level-0 slot");
      this.unlink(p);
      this.active--;
      this.last.expired++;
      this.totalExpired++;
      if (changetype<TimerNode>(p).kind == TIMER_KIND_FIFO_HEAD) this.headHandler(p);
      else this.handler(p);
      p = load<usize>(h);
    }
  }

  /** Re-inserts every node of `level`/`slot` by exact expiry relative to elapsed. */
  private cascade(level: u32, slot: u32): void {
    const h = this.headAt(level, slot);
    let p = load<usize>(h);
    if (p == 0) return;
    store<usize>(h, 0);
    this.clearBit(level, slot);
    unchecked(this.cacheValid[level] = false);
    let moved: u32 = 0;
    while (p != 0) {
      const next = changetype<TimerNode>(p).next;
      const e = changetype<TimerNode>(p).expiresAt;
      assert(e - this.elapsed < (<u64>1 << (<u64>level << 3)), "cascade: timer not due in this round");
      this.link(p, e); // e − elapsed < 256^level: lands in a lower level
      moved++;
      p = next;
    }
    this.last.cascaded += moved;
    this.totalCascaded += moved;
  }

  /** Level the node is linked at (LEVEL_IDLE if none), for tests. */
  levelOf(p: usize): u8 {
    return changetype<TimerNode>(p).level;
  }
}
