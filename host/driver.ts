// The tick loop (SPEC §2): moves frames between a Link and the core's rings, calls
// tick(nowUs) once per step, and hands the events to the API layer.
//
//   one step(nowUs)
//   ┌────────────────────────────────────────────────────────────────────────────────┐
//   │ 1 RX   free = slots − (head − tail)                                              │
//   │        link.receiveBatch(rxViews, lengths, head & mask, free)  frames are read   │
//   │        straight into the RX slots' frame areas (views of linear memory);        │
//   │        per frame: slot.len = n, slot.timeUs = nowUs; then head += n (publish)    │
//   │ 2 tick core.tick(nowUs): ingress of every RX frame, timers up to now, output     │
//   │        → returns ms until the next timer work (−1: none)                         │
//   │ 3 EV   every event record (type, handle, arg0, arg1) → onEvent(...)              │
//   │        (the API may call commands here: they add TX frames)                     │
//   │ 4 TX   every TX slot: link.send(view of slot[16 .. 16+len]); tail += 1           │
//   │        (a refused frame is dropped and counted: TCP retransmits)                │
//   │ 5 host timers due at nowUs run (socket idle timeouts)                            │
//   └────────────────────────────────────────────────────────────────────────────────┘
//
// Two ways to drive steps:
// - loop mode (real clock): busy → step back to back, yielding to the event loop with
//   setImmediate between steps so other work runs; idle → await
//   link.waitReadable(ms until the next core or host timer), which polls the device
//   off the JS thread. App commands call wake(): TX frames they produced go out at
//   once and link.interrupt() ends the wait. No busy polling: an idle stack sleeps
//   in poll(2) (or on a timer for the memory link).
// - manual mode (virtual clock): nothing runs by itself; a Pump (below) steps one or
//   more stacks and moves a VirtualClock to the next due time, deterministically.
//
// Ring memory (layouts in assembly/abi.ts, docs/abi.md): header words are read and
// written through a Uint32Array over linear memory; the module carves every ring at
// init and never grows memory afterwards, but the views are rebuilt if the buffer
// ever changes (a detached ArrayBuffer has byteLength 0).

import { ABI } from "./abi.ts";
import type { Link } from "./link/link.ts";
import type { Clock } from "./link/clock.ts";
import { VirtualClock } from "./link/clock.ts";

/** What the driver needs from the core: its memory, the ABI block and tick. */
export interface DriverCore {
  readonly memory: WebAssembly.Memory;
  readonly abiBase: number;
  tick(nowUs: bigint): number;
}

/** Event consumer: called once per event record, in ring order. */
export type EventSink = (type: number, handle: number, arg0: number, arg1: number) => void;

export interface DriverStats {
  /** Steps run (one core tick each). */
  steps: number;
  /** Steps that found work (frames, events, TX or due host timers). */
  busySteps: number;
  /** Idle waits on the link, and how many ended because a frame arrived. */
  waits: number;
  wakeups: number;
  /** Frames placed in the RX ring, and TX frames handed to the link / refused by it. */
  rxFrames: number;
  txFrames: number;
  txRefused: number;
  /** Steps that found the RX ring full (frames stay queued in the device). */
  rxRingFull: number;
  /** Events dispatched. */
  events: number;
  /** Errors thrown by event handlers or host timers (caught, counted, logged once). */
  handlerErrors: number;
}

interface HostTimer {
  dueUs: number;
  fn: () => void;
  cancelled: boolean;
}

/** A cancellable host-side timer on the driver's clock. */
export interface TimerHandle {
  cancel(): void;
}

export type DriverMode = "loop" | "manual";

const setImmediateP: () => Promise<void> = typeof setImmediate === "function"
  ? () => new Promise<void>((r) => setImmediate(r))
  : () => new Promise<void>((r) => setTimeout(r, 0));

