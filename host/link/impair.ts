// Impairment wrapper: seeded loss, delay, reordering, duplication (and optionally
// corruption and a bandwidth limit) between the stack and any real link (TAP,
// AF_PACKET), in both directions. It is the userspace stand-in for
// `tc qdisc ... netem` on kernels built without sch_netem: the kernel's TCP on the
// other side of the device sees exactly the impaired path the stack sees.
//
//   stack (tick loop)                 ImpairLink                               inner link (device)
//   ─────────────────                 ──────────                               ───────────────────
//   send(frame) ───────► txq: FaultQueue (faultsTx, stream 1) ── when due ──► inner.send()
//   receiveInto(slot) ◄─ rxq: FaultQueue (faultsRx, stream 2) ◄── pulled ──── inner.receiveInto(scratch)
//
// The fault model, its order and its PRNG draws are those of the in-memory wire: both
// use faults.ts. Times come from `clock`, which must be the tick loop's clock (realClock
// for a device; a VirtualClock works too: nextDeliveryAt() tells a Pump where to jump).
//
// When frames move:
// - stack → device: send() puts the frame in txq and at once hands every due frame to the
//   inner link (with no delay configured that is the frame itself). Frames still held
//   (delay, reorder, bandwidth) go out on the first of: the next receiveInto /
//   receiveBatch (every tick does one), the next send, or a pending waitReadable waking
//   at their due time.
// - device → stack: frames are pulled from the inner link into rxq (at most `pullBatch`
//   per round) when no frame of rxq is due, and whenever a wait wakes because the device
//   became readable. A frame's delay starts when it is pulled.
//
// Waiting (the idle tick loop): waitReadable(t) loops over inner.waitReadable(ms) with
// ms = time until the earlier of the deadline and the next due frame of either queue,
// rounded up to whole ms (the wait never ends early; poll(2) has ms resolution). On each
// wake it flushes due TX frames and pulls from the device; it resolves true as soon as
// an RX frame is due, false at the deadline, on interrupt(), on a newer wait or close.
// No busy polling: between due times the thread sleeps in poll(2). On a clock that does
// not move by itself (VirtualClock) due times never come during a wait, so after the
// first wake that finds the clock unchanged the wait only honours the deadline.
//
// Copies: a received frame is copied twice (device → scratch via the inner link's own
// read, scratch → pooled queue buffer, then queue buffer → the caller's slot); a sent
// frame once (into the queue). This is a test tool, not a fast path.

import { type Clock, realClock } from "./clock.ts";
import { checkFaults, checkSeed, type CheckedFaults, type DirectionStats, type FaultOptions, FaultQueue } from "./faults.ts";
import { type Link, LinkBase, type LinkStats } from "./link.ts";

export interface ImpairOptions {
  /** The tick loop's clock (default realClock). */
  clock?: Clock;
  /** PRNG seed, any integer; print it in tests (default 1). */
  seed?: number;
  /** Faults applied to both directions... */
  faults?: FaultOptions;
  /** ...or per direction (these win over `faults` field by field): stack → device... */
  faultsTx?: FaultOptions;
  /** ...and device → stack. */
  faultsRx?: FaultOptions;
  /** Frames pulled from the device per round (default 64, 1 to 4096). */
  pullBatch?: number;
}

/** Counters of the wrapper on top of LinkStats. */
export interface ImpairStats extends LinkStats {
  /** Stack → device direction (sent = frames the stack sent, delivered = handed to the device). */
  wireTx: DirectionStats;
  /** Device → stack direction (sent = frames pulled from the device, delivered = handed to the stack). */
  wireRx: DirectionStats;
  /** Due frames the device refused (queue full); lost like any dropped frame. */
  txDeviceRefused: number;
  /** Waits that slept until a held frame fell due. */
  dueWakeups: number;
  /** The wrapped link's own counters. */
  device: LinkStats;
}

/** Wraps `inner` so that both directions go through seeded fault queues. */
export class ImpairLink extends LinkBase {
  readonly kind = "impair";
  readonly name: string;
  readonly mtu: number;
  readonly mac: Uint8Array;
  readonly clock: Clock;
  readonly seed: number;
  private fTx: CheckedFaults;
  private fRx: CheckedFaults;
  private readonly txq: FaultQueue;
  private readonly rxq: FaultQueue;
  private readonly scratch: Uint8Array;
  private readonly pullBatch: number;
  /** Generation of the current wait; a newer wait, interrupt() or close() ends older ones. */
  private waitGen = 0;
  private interruptedGen = -1;
  private closing: Promise<void> | null = null;
  private txDeviceRefused = 0;
  private dueWakeups = 0;
  /** True while a wait sleeps in the inner link (so a newer wait or close can end it). */
  private sleeping = false;

  constructor(readonly inner: Link, options: ImpairOptions = {}) {
    super();
    this.clock = options.clock ?? realClock;
    this.seed = checkSeed(options.seed ?? 1);
    this.fTx = checkFaults({ ...options.faults, ...options.faultsTx }, "faultsTx");
    this.fRx = checkFaults({ ...options.faults, ...options.faultsRx }, "faultsRx");
    const pullBatch = options.pullBatch ?? 64;
    if (!Number.isInteger(pullBatch) || pullBatch < 1 || pullBatch > 4096) throw new RangeError(`pullBatch must be an integer from 1 to 4096 (got ${pullBatch})`);
    this.pullBatch = pullBatch;
    this.name = inner.name;
    this.mtu = inner.mtu;
    this.mac = inner.mac;
    const maxFrameLen = Math.max(inner.maxFrameLen, this.maxFrameLen);
    this.txq = new FaultQueue(this.clock, this.fTx, this.seed, 1, maxFrameLen);
    this.rxq = new FaultQueue(this.clock, this.fRx, this.seed, 2, maxFrameLen);
    this.scratch = new Uint8Array(maxFrameLen);
  }

