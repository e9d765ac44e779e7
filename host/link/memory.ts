// The in-memory link: a wire joining two endpoints in one process (two stacks, or a
// stack and a test), with seeded faults on a clock shared by both ends.
//
//        endpoint a                                     endpoint b
//   send(frame) ──► Direction a→b: loss? corrupt? serialise (bandwidth) ──► queue ──► receiveInto(slot)
//   receiveInto ◄── queue ◄── Direction b→a: ... ◄──────────────────────────────── send(frame)
//
// Each direction has its own fault options, its own PRNG stream (derived from the one
// seed) and its own counters. A frame is copied once, into a pooled buffer, when sent,
// and once more, into the receiver's slot, when delivered. A queued frame is delivered
// when clock.nowUs() >= its delivery time; frames leave in (deliverAt, send order)
// order, so without faults the wire is FIFO with zero latency.
//
// Per frame, in this order, each fault drawing from the direction's PRNG only when its
// option is set (so the same seed and options give the same deliveries):
//   1. loss         probability the frame vanishes (counted in `lost`)
//   2. queue limit  more than queueFrames frames in flight: send() returns false
//   3. bandwidth    serialisation: txFreeAt = max(now, txFreeAt) + ceil(len*8e6/bps) µs
//   4. delay        + delayUs + uniform[0, jitterUs) (jitter alone can reorder frames)
//   5. reorder      probability the frame is held back reorderUs more (so later frames pass it)
//   6. corrupt      probability one random bit of the frame is flipped
//   7. duplicate    probability a second copy is delivered right after the first

import { type Clock, VirtualClock } from "./clock.ts";
import { checkMac, checkMtu, ETH_HLEN, type LinkStats, LinkBase, VLAN_HLEN } from "./link.ts";

export interface FaultOptions {
  /** Probability (0..1) that a frame is lost. */
  loss?: number;
  /** Probability (0..1) that a frame is delivered twice. */
  duplicate?: number;
  /** Probability (0..1) that a frame is held back by reorderUs. */
  reorder?: number;
  /** Extra delay of a reordered frame, µs (default: max(delayUs, 1000)). */
  reorderUs?: number;
  /** Probability (0..1) that one bit of a frame is flipped. */
  corrupt?: number;
  /** Fixed one-way latency, µs (default 0). */
  delayUs?: number;
  /** Extra latency drawn uniformly from [0, jitterUs), µs (default 0). */
  jitterUs?: number;
  /** Bits per second; frames are serialised one after another (default: unlimited). */
  bandwidthBps?: number;
  /** Frames in flight on this direction before send() refuses (default 4096). */
  queueFrames?: number;
}

/** Counters of one direction of the wire. */
export interface DirectionStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Sends refused because queueFrames frames were already in flight. */
  queueFull: number;
  /** Frames in flight right now. */
  inFlight: number;
}

export interface MemoryPairOptions {
  /** Shared clock (default: a new VirtualClock at 0). */
  clock?: Clock;
  /** PRNG seed, any integer; print it in tests (default 1). */
  seed?: number;
  /** MTU of both ends (default 1500). */
  mtu?: number;
  /** MACs of the two ends (default 02:00:00:00:00:0a and 02:00:00:00:00:0b). */
  macA?: Uint8Array | string;
  macB?: Uint8Array | string;
  /** Faults applied to both directions... */
  faults?: FaultOptions;
  /** ...or per direction (these win over `faults` field by field). */
  faultsAtoB?: FaultOptions;
  faultsBtoA?: FaultOptions;
  /** Labels for the two ends (default "a", "b"). */
  names?: [string, string];
}

export interface MemoryPair {
  a: MemoryLink;
  b: MemoryLink;
  clock: Clock;
  seed: number;
  /** One line for test logs: the seed and the fault options. */
  describe(): string;
}

