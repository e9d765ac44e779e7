// Stack: one core module instance on one link, with its tick loop and net API.
//
//   const stack = await Stack.create({ link, ipv4: "198.18.0.2/24", gateway: "198.18.0.1" });
//   stack.net.createServer((s) => s.pipe(s)).listen(7);
//   ...
//   await stack.close();   // releases the link and every timer: the process can exit
//
// What create() does, in order (any failure closes nothing it did not open and
// throws with a message naming the option):
//   1. validate the options (types, ranges, address/prefix, gateway on the subnet)
//   2. instantiate the module (release build unless told otherwise)
//   3. write the config block (memory fields through host/stack-core.ts, interface and
//      TCP fields at the offsets the module exports: CFG_MAC_LO, CFG_IPV4_ADDR, ...),
//      then init(nowUs): the module validates everything and carves all memory
//   4. the driver, the net API; linkUp() (gratuitous ARP)
//   5. loop mode: start the tick loop. manual mode: a Pump drives it.
//
// Ownership: the Stack owns the module instance and the link (close() closes it);
// the app owns nothing in linear memory — sockets only hold handles.
//
// Events (a Stack is an EventEmitter):
//   'error' (err)  the stack stopped by itself: its link failed for good (the TAP
//                  device was deleted, the packet socket's interface is gone) or was
//                  closed under it (err.code "ERR_USTACK_LINK_DOWN", err.cause the
//                  device's SysError), or a step of the tick loop threw
//                  ("ERR_USTACK_TICK_FAILED"). Every socket is destroyed with ENETDOWN,
//                  servers close, the link is closed: nothing keeps the process alive.
//                  Emitted only to listeners: without one the error becomes a process
//                  warning (code as above) instead of an uncaught exception.
//   'close' ()     the stack is closed (after close() or after 'error'); stack.failure
//                  says why when it stopped by itself.

import { instantiate, instantiateBytes, type CoreExports, type ModuleFlavor } from "./loader.ts";
import { StackCore } from "./stack-core.ts";
import type { StackConfig } from "./abi.ts";
import type { Link } from "./link/link.ts";
import { checkMac, formatMac } from "./link/link.ts";
import { realClock, VirtualClock, type Clock } from "./link/clock.ts";
import { Driver, Pump, type DriverMode, type DriverStats } from "./driver.ts";
import { TcpCore, TCP_EXPORTS, missingExports, parseIpv4Cidr, ipv4ToU32, u32ToIpv4, maskOf } from "./net/core.ts";
import { NetContext } from "./net/context.ts";
import { createNet, type Net } from "./net/index.ts";
import { Socket } from "./net/socket.ts";
import { Server } from "./net/server.ts";
import { IFACE_STAT_NAMES } from "./iface-stats.ts";
import { EventEmitter } from "node:events";
import process from "node:process";
import type { DriverStopError } from "./driver.ts";
import { COUNTER_NAMES, TCP_STAT_NAMES } from "./abi.ts";