export class Driver {
  private u32!: Uint32Array;
  private buf: ArrayBufferLike | null = null;
  private rxViews: Uint8Array[] = [];
  private txViews: Uint8Array[] = [];
  private readonly rxLengths: Uint32Array;
  private readonly rxHdr: number;
  private readonly txHdr: number;
  private readonly evHdr: number;
  private rxSlots = 0;
  private txSlots = 0;
  private evSlots = 0;
  private rxSlotSize = 0;
  private txSlotSize = 0;
  private rxBase = 0;
  private txBase = 0;
  private evBase = 0;
  /** Result of the last tick: ms until the core's next timer work (−1: none). */
  private nextCoreMs = -1;
  private lastTickUs = 0;
  private hostTimers: HostTimer[] = [];
  private running = false;
  private closed = false;
  private waiting = false;
  private kicked = false;
  private loopDone: Promise<void> | null = null;
  private inStep = false;
  readonly counters: DriverStats = {
    steps: 0, busySteps: 0, waits: 0, wakeups: 0, rxFrames: 0, txFrames: 0, txRefused: 0,
    rxRingFull: 0, events: 0, handlerErrors: 0,
  };

  constructor(
    private readonly core: DriverCore,
    readonly link: Link,
    readonly clock: Clock,
    private readonly onEvent: EventSink,
    readonly mode: DriverMode = clock instanceof VirtualClock ? "manual" : "loop",
  ) {
    const base = core.abiBase;
    this.rxHdr = (base + ABI.ABI_RX_RING_OFF) >>> 2;
    this.txHdr = (base + ABI.ABI_TX_RING_OFF) >>> 2;
    this.evHdr = (base + ABI.ABI_EVENT_RING_OFF) >>> 2;
    if ((base & 3) !== 0) throw new Error("ustack: ABI block is not 4-byte aligned");
    this.refreshViews();
    this.rxLengths = new Uint32Array(this.rxSlots);
    const cap = this.rxSlotSize - ABI.SLOT_HDR_SIZE;
    if (cap < link.maxFrameLen) {
      throw new RangeError(`ustack: RX slot frame area of ${cap} bytes is smaller than the link's largest frame (${link.maxFrameLen}); raise slotSize`);
    }
  }

  /** (Re)builds the views over linear memory when the buffer changed. */
  private refreshViews(): void {
    const buffer = this.core.memory.buffer;
    if (buffer === this.buf) return;
    this.buf = buffer;
    this.u32 = new Uint32Array(buffer);
    const w = (hdr: number, off: number) => this.u32[hdr + (off >>> 2)];
    this.rxSlots = w(this.rxHdr, ABI.RING_SLOTS_OFF);
    this.txSlots = w(this.txHdr, ABI.RING_SLOTS_OFF);
    this.evSlots = w(this.evHdr, ABI.RING_SLOTS_OFF);
    this.rxSlotSize = w(this.rxHdr, ABI.RING_SLOT_SIZE_OFF);
    this.txSlotSize = w(this.txHdr, ABI.RING_SLOT_SIZE_OFF);
    this.rxBase = w(this.rxHdr, ABI.RING_BASE_OFF);
    this.txBase = w(this.txHdr, ABI.RING_BASE_OFF);
    this.evBase = w(this.evHdr, ABI.RING_BASE_OFF);
    for (const [n, what] of [[this.rxSlots, "RX"], [this.txSlots, "TX"], [this.evSlots, "event"]] as const) {
      if (n === 0 || (n & (n - 1)) !== 0) throw new Error(`ustack: ${what} ring not initialised (slots=${n})`);
    }
    const frameArea = (base: number, size: number, i: number) =>
      new Uint8Array(buffer, base + i * size + ABI.SLOT_HDR_SIZE, size - ABI.SLOT_HDR_SIZE);
    this.rxViews = Array.from({ length: this.rxSlots }, (_, i) => frameArea(this.rxBase, this.rxSlotSize, i));
    this.txViews = Array.from({ length: this.txSlots }, (_, i) => frameArea(this.txBase, this.txSlotSize, i));
  }

  // --- one step -----------------------------------------------------------------