/** Joins two endpoints with a faulty wire. */
export function createMemoryPair(options: MemoryPairOptions = {}): MemoryPair {
  const clock = options.clock ?? new VirtualClock();
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer (got ${seed})`);
  const mtu = checkMtu(options.mtu ?? 1500);
  const maxFrameLen = mtu + ETH_HLEN + VLAN_HLEN;
  const faultsAB = checkFaults({ ...options.faults, ...options.faultsAtoB }, "faultsAtoB");
  const faultsBA = checkFaults({ ...options.faults, ...options.faultsBtoA }, "faultsBtoA");
  const [nameA, nameB] = options.names ?? ["a", "b"];
  const ab = new Direction(clock, faultsAB, seed, 1, maxFrameLen);
  const ba = new Direction(clock, faultsBA, seed, 2, maxFrameLen);
  const a = new MemoryLink(nameA, mtu, checkMac(options.macA ?? "02:00:00:00:00:0a", "macA"), ba, ab);
  const b = new MemoryLink(nameB, mtu, checkMac(options.macB ?? "02:00:00:00:00:0b", "macB"), ab, ba);
  return {
    a, b, clock, seed,
    describe: () => `memory link ${nameA}<->${nameB} seed=${seed} ${nameA}->${nameB}=${JSON.stringify(faultsAB)} ${nameB}->${nameA}=${JSON.stringify(faultsBA)}`,
  };
}

type CheckedFaults = Required<FaultOptions>;

function checkFaults(f: FaultOptions, what: string): CheckedFaults {
  const prob = (k: keyof FaultOptions): number => {
    const v = f[k] ?? 0;
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new RangeError(`${what}.${k} must be a probability from 0 to 1 (got ${v})`);
    return v;
  };
  const micros = (k: keyof FaultOptions, dflt: number): number => {
    const v = f[k] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new RangeError(`${what}.${k} must be a non-negative number of µs (got ${v})`);
    return Math.floor(v);
  };
  const delayUs = micros("delayUs", 0);
  const bps = f.bandwidthBps ?? 0;
  if (typeof bps !== "number" || !Number.isFinite(bps) || bps < 0) throw new RangeError(`${what}.bandwidthBps must be a non-negative number, 0 = unlimited (got ${bps})`);
  const queueFrames = f.queueFrames ?? 4096;
  if (!Number.isInteger(queueFrames) || queueFrames < 1 || queueFrames > 1 << 20) throw new RangeError(`${what}.queueFrames must be an integer from 1 to 1048576 (got ${queueFrames})`);
  for (const k of Object.keys(f)) {
    if (!FAULT_KEYS.has(k)) throw new TypeError(`${what}: unknown fault option "${k}" (known: ${[...FAULT_KEYS].join(", ")})`);
  }
  return {
    loss: prob("loss"), duplicate: prob("duplicate"), reorder: prob("reorder"), corrupt: prob("corrupt"),
    delayUs, jitterUs: micros("jitterUs", 0), reorderUs: micros("reorderUs", Math.max(delayUs, 1000)),
    bandwidthBps: bps, queueFrames,
  };
}

const FAULT_KEYS = new Set(["loss", "duplicate", "reorder", "reorderUs", "corrupt", "delayUs", "jitterUs", "bandwidthBps", "queueFrames"]);

/**
 * xorshift32 (Marsaglia 2003): a tiny deterministic PRNG, plenty for fault injection.
 * The stream number decorrelates the two directions drawn from one seed.
 */
export class Prng {
  private s: number;
  constructor(seed: number, stream = 0) {
    // Mix seed and stream through one round of a 32-bit multiplicative hash; never 0.
    let x = (Math.imul((seed | 0) ^ Math.imul(stream + 1, 0x9e3779b9), 0x85ebca6b) ^ (seed / 0x100000000 | 0)) >>> 0;
    x = (x ^ (x >>> 13)) >>> 0;
    this.s = x === 0 ? 0x6d2b79f5 : x;
  }
  /** Next value in [0, 2^32). */
  nextU32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Next value in [0, 1). */
  next(): number {
    return this.nextU32() / 0x100000000;
  }
}

/** A frame on the wire: a pooled buffer and its schedule. */
interface Slot {
  buf: Uint8Array;
  len: number;
  deliverAt: number;
  seq: number;
}

/** One direction of the wire: faults, serialisation, and the delivery queue. */
class Direction {
  private readonly prng: Prng;
  /**
   * Frames in flight, sorted by (deliverAt, seq): live entries are q[head..tail). The
   * array only grows (to the most frames ever in flight), so steady traffic allocates nothing.
   */
  private readonly q: Slot[] = [];
  private head = 0;
  private tail = 0;
  private readonly pool: Slot[] = [];
  private seq = 0;
  /** When the serialiser is free again (bandwidth limit), µs. */
  private txFreeAt = 0;
  readonly counters: Omit<DirectionStats, "inFlight"> = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, queueFull: 0 };
  /** Called when a frame enters the queue (wakes the receiver's waitReadable). */
  onEnqueue: (() => void) | null = null;
  /** The receiving end closed: frames sent now vanish (counted as lost). */
  receiverClosed = false;

  constructor(
    private readonly clock: Clock,
    readonly faults: CheckedFaults,
    seed: number,
    stream: number,
    private readonly maxFrameLen: number,
  ) {
    this.prng = new Prng(seed, stream);
  }

  get inFlight(): number {
    return this.tail - this.head;
  }

  /** Puts a frame on the wire; false when the queue is full. */
  push(frame: Uint8Array): boolean {
    const f = this.faults;
    const now = this.clock.nowUs();
    if (this.receiverClosed) {
      this.counters.sent++;
      this.counters.lost++;
      return true;
    }
    if (f.loss > 0 && this.prng.next() < f.loss) {
      this.counters.sent++;
      this.counters.lost++;
      return true;
    }
    if (this.inFlight >= f.queueFrames) {
      this.counters.queueFull++;
      return false;
    }
    this.counters.sent++;
    const len = frame.byteLength;
    let at = now;
    if (f.bandwidthBps > 0) {
      const start = Math.max(now, this.txFreeAt);
      this.txFreeAt = start + Math.ceil((len * 8 * 1e6) / f.bandwidthBps);
      at = this.txFreeAt;
    }
    at += f.delayUs;
    if (f.jitterUs > 0) at += Math.floor(this.prng.next() * f.jitterUs);
    if (f.reorder > 0 && this.prng.next() < f.reorder) {
      at += f.reorderUs;
      this.counters.reordered++;
    }
    const s = this.take();
    s.buf.set(frame);
    s.len = len;
    if (f.corrupt > 0 && this.prng.next() < f.corrupt) {
      const bit = this.prng.nextU32() % (len * 8);
      s.buf[bit >>> 3] ^= 1 << (bit & 7);
      this.counters.corrupted++;
    }
    this.insert(s, at);
    if (f.duplicate > 0 && this.prng.next() < f.duplicate && this.inFlight < f.queueFrames) {
      const d = this.take();
      d.buf.set(s.buf.subarray(0, len));
      d.len = len;
      this.insert(d, at);
      this.counters.duplicated++;
    }
    this.onEnqueue?.();
    return true;
  }

  /** Delivery time of the next frame, or -1 when none is in flight. */
  nextAt(): number {
    return this.head < this.tail ? this.q[this.head].deliverAt : -1;
  }

  ready(): boolean {
    return this.head < this.tail && this.q[this.head].deliverAt <= this.clock.nowUs();
  }

  now(): number {
    return this.clock.nowUs();
  }

  /**
   * Moves the next due frame into `slot`; returns its length, 0 when none is due, or
   * -1 when the due frame did not fit `slot` (dropped).
   */
  pop(slot: Uint8Array): number {
    if (!this.ready()) return 0;
    const s = this.q[this.head++];
    if (this.head === this.tail) {
      this.head = this.tail = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.tail) {
      this.q.copyWithin(0, this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    this.pool.push(s);
    if (s.len > slot.byteLength) return -1;
    const len = s.len;
    slot.set(s.buf.subarray(0, len));
    this.counters.delivered++;
    return len;
  }

  /** Drops everything in flight (close). */
  clear(): void {
    for (let i = this.head; i < this.tail; i++) this.pool.push(this.q[i]);
    this.head = this.tail = 0;
  }

  private take(): Slot {
    return this.pool.pop() ?? { buf: new Uint8Array(this.maxFrameLen), len: 0, deliverAt: 0, seq: 0 };
  }

  /** Inserts keeping (deliverAt, seq) order; O(1) when frames arrive in time order. */
  private insert(s: Slot, at: number): void {
    s.deliverAt = at;
    s.seq = this.seq++;
    const q = this.q;
    let i = this.tail++;
    while (i > this.head && q[i - 1].deliverAt > at) {
      q[i] = q[i - 1];
      i--;
    }
    q[i] = s;
  }
}

/** One end of an in-memory wire. Create pairs with createMemoryPair(). */
export class MemoryLink extends LinkBase {
  readonly kind = "memory";
  private waiter: { resolve: (v: boolean) => void; timer: ReturnType<typeof setTimeout> | null; deadline: number } | null = null;

  constructor(
    readonly name: string,
    readonly mtu: number,
    readonly mac: Uint8Array,
    private readonly rx: Direction,
    private readonly tx: Direction,
  ) {
    super();
    rx.onEnqueue = () => this.rearm();
  }

  /** Delivery time (µs on the pair's clock) of the next frame for this end, -1 if none. */
  nextDeliveryAt(): number {
    return this.isClosed ? -1 : this.rx.nextAt();
  }

  /** Counters of the direction this end sends on. */
  txWireStats(): DirectionStats {
    return { ...this.tx.counters, inFlight: this.tx.inFlight };
  }

  /** Counters of the direction this end receives from. */
  rxWireStats(): DirectionStats {
    return { ...this.rx.counters, inFlight: this.rx.inFlight };
  }

  override stats(): LinkStats & { wireTx: DirectionStats; wireRx: DirectionStats } {
    return { ...this.counters, wireTx: this.txWireStats(), wireRx: this.rxWireStats() };
  }

  protected readFrame(slot: Uint8Array): number {
    // Bounded: each pass removes one frame from the queue.
    for (;;) {
      const n = this.rx.pop(slot);
      if (n >= 0) return n;
      this.counters.rxDropped++;
    }
  }

  protected writeFrame(frame: Uint8Array): boolean {
    return this.tx.push(frame);
  }

  waitReadable(timeoutMs: number): Promise<boolean> {
    this.interrupt();
    if (this.isClosed) return Promise.resolve(false);
    if (this.rx.ready()) return Promise.resolve(true);
    if (timeoutMs === 0) return Promise.resolve(false);
    const deadline = timeoutMs > 0 && Number.isFinite(timeoutMs) ? Date.now() + timeoutMs : Infinity;
    return new Promise<boolean>((resolve) => {
      this.waiter = { resolve, timer: null, deadline };
      this.rearm();
    });
  }

  /**
   * Re-evaluates a pending wait: resolves it when a frame is due, otherwise sleeps until
   * the earlier of the deadline and the next delivery time (on a virtual clock that time
   * never comes by itself, so the wait simply runs to its deadline or to the next send).
   */
  private rearm(): void {
    const w = this.waiter;
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    if (this.rx.ready()) return this.finishWait(true);
    const left = w.deadline - Date.now();
    if (left <= 0) return this.finishWait(false);
    const next = this.rx.nextAt();
    const untilNext = next >= 0 ? Math.max(1, Math.ceil((next - this.rx.now()) / 1000)) : Infinity;
    const ms = Math.min(left, untilNext);
    if (Number.isFinite(ms)) w.timer = setTimeout(() => this.rearm(), Math.min(ms, 0x7fffffff));
  }

  private finishWait(v: boolean): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    if (w.timer) clearTimeout(w.timer);
    w.resolve(v);
  }

  interrupt(): void {
    this.finishWait(false);
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.finishWait(false);
      this.rx.onEnqueue = null;
      this.rx.receiverClosed = true;
      this.rx.clear();
    }
    return Promise.resolve();
  }
}