  /** Closed when closed itself or when the wrapped link was closed (behind its back). */
  override get closed(): boolean {
    return this.isClosed || this.inner.closed;
  }
  /** The wrapped device's permanent error (see Link.failure). */
  override get failure(): Error | null {
    return super.failure ?? this.inner.failure ?? null;
  }

  /** Faults on stack → device frames (defaults filled in). */
  get faultsTx(): CheckedFaults {
    return this.fTx;
  }
  /** Faults on device → stack frames. */
  get faultsRx(): CheckedFaults {
    return this.fRx;
  }

  /**
   * Changes the faults of frames from now on, like `tc qdisc change`: options given as
   * in the constructor (faults for both directions, faultsTx/faultsRx win field by
   * field; what is not given is off). Frames in flight keep their schedule; the PRNG
   * streams carry on, so a run stays reproducible from its seed.
   */
  setFaults(options: Pick<ImpairOptions, "faults" | "faultsTx" | "faultsRx">): void {
    const tx = checkFaults({ ...options.faults, ...options.faultsTx }, "faultsTx");
    const rx = checkFaults({ ...options.faults, ...options.faultsRx }, "faultsRx");
    this.fTx = tx;
    this.fRx = rx;
    this.txq.reconfigure(tx);
    this.rxq.reconfigure(rx);
  }

  /** One line for test logs: the device, the seed and the fault options. */
  describe(): string {
    return `impair ${this.inner.kind} ${this.name} seed=${this.seed} tx=${JSON.stringify(this.fTx)} rx=${JSON.stringify(this.fRx)}`;
  }

  /**
   * The earliest time (µs on the clock) a held frame of either direction falls due (or,
   * for an inner link that can tell, a frame reaches the inner link), -1 when nothing is
   * held. A Pump on a VirtualClock jumps there.
   */
  nextDeliveryAt(): number {
    if (this.isClosed) return -1;
    let at = -1;
    const inner = this.inner as Link & { nextDeliveryAt?: () => number };
    const innerAt = typeof inner.nextDeliveryAt === "function" ? inner.nextDeliveryAt() : -1;
    for (const t of [this.rxq.nextAt(), this.txq.nextAt(), innerAt]) if (t >= 0 && (at < 0 || t < at)) at = t;
    return at;
  }

  override stats(): ImpairStats {
    return {
      ...this.counters, wireTx: this.txq.stats(), wireRx: this.rxq.stats(),
      txDeviceRefused: this.txDeviceRefused, dueWakeups: this.dueWakeups, device: this.inner.stats(),
    };
  }

  protected readFrame(slot: Uint8Array): number {
    this.flushTx();
    if (!this.rxq.ready()) this.pull();
    // Bounded: each pass removes one frame from the queue.
    for (;;) {
      const n = this.rxq.pop(slot);
      if (n >= 0) return n;
      this.counters.rxDropped++;
    }
  }

  protected writeFrame(frame: Uint8Array): boolean {
    if (!this.txq.push(frame)) return false;
    this.flushTx();
    return true;
  }

  /** Hands every due stack → device frame to the inner link; returns how many. */
  private flushTx(): number {
    let n = 0;
    for (let f = this.txq.shift(); f !== null; f = this.txq.shift()) {
      if (!this.inner.send(f)) this.txDeviceRefused++;
      n++;
    }
    return n;
  }

  /** Moves up to pullBatch frames from the device into rxq; returns how many it read. */
  private pull(): number {
    let got = 0;
    for (; got < this.pullBatch; got++) {
      const n = this.inner.receiveInto(this.scratch);
      if (n === 0) break;
      this.rxq.push(this.scratch.subarray(0, n)); // false: rxq full, counted in wireRx.queueFull
    }
    return got;
  }

  async waitReadable(timeoutMs: number): Promise<boolean> {
    const gen = ++this.waitGen;
    if (this.sleeping) this.inner.interrupt(); // ends the older wait now (it resolves false)
    if (this.isClosed) return false;
    const deadline = timeoutMs === 0 ? 0 : !(timeoutMs >= 0) || !Number.isFinite(timeoutMs) ? Infinity : Date.now() + timeoutMs;
    let clockMoves = true;
    // Bounded by the deadline, or by interrupt()/close() for an endless wait: every pass
    // sleeps in the inner link's poll(2) or returns.
    for (;;) {
      if (this.isClosed || gen !== this.waitGen || this.interruptedGen === gen) return false;
      this.flushTx();
      if (!this.rxq.ready()) this.pull();
      if (this.rxq.ready()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let ms = left;
      const due = this.nextDeliveryAt();
      const nowUs = this.clock.nowUs();
      const untilDue = due >= 0 && clockMoves ? Math.max(1, Math.ceil((due - nowUs) / 1000)) : Infinity;
      if (untilDue < ms) ms = untilDue;
      this.sleeping = true;
      let readable: boolean;
      try {
        readable = await this.inner.waitReadable(ms === Infinity ? -1 : ms);
      } finally {
        if (gen === this.waitGen) this.sleeping = false;
      }
      if (!readable && ms === untilDue && untilDue !== Infinity) {
        if (this.clock.nowUs() === nowUs) clockMoves = false;
        else this.dueWakeups++;
      }
    }
  }

  interrupt(): void {
    this.interruptedGen = this.waitGen;
    this.inner.interrupt();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.isClosed = true;
      this.waitGen++;
      this.inner.interrupt();
      this.txq.clear();
      this.rxq.clear();
      this.closing = this.inner.close();
    }
    return this.closing;
  }
}