export interface StackOptions {
  /** The link the stack sends and receives frames on (the stack closes it). */
  link: Link;
  /** Our address and prefix, "a.b.c.d/len". */
  ipv4: string;
  /** Default gateway on our subnet (optional). */
  gateway?: string;
  /** Our MAC (default: the link's). */
  mac?: string | Uint8Array;
  /** IP MTU (default: the link's). */
  mtu?: number;
  /** Endpoints for connections (default 1024). */
  maxConnections?: number;
  maxListeners?: number;
  syncacheEntries?: number;
  maxTimeWait?: number;
  /** TIME-WAIT duration in ms (default 60 000; SPEC §5 allows milliseconds for tests). */
  timeWaitMs?: number;
  /** Default of listen's reuseAddress (SO_REUSEADDR: bind over a port held only by TIME-WAIT; default false). */
  reuseAddress?: boolean;
  /** Default of listen's reusePort (SO_REUSEPORT: listeners share a port, SYNs spread by hash; default false). */
  reusePort?: boolean;
  /** Default of connect's twReuse (Linux tcp_tw_reuse: take a TIME-WAIT 4-tuple when timestamps make it safe; default false). */
  twReuse?: boolean;
  /** Ephemeral port range (default 49152–65535, SPEC §5). */
  ephemeralLow?: number;
  ephemeralHigh?: number;
  /** Connection-table shards, a power of two 1..256 (default 256). */
  shards?: number;
  chunkCount?: number;
  chunkSize?: number;
  rxSlots?: number;
  txSlots?: number;
  slotSize?: number;
  eventRingSize?: number;
  useTimerWheel?: boolean;
  /** TCP congestion control of new connections: "cubic" (RFC 9438, default) or "newreno" (RFC 5681/6582). */
  congestionControl?: "cubic" | "newreno";
  /** ARP cache entries, frames waiting for ARP, reassembly slots and size. */
  arpEntries?: number;
  arpPending?: number;
  reasmSlots?: number;
  reasmMaxBytes?: number;
  /** 16-byte secret for the table hash and ISNs (default: host entropy). */
  secret?: Uint8Array;
  /** Time source (default: real time; a VirtualClock selects manual mode). */
  clock?: Clock;
  /** "loop" runs by itself; "manual" is stepped by a Pump (default from the clock). */
  mode?: DriverMode;
  /** Module build to load (default "release"). */
  flavor?: ModuleFlavor;
  /** Module bytes to use instead of the built file (embedding, bundlers). */
  wasm?: Uint8Array;
}

export interface StackStats {
  /** Core counters (assembly/mem/stats.ts), by name. */
  core: Record<string, number>;
  /** Memory accounting, bytes. */
  memory: Record<string, number>;
  /** Interface layer counters (Ethernet/ARP/IPv4/ICMP), by reason. */
  iface: Record<string, number>;
  /** TCP engine counters (segsIn, retransmits, ...). */
  tcp: Record<string, number>;
  /** The link's counters (and driver-specific extras). */
  link: Record<string, unknown>;
  /** The tick loop's counters. */
  driver: DriverStats;
  /** Occupancy now (endpoints, connections, chunksInUse, tableEntries, timersActive, timeWait, ...). */
  gauges: Record<string, number>;
}

/** Exports Stack needs beyond the base ABI (configAddr, abiBase, init, tick). */
export const STACK_EXPORTS = ["linkUp", "statsSnapshot"] as const;
/** Config-block offsets Stack writes (exported by the module as constants). */
const CFG_FIELDS = [
  "CFG_MAC_LO", "CFG_MAC_HI", "CFG_IPV4_ADDR", "CFG_PREFIX_LEN", "CFG_GATEWAY", "CFG_MTU",
  "CFG_ARP_ENTRIES", "CFG_ARP_PENDING", "CFG_REASM_SLOTS", "CFG_REASM_MAX_BYTES", "CFG_TIME_WAIT_MS",
] as const;
/** Value of an exported constant (a WebAssembly.Global, or a plain value through the loader). */
function constant(x: CoreExports, name: string): number | undefined {
  const v = num(x[name]);
  return Number.isFinite(v) ? v : undefined;
}

function intOption(o: Record<string, unknown>, name: string, lo: number, hi: number): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number") {
    throw new TypeError(`ustack: option ${name} must be a number, an integer from ${lo} to ${hi} (got ${typeof v} ${JSON.stringify(v)})`);
  }
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`ustack: option ${name} must be an integer from ${lo} to ${hi} (got ${JSON.stringify(v)})`);
  }
  return v;
}

const KNOWN_OPTIONS = new Set([
  "link", "ipv4", "gateway", "mac", "mtu", "maxConnections", "maxListeners", "syncacheEntries",
  "maxTimeWait", "timeWaitMs", "shards", "chunkCount", "chunkSize", "rxSlots", "txSlots", "slotSize",
  "eventRingSize", "useTimerWheel", "arpEntries", "arpPending", "reasmSlots", "reasmMaxBytes", "secret",
  "clock", "mode", "flavor", "wasm", "reuseAddress", "reusePort", "twReuse", "ephemeralLow", "ephemeralHigh",
  "congestionControl",
]);