  /**
   * One tick at `nowUs` (default: the clock): RX from the link, tick, events, TX,
   * due host timers. Returns true when it found work (the caller should step again
   * soon), false when idle.
   */
  step(nowUs: number = this.clock.nowUs()): boolean {
    if (this.closed) return false;
    if (this.inStep) { this.kicked = true; return true; } // re-entered from an event handler
    this.inStep = true;
    try {
      this.refreshViews();
      this.counters.steps++;
      this.kicked = false;
      const rx = this.receive(nowUs);
      this.nextCoreMs = this.core.tick(BigInt(Math.max(0, Math.floor(nowUs))));
      this.lastTickUs = nowUs;
      const ev = this.dispatchEvents();
      const tx = this.flushTx();
      const timers = this.runHostTimers(nowUs);
      const busy = rx > 0 || ev > 0 || tx > 0 || timers > 0 || this.kicked || this.nextCoreMs === 0;
      if (busy) this.counters.busySteps++;
      return busy;
    } finally {
      this.inStep = false;
    }
  }

  /** Fills free RX slots from the link; returns frames placed. */
  private receive(nowUs: number): number {
    const u = this.u32;
    const head = u[this.rxHdr + (ABI.RING_HEAD_OFF >>> 2)];
    const tail = u[this.rxHdr + (ABI.RING_TAIL_OFF >>> 2)];
    const used = (head - tail) >>> 0;
    const slots = this.rxSlots;
    if (used >= slots) {
      this.counters.rxRingFull++;
      return 0;
    }
    let free = slots - used;
    let placed = 0;
    let h = head;
    const lo = nowUs % 0x100000000 >>> 0;
    const hi = Math.floor(nowUs / 0x100000000) >>> 0;
    // The free slots may wrap around the end of the slot array: at most two batches.
    while (free > 0) {
      const first = h & (slots - 1);
      const count = Math.min(free, slots - first);
      const n = this.link.receiveBatch(this.rxViews, this.rxLengths, first, count);
      for (let i = 0; i < n; i++) {
        const w = (this.rxBase + (first + i) * this.rxSlotSize) >>> 2;
        u[w] = this.rxLengths[first + i]; // SLOT_LEN_OFF
        u[w + 1] = 0; // SLOT_FLAGS_OFF
        u[w + 2] = lo; // SLOT_TIME_OFF (u64 little-endian)
        u[w + 3] = hi;
      }
      placed += n;
      h = (h + n) >>> 0;
      free -= n;
      if (n < count) break;
    }
    if (placed > 0) {
      u[this.rxHdr + (ABI.RING_HEAD_OFF >>> 2)] = h; // publish after the slots are written
      this.counters.rxFrames += placed;
    }
    return placed;
  }

  /** Dispatches every pending event record; returns how many. */
  private dispatchEvents(): number {
    const u = this.u32;
    const headW = this.evHdr + (ABI.RING_HEAD_OFF >>> 2);
    const tailW = this.evHdr + (ABI.RING_TAIL_OFF >>> 2);
    let n = 0;
    // Bounded: at most one lap per call (handlers may add events; the next step takes them).
    const limit = this.evSlots;
    let tail = u[tailW];
    while (n < limit && ((u[headW] - tail) >>> 0) > 0) {
      const w = (this.evBase + (tail & (this.evSlots - 1)) * ABI.EVENT_SIZE) >>> 2;
      const type = u[w] & 0xffff;
      const handle = u[w + 1];
      const arg0 = u[w + 2];
      const arg1 = u[w + 3];
      tail = (tail + 1) >>> 0;
      u[tailW] = tail; // consume before the handler runs: it may re-enter the core
      n++;
      try {
        this.onEvent(type, handle, arg0, arg1);
      } catch (e) {
        this.handlerError(e);
      }
      if (this.buf !== this.core.memory.buffer) return n; // views changed under us: next step
    }
    this.counters.events += n;
    return n;
  }

  /** Sends every frame waiting in the TX ring; returns frames taken from the ring. */
  flushTx(): number {
    if (this.closed) return 0;
    const u = this.u32;
    const headW = this.txHdr + (ABI.RING_HEAD_OFF >>> 2);
    const tailW = this.txHdr + (ABI.RING_TAIL_OFF >>> 2);
    const head = u[headW];
    let tail = u[tailW];
    let n = 0;
    const cap = this.txSlotSize - ABI.SLOT_HDR_SIZE;
    while (tail !== head && n < this.txSlots) {
      const i = tail & (this.txSlots - 1);
      const len = u[(this.txBase + i * this.txSlotSize) >>> 2];
      if (len > 0 && len <= cap) {
        if (this.link.send(this.txViews[i].subarray(0, len))) this.counters.txFrames++;
        else this.counters.txRefused++;
      }
      tail = (tail + 1) >>> 0;
      n++;
    }
    if (n > 0) u[tailW] = tail;
    return n;
  }

