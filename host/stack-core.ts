// A thin typed wrapper over the core module's exports: configure, init, tick, the
// shared-memory views (rings, counters, memory accounting), and the command ABI
// (listen/connect/accept/send/recv/shutdown/close/abort/setOption) with data copied
// through the module's I/O buffer. The tick loop (host/driver.ts) and the net-like
// API build on this. docs/abi.md lists every export and code.

import { instantiate, type CoreExports, type ModuleFlavor } from "./loader.ts";
import { runtime } from "./runtime/index.ts";
import {
  ABI, ERRORS, RingView, writeConfig, readCounters, readMemstats, readStats, errorName, parseIpv4,
  GAUGE_NAMES, type StackConfig,
} from "./abi.ts";
import { IFACE_STAT_NAMES } from "./iface-stats.ts";

export class StackInitError extends Error {
  constructor(readonly code: number) {
    super(`ustack: init failed: ${errorName(code)}`);
  }
}

/** One record of the event ring (docs/abi.md). */
export interface CoreEvent {
  /** ABI.EVENT_* (1 accepted, 2 connected, 3 readable, 4 writable, 5 peer closed, 6 closed, 7 error). */
  type: number;
  /** The endpoint (for EVENT_ACCEPTED: the listener). */
  handle: number;
  /** EVENT_ACCEPTED: the child handle; EVENT_READABLE: readable bytes; EVENT_ERROR: the code. */
  arg0: number;
  arg1: number;
}

/** Addresses, ports and state of a handle. */
export interface HandleInfo {
  localAddr: number;
  localPort: number;
  remoteAddr: number;
  remotePort: number;
  /** TCP state (ABI TCP_STATES index), 0xff for a bad handle. */
  state: number;
}

const addrOf = (a: string | number | undefined): number => (a === undefined ? 0 : typeof a === "string" ? parseIpv4(a) : a >>> 0);

export class StackCore {
  readonly rx: RingView;
  readonly tx: RingView;
  readonly events: RingView;
  readonly abiBase: number;
  /** Address and size of the module's I/O buffer (send/recv copy through it). */
  readonly ioAddr: number;
  readonly ioSize: number;
  private readonly x: CoreExports;

  private constructor(readonly exports: CoreExports) {
    this.x = exports;
    this.abiBase = exports.abiBase() >>> 0;
    const m = exports.memory;
    this.rx = new RingView(m, this.abiBase + ABI.ABI_RX_RING_OFF);
    this.tx = new RingView(m, this.abiBase + ABI.ABI_TX_RING_OFF);
    this.events = new RingView(m, this.abiBase + ABI.ABI_EVENT_RING_OFF);
    this.ioAddr = exports.ioBufAddr() >>> 0;
    this.ioSize = exports.ioBufSize() >>> 0;
  }

  /** Instantiates a module, writes `config` (secret from host entropy unless given) and runs init. */
  static async create(config: StackConfig = {}, nowUs: bigint = 0n, flavor: ModuleFlavor = "release"): Promise<StackCore> {
    const { exports } = await instantiate(flavor);
    return StackCore.init(exports, config, nowUs);
  }

  /** Configures and initializes an already instantiated module. Throws StackInitError on a rejected config. */
  static init(exports: CoreExports, config: StackConfig, nowUs: bigint): StackCore {
    writeConfig(exports.memory, exports.configAddr() >>> 0, config, runtime.randomBytes);
    const rc = exports.init(nowUs);
    if (rc !== 0) throw new StackInitError(rc);
    return new StackCore(exports);
  }

  get memory(): WebAssembly.Memory { return this.exports.memory; }

  /** One tick; returns 0 when work is left (drain TX/events, tick again), ms until the next timer work, or -1. */
  tick(nowUs: bigint): number { return Number(this.x.tick(nowUs)); }
  /** Moves the module clock (timers run) without taking frames. */
  setTime(nowUs: bigint): void { this.x.setTime(nowUs); }