interface Checked {
  config: StackConfig;
  addr: number;
  prefixLen: number;
  gateway: number;
  mac: Uint8Array;
  mtu: number;
  timeWaitMs: number | undefined;
  arpEntries: number;
  arpPending: number;
  reasmSlots: number;
  reasmMaxBytes: number;
  mode: DriverMode;
  clock: Clock;
}

/** Validates every option; throws TypeError/RangeError naming the option. */
export function checkStackOptions(options: StackOptions): Checked {
  if (options === null || typeof options !== "object") throw new TypeError("ustack: Stack.create needs an options object");
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) throw new TypeError(`ustack: unknown option ${k}`);
  }
  const link = options.link;
  if (!link || typeof link.receiveBatch !== "function" || typeof link.send !== "function" || typeof link.waitReadable !== "function") {
    throw new TypeError("ustack: option link must be a Link (host/link: memory pair end, TapLink, PacketLink, PcapLink, ImpairLink)");
  }
  if (link.closed) throw new TypeError("ustack: option link is already closed");
  if (link.failure) throw new TypeError(`ustack: option link has failed (${link.failure.message})`);
  const o = options as unknown as Record<string, unknown>;
  const { addr, prefixLen } = parseIpv4Cidr(options.ipv4, "ustack: option ipv4");
  const mask = maskOf(prefixLen);
  const notHost = notUnicastHost(addr);
  if (notHost !== null) throw new RangeError(`ustack: option ipv4 ${options.ipv4} is not a unicast host address${notHost}`);
  if (prefixLen < 31 && ((addr & ~mask) >>> 0 === 0 || (addr | mask) >>> 0 === 0xffffffff)) {
    throw new RangeError(`ustack: option ipv4 ${options.ipv4} is the network or broadcast address of its subnet`);
  }
  let gateway = 0;
  if (options.gateway !== undefined) {
    gateway = ipv4ToU32(options.gateway, "ustack: option gateway");
    const subnet = `${u32ToIpv4((addr & mask) >>> 0)}/${prefixLen}`;
    if (gateway === addr) throw new RangeError(`ustack: option gateway ${options.gateway} is our own address`);
    const gwNotHost = notUnicastHost(gateway);
    if (gwNotHost !== null) throw new RangeError(`ustack: option gateway ${options.gateway} is not a unicast host address${gwNotHost}`);
    if (((gateway & mask) >>> 0) !== ((addr & mask) >>> 0)) {
      throw new RangeError(`ustack: option gateway ${options.gateway} is not on our subnet ${subnet}`);
    }
    if (prefixLen < 31 && (gateway & ~mask) >>> 0 === 0) {
      throw new RangeError(`ustack: option gateway ${options.gateway} is the network address of our subnet ${subnet}, not a host on it`);
    }
    if (prefixLen < 31 && (gateway | mask) >>> 0 === 0xffffffff) {
      throw new RangeError(`ustack: option gateway ${options.gateway} is the broadcast address of our subnet ${subnet}, not a host on it`);
    }
  }
  const mac = checkMac(options.mac ?? link.mac, "ustack: option mac");
  if (mac.every((b) => b === 0)) throw new RangeError("ustack: option mac must not be 00:00:00:00:00:00");
  const mtu = intOption(o, "mtu", 576, 65535) ?? link.mtu;
  if (mtu > link.mtu) throw new RangeError(`ustack: option mtu ${mtu} exceeds the link's MTU ${link.mtu}`);
  const config: StackConfig = {
    maxConnections: intOption(o, "maxConnections", 1, 1 << 22),
    maxListeners: intOption(o, "maxListeners", 1, 1 << 20),
    syncacheEntries: intOption(o, "syncacheEntries", 1, 1 << 22),
    maxTimeWait: intOption(o, "maxTimeWait", 1, 1 << 22),
    chunkCount: intOption(o, "chunkCount", 1, 1 << 24),
    chunkSize: intOption(o, "chunkSize", 64, 32768),
    rxSlots: intOption(o, "rxSlots", 1, 1 << 20),
    txSlots: intOption(o, "txSlots", 1, 1 << 20),
    slotSize: intOption(o, "slotSize", 128, 65536),
    eventRingSize: intOption(o, "eventRingSize", 1, 1 << 22),
    shards: intOption(o, "shards", 1, 256),
  };
  for (const k of ["rxSlots", "txSlots", "eventRingSize", "shards"] as const) {
    const v = config[k];
    if (v !== undefined && (v & (v - 1)) !== 0) throw new RangeError(`ustack: option ${k} must be a power of two (got ${v})`);
  }
  if (options.useTimerWheel !== undefined) {
    if (typeof options.useTimerWheel !== "boolean") throw new TypeError("ustack: option useTimerWheel must be a boolean");
    config.useTimerWheel = options.useTimerWheel;
  }
  if (options.congestionControl !== undefined) {
    if (options.congestionControl !== "cubic" && options.congestionControl !== "newreno") {
      throw new RangeError(`ustack: option congestionControl must be "cubic" or "newreno" (got ${JSON.stringify(options.congestionControl)})`);
    }
    config.congestionControl = options.congestionControl === "newreno" ? 1 : 0;
  }
  if (options.secret !== undefined) {
    if (!(options.secret instanceof Uint8Array) || options.secret.byteLength !== 16) throw new TypeError("ustack: option secret must be a Uint8Array of 16 bytes");
    config.secret = options.secret;
  }
  const slot = config.slotSize ?? 2048;
  if (slot - 16 < link.maxFrameLen) {
    throw new RangeError(`ustack: option slotSize ${slot} holds frames up to ${slot - 16} bytes; the link needs ${link.maxFrameLen} (MTU ${link.mtu})`);
  }
  const timeWaitMs = intOption(o, "timeWaitMs", 0, 0xffffffff);
  for (const k of ["reuseAddress", "reusePort", "twReuse"] as const) {
    if (options[k] !== undefined && typeof options[k] !== "boolean") throw new TypeError(`ustack: option ${k} must be a boolean`);
  }
  const ephemeralLow = intOption(o, "ephemeralLow", 1, 65535);
  const ephemeralHigh = intOption(o, "ephemeralHigh", 1, 65535);
  if ((ephemeralLow ?? 49152) > (ephemeralHigh ?? 65535)) {
    throw new RangeError(`ustack: options ephemeralLow..ephemeralHigh must be a non-empty range (got ${ephemeralLow ?? 49152}..${ephemeralHigh ?? 65535})`);
  }
  if (ephemeralLow !== undefined) config.ephemeralLow = ephemeralLow;
  if (ephemeralHigh !== undefined) config.ephemeralHigh = ephemeralHigh;
  const clock = options.clock ?? realClock;
  if (clock == null || typeof (clock as Partial<Clock>).nowUs !== "function") throw new TypeError("ustack: option clock must have nowUs()");
  checkClockReading(clock);
  const mode = options.mode ?? (clock instanceof VirtualClock ? "manual" : "loop");
  if (mode !== "loop" && mode !== "manual") throw new TypeError(`ustack: option mode must be "loop" or "manual" (got ${JSON.stringify(mode)})`);
  if (options.flavor !== undefined && !["release", "debug"].includes(options.flavor)) {
    throw new TypeError(`ustack: option flavor must be "release" or "debug"`);
  }
  if (options.wasm !== undefined && !(options.wasm instanceof Uint8Array)) throw new TypeError("ustack: option wasm must be a Uint8Array of module bytes");
  return {
    config, addr, prefixLen, gateway, mac, mtu, timeWaitMs, clock, mode,
    arpEntries: intOption(o, "arpEntries", 1, 65536) ?? 64,
    arpPending: intOption(o, "arpPending", 0, 65536) ?? 64,
    reasmSlots: intOption(o, "reasmSlots", 0, 1024) ?? 4,
    reasmMaxBytes: intOption(o, "reasmMaxBytes", 8, 65515) ?? 65515,
  };
}

