// Fault injection shared by the links that impair traffic: the in-memory wire
// (memory.ts: two endpoints in one process) and the impairment wrapper (impair.ts: the
// stack and a real device, TAP or AF_PACKET). Both put every frame of one direction
// through a FaultQueue:
//
//   push(frame) ──► loss? ──► queue limit ──► bandwidth ──► delay/jitter ──► reorder?
//                                                      ──► copy into a pooled buffer ──► corrupt? ──► duplicate?
//                                                                                    │
//   pop(slot) / shift() ◄── the frame with the smallest (deliverAt, seq), once clock.nowUs() >= deliverAt
//
// Per frame, in this order, each fault drawing from the queue's PRNG only when its option
// is set (so the same seed and options give the same deliveries):
//   1. loss         probability the frame vanishes (counted in `lost`)
//   2. queue limit  more than queueFrames frames in flight: push() returns false
//   3. bandwidth    serialisation: txFreeAt = max(now, txFreeAt) + ceil(len*8e6/bps) µs
//   4. delay        + delayUs + uniform[0, jitterUs) (jitter alone can reorder frames)
//   5. reorder      probability the frame is held back reorderUs more (so later frames pass it)
//   6. corrupt      probability one random bit of the frame is flipped
//   7. duplicate    probability a second copy is delivered right after the first
//
// The queue array (frames in flight, sorted by (deliverAt, seq)):
//
//   q: [ consumed ... | head ─────────── live frames ─────────── | tail | unused ... ]
//                       ^ next to deliver (smallest deliverAt)     ^ next insert (sorted in
//                                                                    from the back: O(1) when
//                                                                    frames come in time order)
//
// Each FaultQueue draws from its own xorshift32 stream, derived from (seed, stream), so
// two directions built from one seed are independent: faults on one do not shift the other.

import { type Clock } from "./clock.ts";

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

/** Counters of one direction (one FaultQueue). */
export interface DirectionStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Frames refused because queueFrames frames were already in flight. */
  queueFull: number;
  /** Frames in flight right now. */
  inFlight: number;
}

/** Fault options after checkFaults(): every field set, defaults filled in. */
export type CheckedFaults = Required<FaultOptions>;

const FAULT_KEYS = new Set(["loss", "duplicate", "reorder", "reorderUs", "corrupt", "delayUs", "jitterUs", "bandwidthBps", "queueFrames"]);

/**
 * Validates fault options (`what` names them in error messages) and fills in the
 * defaults. Throws a RangeError (bad value) or TypeError (unknown option).
 */
export function checkFaults(f: FaultOptions, what: string): CheckedFaults {
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

/** Checks a PRNG seed option: any integer. */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer (got ${seed})`);
  return seed;
}

/**
 * xorshift32 (Marsaglia 2003): a tiny deterministic PRNG, plenty for fault injection.
 * The stream number decorrelates the directions drawn from one seed.
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

/** A frame in flight: a pooled buffer and its schedule. */
interface Slot {
  buf: Uint8Array;
  len: number;
  deliverAt: number;
  seq: number;
}

/**
 * One direction of impaired traffic: faults, serialisation, and the delivery queue.
 * Frames are copied into pooled buffers when pushed (the sender's buffer may be reused
 * at once); the pool and the queue array only grow, to the most frames ever in flight,
 * so steady traffic allocates nothing.
 */
export class FaultQueue {
  private readonly prng: Prng;
  /** Frames in flight, sorted by (deliverAt, seq): live entries are q[head..tail). */
  private readonly q: Slot[] = [];
  private head = 0;
  private tail = 0;
  private readonly pool: Slot[] = [];
  private seq = 0;
  /** When the serialiser is free again (bandwidth limit), µs. */
  private txFreeAt = 0;
  readonly counters: Omit<DirectionStats, "inFlight"> = { sent: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0, queueFull: 0 };
  /** Called when a frame enters the queue (wakes a waiting receiver). */
  onEnqueue: (() => void) | null = null;
  /** The receiving end closed: frames pushed now vanish (counted as lost). */
  receiverClosed = false;

  constructor(
    private readonly clock: Clock,
    /** The faults applied to frames pushed from now on (see reconfigure()). */
    public faults: CheckedFaults,
    seed: number,
    stream: number,
    /** Largest frame accepted; longer ones are refused by push() (the links check this first). */
    private readonly maxFrameLen: number,
  ) {
    this.prng = new Prng(seed, stream);
  }

  get inFlight(): number {
    return this.tail - this.head;
  }

  stats(): DirectionStats {
    return { ...this.counters, inFlight: this.inFlight };
  }

  /** Puts a frame in flight; false when the queue is full (or the frame too long). */
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
    const len = frame.byteLength;
    if (this.inFlight >= f.queueFrames || len > this.maxFrameLen) {
      this.counters.queueFull++;
      return false;
    }
    this.counters.sent++;
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
    if (f.corrupt > 0 && len > 0 && this.prng.next() < f.corrupt) {
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

  /** Delivery time (µs) of the next frame, or -1 when none is in flight. */
  nextAt(): number {
    return this.head < this.tail ? this.q[this.head].deliverAt : -1;
  }

  /** True when the next frame is due (clock.nowUs() >= its delivery time). */
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
    const s = this.shiftSlot();
    if (!s) return 0;
    if (s.len > slot.byteLength) return -1;
    const len = s.len;
    slot.set(s.buf.subarray(0, len));
    this.counters.delivered++;
    return len;
  }

  /**
   * Takes the next due frame off the queue and returns a view of it, or null when none
   * is due. The view is valid until the next push() (its buffer goes back to the pool).
   */
  shift(): Uint8Array | null {
    const s = this.shiftSlot();
    if (!s) return null;
    this.counters.delivered++;
    return s.buf.subarray(0, s.len);
  }

  /**
   * Applies `faults` to the frames pushed from now on (like `tc qdisc change`); frames in
   * flight keep their schedule and the PRNG stream carries on.
   */
  reconfigure(faults: CheckedFaults): void {
    this.faults = faults;
  }

  /** Drops everything in flight (close). */
  clear(): void {
    for (let i = this.head; i < this.tail; i++) this.pool.push(this.q[i]);
    this.head = this.tail = 0;
  }

  /** Removes the due head of the queue (its buffer returns to the pool); null when none is due. */
  private shiftSlot(): Slot | null {
    if (!this.ready()) return null;
    const s = this.q[this.head++];
    if (this.head === this.tail) {
      this.head = this.tail = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.tail) {
      this.q.copyWithin(0, this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    this.pool.push(s);
    return s;
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
