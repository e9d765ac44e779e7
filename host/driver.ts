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
//   A link that fails for good (link.failure: the TAP device was deleted, the packet
//   socket's interface is gone) or is closed under the running stack stops the driver:
//   every step checks, the loop ends, and onStop(err) reports it once (Stack turns it
//   into its 'error' / 'close' events; err.code "ERR_USTACK_LINK_DOWN", err.cause the
//   device error). Errors that are not known to be permanent never stop the loop, but
//   they must not make it spin either: when waits keep ending at once (the device
//   says readable and reading it only fails, or the wait returns before its time
//   without a wake-up), the loop backs off on a timer, 1 ms doubling to 1 s
//   (counters.errorBackoffs), until a wait behaves again.
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
  /** Idle waits replaced by a timer because the link's waits kept ending at once with errors (loop mode). */
  errorBackoffs: number;
}

/** Code of the error a driver stops with when its link is closed under it or fails for good. */
export const LINK_DOWN = "ERR_USTACK_LINK_DOWN";
/** Code of the error a loop stops with when a step throws (a module trap, a broken clock). */
export const TICK_FAILED = "ERR_USTACK_TICK_FAILED";

/** A driver stopped: the error it reports (Node style: message, code, and the cause). */
export interface DriverStopError extends Error {
  code: typeof LINK_DOWN | typeof TICK_FAILED;
}

function stopError(code: DriverStopError["code"], message: string, cause?: unknown): DriverStopError {
  const err = (cause === undefined ? new Error(message) : new Error(message, { cause })) as DriverStopError;
  err.code = code;
  return err;
}

/** What a permanent device error (Link.failure's code) means, for the message. */
const FAILURE_MEANING: Record<string, string> = {
  EBADFD: "the device was removed",
  ENXIO: "the interface was removed",
  ENODEV: "the interface was removed",
  EBADF: "the descriptor is not open",
};

/** The link is closed or failed for good: the error to stop with, or null while it works. */
export function linkDownError(link: Link): DriverStopError | null {
  const what = `the ${link.kind} link ${link.name}`;
  const failure = link.failure;
  if (failure) {
    const f = failure as Error & { code?: unknown; syscall?: unknown };
    const why = typeof f.code === "string" && typeof f.syscall === "string"
      ? `${f.syscall}: ${f.code}${FAILURE_MEANING[f.code] ? `, ${FAILURE_MEANING[f.code]}` : ""}`
      : failure.message;
    return stopError(LINK_DOWN, `ustack: ${what} failed (${why}); the stack stopped`, failure);
  }
  if (link.closed) return stopError(LINK_DOWN, `ustack: ${what} was closed under the running stack (close the stack instead: stack.close() closes its link); the stack stopped`);
  return null;
}

/** Consecutive misbehaving waits before the loop backs off, and the back-off range (ms). */
const BACKOFF_AFTER = 3;
const BACKOFF_MIN_MS = 1;
const BACKOFF_MAX_MS = 1000;