/**
 * Why `a` cannot be a host's own (or its gateway's) address, as a suffix for the
 * message ("" for the obvious kinds: broadcast, loopback, multicast), or null when it
 * can (RFC 1122 §3.2.1.3, RFC 6890 special-purpose registry).
 */
function notUnicastHost(a: number): string | null {
  const top = a >>> 24;
  if (a === 0xffffffff || top === 127 || a >>> 28 === 0xe) return "";
  if (top === 0) return " (0.0.0.0/8 is \"this network\", RFC 1122 §3.2.1.3)";
  if (a >>> 28 === 0xf) return " (240.0.0.0/4 is reserved, RFC 1112 §4)";
  return null;
}

/** Reads the clock once: nowUs() must give a finite, non-negative number of µs. */
function checkClockReading(clock: Clock): void {
  let v: unknown;
  try {
    v = clock.nowUs();
  } catch (e) {
    throw new TypeError(`ustack: option clock: nowUs() threw (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  if (typeof v !== "number") {
    throw new TypeError(`ustack: option clock: nowUs() must return a number of microseconds (got ${typeof v === "bigint" ? `${v}n, a bigint` : `${String(v)}, a ${typeof v}`})`);
  }
  if (!(v >= 0) || v > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`ustack: option clock: nowUs() returned ${v}; it must return a finite, non-negative number of microseconds`);
  }
}

function macToBigInt(mac: Uint8Array): bigint {
  let v = 0n;
  for (const b of mac) v = (v << 8n) | BigInt(b);
  return v;
}

function num(v: unknown): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "value" in v) return num((v as { value: unknown }).value);
  return NaN;
}

export class Stack extends EventEmitter {
  /** node:net-compatible API on this stack. */
  readonly net: Net;
  /** Our address ("a.b.c.d") and prefix length. */
  readonly address: string;
  readonly prefixLen: number;
  readonly mac: string;
  private closing: Promise<void> | null = null;
  private stoppedBy: DriverStopError | null = null;

  private constructor(
    readonly core: StackCore,
    readonly tcp: TcpCore,
    readonly driver: Driver,
    private readonly ctx: NetContext,
    checked: Checked,
  ) {
    super();
    this.net = createNet(ctx);
    this.address = u32ToIpv4(checked.addr);
    this.prefixLen = checked.prefixLen;
    this.mac = formatMac(checked.mac);
    driver.onStop = (err) => this.stopped(err);
  }

  /** Why the stack stopped by itself (see the 'error' event), null otherwise. */
  get failure(): DriverStopError | null {
    return this.stoppedBy;
  }

  /**
   * The driver stopped by itself (link down, failed step): report it ('error' to
   * listeners, a process warning otherwise) and close everything, as close() does, but
   * with the sockets destroyed by ENETDOWN. Nothing to report when close() runs already.
   */
  private stopped(err: DriverStopError): void {
    if (this.closing) return;
    this.stoppedBy = err;
    this.closing = this.shutDown(err);
    this.closing.catch(() => undefined); // a failing close of the device is for close()'s callers
    if (this.listenerCount("error") > 0) this.emit("error", err);
    else process.emitWarning(err.message, { code: err.code, detail: "Listen for the stack's 'error' event to handle it." });
  }

  /** Destroys every socket and server, closes the driver and the link, then emits 'close'. */
  private async shutDown(err: Error | null): Promise<void> {
    this.ctx.closing = true;
    const targets = this.ctx.targets();
    for (const t of targets) {
      if (t instanceof Socket) {
        if (err) t.netDown(err);
        else t.destroy();
      }
    }
    for (const t of targets) if (t instanceof Server) t.destroyAll();
    if (!err) this.driver.step(); // let the FIN/RSTs of the destroyed sockets go out
    try {
      await this.driver.close();
    } finally {
      process.nextTick(() => this.emit("close"));
    }
  }

  /** Builds a stack on `options.link`; rejects invalid options with a message naming the option. */
  static async create(options: StackOptions): Promise<Stack> {
    const c = checkStackOptions(options);
    const exports = options.wasm ? await instantiateBytes(options.wasm) : (await instantiate(options.flavor ?? "release")).exports;
    const missing = [
      ...missingExports(exports, [...STACK_EXPORTS, ...TCP_EXPORTS]),
      ...CFG_FIELDS.filter((n) => constant(exports, n) === undefined),
    ];
    if (missing.length) {
      throw new Error(`ustack: the core module does not export ${missing.join(", ")} (the TCP/interface integration is not in this build of assembly/index.ts; see docs/api.md "Core exports")`);
    }
    // Interface and TCP fields of the config block; StackCore.init writes the rest and runs init.
    const cfg = new DataView(exports.memory.buffer, exports.configAddr() >>> 0, constant(exports, "CONFIG_SIZE") ?? 192);
    const put = (name: (typeof CFG_FIELDS)[number], v: number) => cfg.setUint32(constant(exports, name)!, v >>> 0, true);
    const mac = macToBigInt(c.mac);
    put("CFG_MAC_LO", Number(mac & 0xffffffffn));
    put("CFG_MAC_HI", Number(mac >> 32n));
    put("CFG_IPV4_ADDR", c.addr);
    put("CFG_PREFIX_LEN", c.prefixLen);
    put("CFG_GATEWAY", c.gateway);
    put("CFG_MTU", c.mtu);
    put("CFG_ARP_ENTRIES", c.arpEntries);
    put("CFG_ARP_PENDING", c.arpPending);
    put("CFG_REASM_SLOTS", c.reasmSlots);
    put("CFG_REASM_MAX_BYTES", c.reasmMaxBytes);
    if (c.timeWaitMs !== undefined) put("CFG_TIME_WAIT_MS", c.timeWaitMs);
    const core = StackCore.init(exports, c.config, BigInt(Math.floor(c.clock.nowUs())));
    const tcp = new TcpCore(exports);
    let ctx: NetContext | null = null;
    const driver = new Driver(core, options.link, c.clock, (t, h, a0, a1) => ctx?.onEvent(t, h, a0, a1), c.mode);
    ctx = new NetContext(tcp, driver, c.addr, u32ToIpv4(c.addr));
    ctx.portOptions = { reuseAddress: options.reuseAddress ?? false, reusePort: options.reusePort ?? false, twReuse: options.twReuse ?? false };
    const stack = new Stack(core, tcp, driver, ctx, c);
    exports.linkUp(); // gratuitous ARP (a full TX ring only loses the announcement)
    driver.flushTx();
    driver.start();
    return stack;
  }

  /** Every counter: core, memory, interface, TCP, link, tick loop. */
  stats(): StackStats {
    const x = this.core.exports;
    const block = x.statsSnapshot() >>> 0;
    const words = new BigUint64Array(x.memory.buffer, block, constant(x, "STATS_COUNT") ?? 0);
    const section = (names: readonly string[], offName: string): Record<string, number> => {
      const off = constant(x, offName) ?? 0;
      const out: Record<string, number> = {};
      names.forEach((n, i) => { if (off + i < words.length) out[n] = Number(words[off + i]); });
      return out;
    };
    return {
      core: section(COUNTER_NAMES, "STATS_MEM_OFF"),
      memory: this.core.memoryStats(),
      iface: section(IFACE_STAT_NAMES, "STATS_IFACE_OFF"),
      tcp: section(TCP_STAT_NAMES, "STATS_TCP_OFF"),
      link: { kind: this.driver.link.kind, name: this.driver.link.name, ...this.driver.link.stats() },
      driver: this.driver.stats(),
      gauges: this.core.gauges(),
    };
  }

  /** The link this stack runs on. */
  get link(): Link {
    return this.driver.link;
  }

  get clock(): Clock {
    return this.driver.clock;
  }

  /**
   * Destroys every socket and server, stops the tick loop and host timers, and closes
   * the link. Idempotent. Afterwards nothing of the stack keeps the process alive.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutDown(null);
    return this.closing;
  }
}

/** A Pump over stacks that share one VirtualClock (tests, benchmarks). */
export function pumpStacks(clock: VirtualClock, ...stacks: Stack[]): Pump {
  return new Pump(clock, stacks.map((s) => s.driver));
}