  // ── frames ────────────────────────────────────────────────────────────────────
  /** Free RX slots. */
  rxFree(): number { return this.rx.slots - this.rx.used; }
  /** View of the frame area of the next free RX slot (rxCommit publishes it), or null when the ring is full. */
  rxSlot(): Uint8Array | null {
    if (this.rxFree() <= 0) return null;
    return new Uint8Array(this.memory.buffer, this.rx.slotAddr(this.rx.head) + ABI.SLOT_HDR_SIZE, this.rx.slotSize - ABI.SLOT_HDR_SIZE);
  }
  /** Publishes the frame written into rxSlot(): its length and receive time (µs). */
  rxCommit(len: number, timeUs: number | bigint): void {
    const slot = this.rx.slotAddr(this.rx.head);
    const v = new DataView(this.memory.buffer, slot, ABI.SLOT_HDR_SIZE);
    v.setUint32(ABI.SLOT_LEN_OFF, len >>> 0, true);
    v.setUint32(ABI.SLOT_FLAGS_OFF, 0, true);
    v.setBigUint64(ABI.SLOT_TIME_OFF, BigInt(timeUs), true);
    this.rx.head = this.rx.head + 1;
  }
  /** Copies one frame into the RX ring; false when the ring is full or the frame does not fit. */
  rxWrite(frame: Uint8Array, timeUs: number | bigint): boolean {
    const slot = this.rxSlot();
    if (!slot || frame.length > slot.length || frame.length === 0) return false;
    slot.set(frame);
    this.rxCommit(frame.length, timeUs);
    return true;
  }
  /**
   * Hands every frame of the TX ring to `send` (a view into module memory, valid only
   * during the call) and frees the slots. Returns the number of frames.
   */
  txDrain(send: (frame: Uint8Array, timeUs: bigint) => void): number {
    let n = 0;
    const buf = this.memory.buffer;
    while (this.tx.used > 0) {
      const slot = this.tx.slotAddr(this.tx.tail);
      const v = new DataView(buf, slot, ABI.SLOT_HDR_SIZE);
      const len = v.getUint32(ABI.SLOT_LEN_OFF, true);
      send(new Uint8Array(buf, slot + ABI.SLOT_HDR_SIZE, len), v.getBigUint64(ABI.SLOT_TIME_OFF, true));
      this.tx.tail = this.tx.tail + 1;
      n++;
    }
    return n;
  }
  /** Hands every pending event to `fn` (in order) and frees the records. Returns the count. */
  drainEvents(fn: (e: CoreEvent) => void): number {
    let n = 0;
    const buf = this.memory.buffer;
    while (this.events.used > 0) {
      const v = new DataView(buf, this.events.slotAddr(this.events.tail), ABI.EVENT_SIZE);
      const e: CoreEvent = {
        type: v.getUint16(ABI.EVENT_TYPE_OFF, true),
        handle: v.getUint32(ABI.EVENT_HANDLE_OFF, true),
        arg0: v.getUint32(ABI.EVENT_ARG0_OFF, true),
        arg1: v.getUint32(ABI.EVENT_ARG1_OFF, true),
      };
      this.events.tail = this.events.tail + 1;
      fn(e);
      n++;
    }
    return n;
  }

  // ── commands (handles: 0 = failed, reason in lastError()) ──────────────────────
  lastError(): number { return this.x.lastError() | 0; }
  linkUp(): number { return this.x.linkUp() | 0; }
  /** listen on (addr, port); addr 0/undefined = any, port 0 = ephemeral. Handle or 0. */
  listen(port: number, addr?: string | number, backlog = 128): number {
    return this.x.listen(addrOf(addr), port >>> 0, backlog >>> 0) >>> 0;
  }
  /** Active open to remote:port (localAddr/localPort optional). Handle or 0. */
  connect(remote: string | number, remotePort: number, localAddr?: string | number, localPort = 0): number {
    return this.x.connect(addrOf(localAddr), localPort >>> 0, addrOf(remote), remotePort >>> 0) >>> 0;
  }
  accept(listener: number): number { return this.x.accept(listener) >>> 0; }
  /**
   * Copies up to ioSize bytes of `data` into the send buffer; returns bytes taken
   * (may be fewer: wait for EVENT_WRITABLE) or −code.
   */
  send(h: number, data: Uint8Array): number {
    const n = Math.min(data.length, this.ioSize);
    new Uint8Array(this.memory.buffer, this.ioAddr, n).set(n === data.length ? data : data.subarray(0, n));
    return this.x.send(h, n) | 0;
  }
  /** Copies up to dst.length readable bytes into `dst`; returns n > 0, 0 at EOF, or −code (−E_AGAIN: nothing yet). */
  recvInto(h: number, dst: Uint8Array): number {
    const want = Math.min(dst.length, this.ioSize);
    const n = this.x.recv(h, want) | 0;
    if (n > 0) dst.set(new Uint8Array(this.memory.buffer, this.ioAddr, n));
    return n;
  }
  shutdown(h: number): number { return this.x.shutdown(h) | 0; }
  close(h: number): number { return this.x.close(h) | 0; }
  abort(h: number): number { return this.x.abort(h) | 0; }
  setOption(h: number, opt: number, value: number): number { return this.x.setOption(h, opt, value >>> 0) | 0; }
  info(h: number): HandleInfo {
    return {
      localAddr: this.x.localAddr(h) >>> 0,
      localPort: this.x.localPort(h) >>> 0,
      remoteAddr: this.x.remoteAddr(h) >>> 0,
      remotePort: this.x.remotePort(h) >>> 0,
      state: this.x.state(h) >>> 0,
    };
  }
  state(h: number): number { return this.x.state(h) >>> 0; }
  sendQueued(h: number): number { return this.x.sendQueued(h) >>> 0; }
  sendSpace(h: number): number { return this.x.sendSpace(h) >>> 0; }
  recvQueued(h: number): number { return this.x.recvQueued(h) >>> 0; }

  // ── statistics ────────────────────────────────────────────────────────────────
  /** The memory layer's counters (ABI block). */
  counters(): Record<string, bigint> { return readCounters(this.memory, this.abiBase); }
  /** Every counter: memory (plain names), interface (iface_*), TCP (tcp_*). */
  stats(): Record<string, bigint> {
    return readStats(this.memory, this.x.statsSnapshot() >>> 0, IFACE_STAT_NAMES);
  }
  /** Occupancy gauges by name (endpoints, chunksInUse, tableEntries, timersActive, ...). */
  gauges(): Record<string, number> {
    const out: Record<string, number> = {};
    GAUGE_NAMES.forEach((n, i) => { out[n] = Number(this.x.gauge(i)); });
    return out;
  }
  memoryStats(): Record<string, number> { return readMemstats(this.memory, this.abiBase); }
  heapTop(): number { return this.x.heapTop() >>> 0; }
}

export { ERRORS };
