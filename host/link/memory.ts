// The in-memory link: a wire joining two endpoints in one process (two stacks, or a
// stack and a test), with seeded faults on a clock shared by both ends.
//
//        endpoint a                                          endpoint b
//   send(frame) ──► FaultQueue a→b: loss? serialise? delay? reorder? ... ──► receiveInto(slot)
//   receiveInto ◄── FaultQueue b→a: ... ◄───────────────────────────────────── send(frame)
//
// Each direction is a FaultQueue (faults.ts, shared with impair.ts) with its own fault
// options, its own PRNG stream (derived from the one seed: stream 1 for a→b, 2 for b→a)
// and its own counters. A frame is copied once, into a pooled buffer, when sent, and
// once more, into the receiver's slot, when delivered. A queued frame is delivered when
// clock.nowUs() >= its delivery time; frames leave in (deliverAt, send order) order, so
// without faults the wire is FIFO with zero latency. The faults, their order and their
// PRNG draws are described in faults.ts.

import { type Clock, VirtualClock } from "./clock.ts";
import { checkFaults, checkSeed, type DirectionStats, type FaultOptions, FaultQueue } from "./faults.ts";
import { checkMac, checkMtu, ETH_HLEN, type LinkStats, LinkBase, VLAN_HLEN } from "./link.ts";

// The fault options, their checks, the PRNG and the per-direction queue live in faults.ts
// (shared with the impairment wrapper, impair.ts); re-exported here for existing users.
export { type DirectionStats, type FaultOptions, Prng } from "./faults.ts";

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
  const seed = checkSeed(options.seed ?? 1);
  const mtu = checkMtu(options.mtu ?? 1500);
  const maxFrameLen = mtu + ETH_HLEN + VLAN_HLEN;
  const faultsAB = checkFaults({ ...options.faults, ...options.faultsAtoB }, "faultsAtoB");
  const faultsBA = checkFaults({ ...options.faults, ...options.faultsBtoA }, "faultsBtoA");
  const [nameA, nameB] = options.names ?? ["a", "b"];
  const ab = new FaultQueue(clock, faultsAB, seed, 1, maxFrameLen);
  const ba = new FaultQueue(clock, faultsBA, seed, 2, maxFrameLen);
  const a = new MemoryLink(nameA, mtu, checkMac(options.macA ?? "02:00:00:00:00:0a", "macA"), ba, ab);
  const b = new MemoryLink(nameB, mtu, checkMac(options.macB ?? "02:00:00:00:00:0b", "macB"), ab, ba);
  return {
    a, b, clock, seed,
    describe: () => `memory link ${nameA}<->${nameB} seed=${seed} ${nameA}->${nameB}=${JSON.stringify(faultsAB)} ${nameB}->${nameA}=${JSON.stringify(faultsBA)}`,
  };
}

/** One end of an in-memory wire. Create pairs with createMemoryPair(). */
export class MemoryLink extends LinkBase {
  readonly kind = "memory";
  private waiter: { resolve: (v: boolean) => void; timer: ReturnType<typeof setTimeout> | null; deadline: number } | null = null;

  constructor(
    readonly name: string,
    readonly mtu: number,
    readonly mac: Uint8Array,
    private readonly rx: FaultQueue,
    private readonly tx: FaultQueue,
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
    return this.tx.stats();
  }

  /** Counters of the direction this end receives from. */
  rxWireStats(): DirectionStats {
    return this.rx.stats();
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