  private runHostTimers(nowUs: number): number {
    if (this.hostTimers.length === 0) return 0;
    let ran = 0;
    // Due timers in due order; a callback may add timers (they run on a later step).
    const due = this.hostTimers.filter((t) => !t.cancelled && t.dueUs <= nowUs).sort((a, b) => a.dueUs - b.dueUs);
    this.hostTimers = this.hostTimers.filter((t) => !t.cancelled && t.dueUs > nowUs);
    for (const t of due) {
      if (t.cancelled) continue;
      t.cancelled = true;
      ran++;
      try {
        t.fn();
      } catch (e) {
        this.handlerError(e);
      }
    }
    return ran;
  }

  /**
   * An app handler (event sink or host timer) threw. The driver keeps its own state
   * consistent (the rest of the step still runs) and then rethrows the error outside
   * the step, as Node does for a throwing 'data' listener: it reaches
   * process 'uncaughtException' (and fails the running test) instead of vanishing.
   */
  private handlerError(e: unknown): void {
    this.counters.handlerErrors++;
    queueMicrotask(() => {
      throw e;
    });
  }

  // --- timing -------------------------------------------------------------------

  /** Runs `fn` once, `ms` after now on the driver's clock. */
  after(ms: number, fn: () => void): TimerHandle {
    const t: HostTimer = { dueUs: this.clock.nowUs() + Math.max(0, ms) * 1000, fn, cancelled: false };
    this.hostTimers.push(t);
    this.wake();
    return { cancel: () => { t.cancelled = true; } };
  }

  /** Absolute time (µs) of the earliest core or host timer, Infinity when none. */
  nextDueUs(): number {
    let due = Infinity;
    if (this.nextCoreMs >= 0) due = (Math.floor(this.lastTickUs / 1000) + this.nextCoreMs) * 1000;
    for (const t of this.hostTimers) if (!t.cancelled && t.dueUs < due) due = t.dueUs;
    return due;
  }

  /** True when an app command asked for a step since the last one. */
  get pendingWork(): boolean {
    return this.kicked;
  }

  // --- loop mode -----------------------------------------------------------------

  /** Starts the loop (loop mode). Idempotent. */
  start(): void {
    if (this.running || this.closed || this.mode !== "loop") return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    let spins = 0;
    while (!this.closed) {
      let busy: boolean;
      try {
        busy = this.step();
      } catch (e) {
        // A module trap (a bug, never input) ends the stack; surface it once.
        console.error("ustack: tick failed, stopping the stack:", e);
        this.closed = true;
        break;
      }
      if (this.closed) break;
      if (busy) {
        // Back to back, but let timers, I/O callbacks and stream consumers run.
        spins++;
        await setImmediateP();
        continue;
      }
      spins = 0;
      const dueUs = this.nextDueUs();
      const waitMs = dueUs === Infinity ? Infinity : Math.ceil((dueUs - this.clock.nowUs()) / 1000);
      if (waitMs <= 0) {
        await setImmediateP();
        continue;
      }
      // Let already queued callbacks (app writes, stream reads) run before sleeping.
      await setImmediateP();
      if (this.kicked || this.closed) continue;
      this.counters.waits++;
      this.waiting = true;
      const readable = await this.link.waitReadable(waitMs);
      this.waiting = false;
      if (readable) this.counters.wakeups++;
    }
    void spins;
  }

  /**
   * An app command changed the core's state: send its TX frames now and make the
   * loop step soon (ends an idle wait). Safe to call from anywhere, any number of times.
   */
  wake(): void {
    if (this.closed) return;
    this.kicked = true;
    if (!this.inStep) this.flushTx();
    if (this.waiting) this.link.interrupt();
  }