function linkErrorCount(link: Link): number {
  const st = link.stats();
  return st.rxErrors + st.txErrors;
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
  /** Frames the last step placed in the RX ring. */
  private lastRx = 0;
  /** Ends a back-off sleep early (wake, close). */
  private sleeper: (() => void) | null = null;
  private stopped: DriverStopError | null = null;
  /**
   * Called once (from a microtask) when the driver stops by itself: its link was closed
   * under it or failed for good (code LINK_DOWN), or a step threw in loop mode
   * (TICK_FAILED). Not called for close().
   */
  onStop: ((err: DriverStopError) => void) | null = null;
  readonly counters: DriverStats = {
    steps: 0, busySteps: 0, waits: 0, wakeups: 0, rxFrames: 0, txFrames: 0, txRefused: 0,
    rxRingFull: 0, events: 0, handlerErrors: 0, errorBackoffs: 0,
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
    if (!(nowUs >= 0 && nowUs <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`ustack: the clock's nowUs() returned ${String(nowUs)}; it must return a finite, non-negative number of microseconds`);
    }
    const down = linkDownError(this.link);
    if (down) {
      this.stop(down);
      return false;
    }
    this.inStep = true;
    try {
      this.refreshViews();
      this.counters.steps++;
      this.kicked = false;
      const rx = this.receive(nowUs);
      this.lastRx = rx;
      this.nextCoreMs = this.core.tick(BigInt(Math.floor(nowUs)));
      this.lastTickUs = nowUs;
      const ev = this.dispatchEvents();
      const tx = this.flushTx();
      const timers = this.runHostTimers(nowUs);
      const busy = rx > 0 || ev > 0 || tx > 0 || timers > 0 || this.kicked || this.nextCoreMs === 0;
      if (busy) this.counters.busySteps++;
      // The device may have failed during this step's reads or writes.
      const failed = linkDownError(this.link);
      if (failed) {
        this.stop(failed);
        return false;
      }
      return busy;
    } finally {
      this.inStep = false;
    }
  }

  /**
   * Stops the driver by itself (link down, failed step): no more steps, host timers
   * dropped, the loop ends; onStop hears of it once, from a microtask. The link stays
   * open until close().
   */
  private stop(err: DriverStopError): void {
    if (this.closed) return;
    this.closed = true;
    this.stopped = err;
    this.hostTimers = [];
    this.sleeper?.();
    const cb = this.onStop;
    if (cb) queueMicrotask(() => cb(err));
    else console.error(err.message);
  }

  /** Why the driver stopped by itself (see onStop), or null. */
  get error(): DriverStopError | null {
    return this.stopped;
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
    // Misbehaving waits in a row (see the header), and the link's error count when the
    // last wait said "readable" (-1: nothing to judge after the next step).
    let badWaits = 0;
    let errorsAtWake = -1;
    // After a back-off sleep the next idle wait is a real one again: it tells whether
    // the link behaves now (badWaits back to 0) or not (a longer sleep next time).
    let slept = false;
    while (!this.closed) {
      let busy: boolean;
      try {
        busy = this.step();
      } catch (e) {
        // A module trap (a bug, never input) or a broken clock ends the stack; surface it once.
        this.stop(stopError(TICK_FAILED, `ustack: a step of the tick loop failed (${e instanceof Error ? e.message : String(e)}); the stack stopped`, e));
        break;
      }
      if (this.closed) break;
      if (errorsAtWake >= 0) {
        // The device said readable: a wake-up that only produced read errors is a bad one.
        badWaits = this.lastRx === 0 && linkErrorCount(this.link) > errorsAtWake ? badWaits + 1 : 0;
        errorsAtWake = -1;
      }
      if (busy) {
        // Back to back, but let timers, I/O callbacks and stream consumers run.
        await setImmediateP();
        continue;
      }
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
      if (badWaits >= BACKOFF_AFTER && !slept) {
        // The link's waits keep ending at once: sleep on a timer instead (wake() ends it).
        this.counters.errorBackoffs++;
        slept = true;
        await this.sleep(Math.min(waitMs, BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(badWaits - BACKOFF_AFTER, 10)));
        continue;
      }
      slept = false;
      this.waiting = true;
      const t0 = performance.now();
      const readable = await this.link.waitReadable(waitMs);
      this.waiting = false;
      if (readable) {
        this.counters.wakeups++;
        errorsAtWake = linkErrorCount(this.link);
      } else if (!this.kicked && !this.closed) {
        // Ended neither by a frame, nor by wake()/close(), nor by its timeout: a link
        // that cannot wait (a second wait, EINTR: now and then; every time: broken).
        const early = performance.now() - t0 < (waitMs === Infinity ? 1000 : waitMs / 2 - 1);
        badWaits = early ? badWaits + 1 : 0;
      } else {
        badWaits = 0;
      }
    }
  }

  /** A back-off sleep on a timer; wake() and close() end it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeper = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeper = done;
    });
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
    this.sleeper?.();
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
    this.sleeper?.();
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