  /** Stops the loop and closes the link. Host timers are dropped. */
  async close(): Promise<void> {
    if (this.closed && !this.running) {
      await this.link.close();
      return;
    }
    this.closed = true;
    this.hostTimers = [];
    this.link.interrupt();
    await this.loopDone?.catch(() => undefined);
    this.running = false;
    await this.link.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): DriverStats {
    return { ...this.counters };
  }
}

/** Anything that can report its next frame delivery (memory links, possibly wrapped). */
function nextDeliveryOf(link: Link): number {
  let l: unknown = link;
  for (let depth = 0; depth < 4 && l; depth++) {
    const m = l as { nextDeliveryAt?: () => number; inner?: Link };
    if (typeof m.nextDeliveryAt === "function") return m.nextDeliveryAt();
    l = m.inner;
  }
  return -1;
}

export interface PumpOptions {
  /** Stop when this returns true (checked after every round). */
  until?: () => boolean;
  /** Virtual time budget from the start of the run, ms (default 600 000). */
  maxMs?: number;
  /** Round budget (default 1 000 000). */
  maxRounds?: number;
}

export interface PumpResult {
  rounds: number;
  /** Virtual ms elapsed. */
  elapsedMs: number;
  /** "until" (condition met), "quiescent" (nothing left to do), "maxMs", "maxRounds". */
  reason: "until" | "quiescent" | "maxMs" | "maxRounds";
}

/**
 * Deterministic driving of stacks that share a VirtualClock (for example two
 * stacks on a memory pair): step every stack until none has work, let the event
 * loop run the app's callbacks (setImmediate), and when everything is idle move the
 * clock to the earliest due time (core timers, host timers, frame deliveries).
 * Same seed + same app code → same frames, same timings.
 */
export class Pump {
  constructor(readonly clock: VirtualClock, readonly drivers: Driver[]) {
    for (const d of drivers) {
      if (d.clock !== clock) throw new Error("ustack: every stack in a pump must use the pump's VirtualClock");
      if (d.mode !== "manual") throw new Error("ustack: pumped stacks must be in manual mode");
    }
  }

  /** Runs until `until()` holds, nothing is left to do, or a budget runs out. */
  async run(options: PumpOptions = {}): Promise<PumpResult> {
    const start = this.clock.nowUs();
    const maxUs = (options.maxMs ?? 600_000) * 1000;
    const maxRounds = options.maxRounds ?? 1_000_000;
    let rounds = 0;
    const done = (reason: PumpResult["reason"]): PumpResult => ({ rounds, elapsedMs: (this.clock.nowUs() - start) / 1000, reason });
    for (;;) {
      if (options.until?.()) return done("until");
      if (rounds >= maxRounds) return done("maxRounds");
      rounds++;
      let busy = false;
      // Step until every stack is idle at this instant (bounded: 64 passes).
      for (let pass = 0; pass < 64; pass++) {
        let any = false;
        for (const d of this.drivers) if (!d.isClosed && d.step()) any = true;
        if (!any) break;
        busy = true;
      }
      // Let stream callbacks, nextTicks and promise continuations run: they issue commands.
      await setImmediateP();
      if (busy || this.drivers.some((d) => d.pendingWork)) continue;
      if (options.until?.()) return done("until");
      // Idle at this instant: jump to the next due time.
      const now = this.clock.nowUs();
      let next = Infinity;
      for (const d of this.drivers) {
        if (d.isClosed) continue;
        next = Math.min(next, d.nextDueUs());
        const at = nextDeliveryOf(d.link);
        if (at >= 0) next = Math.min(next, at);
      }
      if (next === Infinity) return done("quiescent");
      if (next - start > maxUs) {
        this.clock.setUs(start + maxUs);
        return done("maxMs");
      }
      this.clock.setUs(Math.max(next, now + 1));
    }
  }

  /** Runs until no frame is in flight and no stack has work at the current instant
   * or within `graceMs` of virtual time (default 0: timers are not advanced). */
  async settle(graceMs = 0): Promise<PumpResult> {
    const until = this.clock.nowUs() + graceMs * 1000;
    return this.run({
      maxMs: Math.max(graceMs, 1),
      until: () => this.clock.nowUs() >= until && this.drivers.every((d) => !d.pendingWork && nextDeliveryOf(d.link) < 0),
    });
  }
}
