// TypeScript mirror of the module's shared-memory layout (assembly/abi.ts,
// assembly/config.ts, assembly/mem/stats.ts, assembly/errors.ts). Every number here
// is also exported by the module; tests/host/abi.test.ts checks that they agree.
// Diagrams: docs/abi.md.

export const ABI = {
  ABI_MAGIC: 0x4b545355,
  ABI_VERSION: 1,
  ABI_MAGIC_OFF: 0,
  ABI_VERSION_OFF: 4,
  ABI_STATE_OFF: 8,
  ABI_INIT_ERROR_OFF: 12,
  ABI_RX_RING_OFF: 16,
  ABI_TX_RING_OFF: 48,
  ABI_EVENT_RING_OFF: 80,
  ABI_COUNTERS_OFF: 112,
  ABI_MEMSTATS_OFF: 368,
  ABI_BLOCK_SIZE: 496,
  COUNTER_COUNT: 32,
  MEMSTAT_COUNT: 16,
  RING_HDR_SIZE: 32,
  RING_HEAD_OFF: 0,
  RING_TAIL_OFF: 4,
  RING_SLOTS_OFF: 8,
  RING_SLOT_SIZE_OFF: 12,
  RING_BASE_OFF: 16,
  RING_MASK_OFF: 20,
  RING_DROPPED_OFF: 24,
  SLOT_HDR_SIZE: 16,
  SLOT_LEN_OFF: 0,
  SLOT_FLAGS_OFF: 4,
  SLOT_TIME_OFF: 8,
  EVENT_SIZE: 16,
  EVENT_TYPE_OFF: 0,
  EVENT_FLAGS_OFF: 2,
  EVENT_HANDLE_OFF: 4,
  EVENT_ARG0_OFF: 8,
  EVENT_ARG1_OFF: 12,
  CONFIG_VERSION: 1,
  CONFIG_SIZE: 192,
  CFG_VERSION: 0,
  CFG_MAX_CONNECTIONS: 4,
  CFG_MAX_LISTENERS: 8,
  CFG_SYNCACHE_ENTRIES: 12,
  CFG_MAX_TIME_WAIT: 16,
  CFG_CHUNK_COUNT: 20,
  CFG_CHUNK_SIZE: 24,
  CFG_RX_SLOTS: 28,
  CFG_TX_SLOTS: 32,
  CFG_SLOT_SIZE: 36,
  CFG_EVENT_RING_SIZE: 40,
  CFG_SHARDS: 44,
  CFG_USE_TIMER_WHEEL: 48,
  CFG_IO_BUF_SIZE: 52,
  CFG_RX_BUDGET: 56,
  CFG_SECRET: 64,
  CFG_SECRET_SIZE: 16,
  CFG_MAC_LO: 80,
  CFG_MAC_HI: 84,
  CFG_IPV4_ADDR: 88,
  CFG_PREFIX_LEN: 92,
  CFG_GATEWAY: 96,
  CFG_MTU: 100,
  CFG_ARP_ENTRIES: 104,
  CFG_ARP_PENDING: 108,
  CFG_REASM_SLOTS: 112,
  CFG_REASM_MAX_BYTES: 116,
  CFG_TIME_WAIT_MS: 120,
  CFG_SND_BUF: 124,
  CFG_RCV_BUF: 128,
  CFG_RTO_MIN_MS: 132,
  CFG_RTO_MAX_MS: 136,
  CFG_MAX_RETRIES: 140,
  CFG_SYN_RETRIES: 144,
  CFG_SYNACK_RETRIES: 148,
  CFG_DELACK_MS: 152,
  CFG_KEEP_IDLE_MS: 156,
  CFG_KEEP_INTVL_MS: 160,
  CFG_KEEP_COUNT: 164,
  CFG_SYNCACHE_MAX: 168,
  CFG_EPHEMERAL_LOW: 172,
  CFG_EPHEMERAL_HIGH: 176,
  CFG_CHALLENGE_ACK_LIMIT: 180,
  CFG_CONGESTION_CONTROL: 184,
  STATS_COUNT: 124,
  STATS_MEM_OFF: 0,
  STATS_IFACE_OFF: 32,
  STATS_TCP_OFF: 100,
  TCP_STAT_COUNT: 24,
  GAUGE_COUNT: 22,
  EVENT_ACCEPTED: 1,
  EVENT_CONNECTED: 2,
  EVENT_READABLE: 3,
  EVENT_WRITABLE: 4,
  EVENT_PEER_CLOSED: 5,
  EVENT_CLOSED: 6,
  EVENT_ERROR: 7,
  OPT_NODELAY: 1,
  OPT_KEEPALIVE: 2,
  OPT_SNDBUF: 3,
  OPT_RCVBUF: 4,
} as const;

export type AbiConstant = keyof typeof ABI;

/** Counter names in index order (assembly/mem/stats.ts C_*). */
export const COUNTER_NAMES = [
  "endpointsExhausted", "listenersExhausted", "syncacheExhausted", "timeWaitExhausted",
  "chunksExhausted", "tableExhausted", "rxRingFull", "txRingFull", "eventRingFull",
  "staleHandle", "invalidHandle", "rxBadLength", "rxRingCorrupt", "txCommitInvalid",
  "bindConflict", "timerNoOwner", "rxFrames", "txFrames", "events", "rxNoHandler",
] as const;

/** Memory-accounting words in index order (assembly/mem/stats.ts M_*), bytes. */
export const MEMSTAT_NAMES = [
  "bytesPerConnection", "endpointSlab", "table", "syncacheSlab", "timeWaitSlab", "chunkPool",
  "rxRing", "txRing", "eventRing", "timers", "total", "endpointRecord", "tableEntry",
  "iface", "ioBuffer",
] as const;

/** TCP counters in stats-block order (glue/stats.ts, from tcp/config.ts stat*). */
export const TCP_STAT_NAMES = [
  "segsIn", "segsOut", "dropMalformed", "dropChecksum", "dropNoEndpoint", "rstSent",
  "dropUnacceptable", "challengeAcks", "challengeAckLimited", "syncacheOverflow",
  "acceptOverflow", "endpointsExhausted", "retransmits", "fastRetransmits", "timeouts",
  "oooDropped", "pawsDropped", "optMalformed", "wsClamped", "txFull", "rstIgnoredTimeWait",
] as const;

/** Gauges in id order (glue/api.ts GAUGE_*): occupancy right now. */
export const GAUGE_NAMES = [
  "endpoints", "connections", "listeners", "syncache", "chunksInUse", "chunksHighWater",
  "chunksFree", "tableEntries", "timersActive", "pendingOutput", "rxPending", "arpEntries",
  // TIME-WAIT (issue 6): compact records now and the bytes they hold (records + table
  // entries), then monotonic counts since init read through the same call.
  "timeWait", "timeWaitBytes", "twEntered", "twExpired", "twSynAccepted", "twSynRejected",
  "twFinAcked", "twReused", "twAcks", "twAckLimited",
] as const;

/**
 * Options in the high byte of the port argument of listen() and connect()
 * (assembly/glue/api.ts PORT_OPT_*): `port | PORT_OPT.REUSE_ADDR`, ...
 */
export const PORT_OPT = {
  /** SO_REUSEADDR: bind over a port or 4-tuple held only by TIME-WAIT. */
  REUSE_ADDR: 0x0100_0000,
  /** SO_REUSEPORT: listeners with it share (address, port); SYNs spread by 4-tuple hash. */
  REUSE_PORT: 0x0200_0000,
  /** tcp_tw_reuse (connect only): take a 4-tuple from TIME-WAIT when timestamps make it safe. */
  TW_REUSE: 0x0400_0000,
} as const;

/** TCP states (assembly/tcp/state.ts), by value. */
export const TCP_STATES = [
  "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
  "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
] as const;

/** Result codes (assembly/errors.ts; 100–199 interface, 200–299 TCP live in their layers). */
export const ERRORS = {
  OK: 0,
  E_INVALID_HANDLE: 1,
  E_STALE_HANDLE: 2,
  E_NOT_INITIALIZED: 3,
  E_ALREADY_INITIALIZED: 4,
  E_CONFIG_ZERO: 10,
  E_CONFIG_TOO_LARGE: 11,
  E_CONFIG_SHARDS: 12,
  E_CONFIG_NOT_POW2: 13,
  E_CONFIG_SLOT_SIZE: 14,
  E_CONFIG_CHUNK_SIZE: 15,
  E_CONFIG_COUNT: 16,
  E_CONFIG_VERSION: 17,
  E_OUT_OF_MEMORY: 18,
  E_ENDPOINTS_EXHAUSTED: 20,
  E_LISTENERS_EXHAUSTED: 21,
  E_SYNCACHE_EXHAUSTED: 22,
  E_TIMEWAIT_EXHAUSTED: 23,
  E_CHUNKS_EXHAUSTED: 24,
  E_TABLE_EXHAUSTED: 25,
  E_RX_RING_FULL: 26,
  E_TX_RING_FULL: 27,
  E_EVENT_RING_FULL: 28,
  E_ADDR_IN_USE: 30,
  E_EXISTS: 31,
  E_NOT_FOUND: 32,
  E_BAD_LENGTH: 40,
  E_BAD_ARGUMENT: 41,
  E_ADDR_NOT_AVAILABLE: 45,
  // config.ts: interface and TCP fields
  E_CONFIG_MAC: 50,
  E_CONFIG_ADDR: 51,
  E_CONFIG_PREFIX: 52,
  E_CONFIG_GATEWAY: 53,
  E_CONFIG_MTU: 54,
  E_CONFIG_ARP: 55,
  E_CONFIG_REASM: 56,
  E_CONFIG_TCP_TIMER: 57,
  E_CONFIG_TCP_RETRIES: 58,
  E_CONFIG_BUFFER: 59,
  E_CONFIG_PORTS: 60,
  E_CONFIG_IO_BUFFER: 61,
  E_CONFIG_BUDGET: 62,
  E_CONFIG_CC: 63,
  // iface/errors.ts (the ones commands return)
  E_IF_NO_ROUTE: 106,
  E_IF_CONFIG: 110,
  // tcp/codes.ts
  E_CONNREFUSED: 201,
  E_CONNRESET: 202,
  E_TIMEDOUT: 203,
  E_PIPE: 204,
  E_NOTCONN: 205,
  E_BAD_STATE: 206,
  E_NO_PORT: 207,
  E_AGAIN: 208,
  E_NO_PENDING: 209,
  E_ABORTED: 210,
} as const;

/** Name of a module result code ("E_CONNRESET"), or "code N". */
export function errorName(code: number): string {
  for (const [k, v] of Object.entries(ERRORS)) if (v === code) return k;
  return `code ${code}`;
}

/** Stack configuration (assembly/config.ts). Omitted fields keep the module's defaults. */
export interface StackConfig {
  maxConnections?: number;
  maxListeners?: number;
  syncacheEntries?: number;
  maxTimeWait?: number;
  chunkCount?: number;
  chunkSize?: number;
  rxSlots?: number;
  txSlots?: number;
  slotSize?: number;
  eventRingSize?: number;
  shards?: number;
  useTimerWheel?: boolean;
  /** 16 bytes; host entropy when omitted. */
  secret?: Uint8Array;
  /** Host I/O buffer bytes (send/recv copy through it; default 65536). */
  ioBufSize?: number;
  /** RX frames one tick takes at most (default 256). */
  rxBudget?: number;
  // interface (omit ipv4 for a stack without an interface)
  /** Our MAC: "02:00:00:00:00:0a", 6 bytes, or a number/bigint (48 bits). */
  mac?: string | Uint8Array | number | bigint;
  /** Our IPv4 address: "10.0.0.1", "10.0.0.1/24" (sets prefixLen), or a number. */
  ipv4?: string | number;
  prefixLen?: number;
  gateway?: string | number;
  mtu?: number;
  arpEntries?: number;
  arpPending?: number;
  reasmSlots?: number;
  reasmMaxBytes?: number;
  // TCP (assembly/tcp/config.ts)
  timeWaitMs?: number;
  sndBuf?: number;
  rcvBuf?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  maxRetries?: number;
  synRetries?: number;
  synAckRetries?: number;
  delAckMs?: number;
  keepIdleMs?: number;
  keepIntvlMs?: number;
  keepCount?: number;
  synCacheMax?: number;
  ephemeralLow?: number;
  ephemeralHigh?: number;
  challengeAckLimit?: number;
  /** 0 = CUBIC (RFC 9438, default), 1 = NewReno (RFC 5681/6582). */
  congestionControl?: number;
}

/** "a.b.c.d" → u32 (numeric order: 10.0.0.1 = 0x0a000001). Throws on anything else. */
export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new TypeError(`ustack: not an IPv4 address: "${s}"`);
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) throw new TypeError(`ustack: not an IPv4 address: "${s}"`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** u32 → "a.b.c.d". */
export function formatIpv4(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** A MAC as a bigint (48 bits): "02:00:00:00:00:0a", 6 bytes, number or bigint. */
export function macToBigInt(mac: string | Uint8Array | number | bigint): bigint {
  if (typeof mac === "bigint") return mac;
  if (typeof mac === "number") return BigInt(mac);
  let bytes: Uint8Array;
  if (typeof mac === "string") {
    const parts = mac.split(/[:-]/);
    if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new TypeError(`ustack: not a MAC address: "${mac}"`);
    bytes = Uint8Array.from(parts.map((p) => parseInt(p, 16)));
  } else {
    if (mac.length !== 6) throw new TypeError(`ustack: a MAC address has 6 bytes (got ${mac.length})`);
    bytes = mac;
  }
  let v = 0n;
  for (const x of bytes) v = (v << 8n) | BigInt(x);
  return v;
}

const CONFIG_FIELDS: ReadonlyArray<[keyof StackConfig, number]> = [
  ["maxConnections", ABI.CFG_MAX_CONNECTIONS],
  ["maxListeners", ABI.CFG_MAX_LISTENERS],
  ["syncacheEntries", ABI.CFG_SYNCACHE_ENTRIES],
  ["maxTimeWait", ABI.CFG_MAX_TIME_WAIT],
  ["chunkCount", ABI.CFG_CHUNK_COUNT],
  ["chunkSize", ABI.CFG_CHUNK_SIZE],
  ["rxSlots", ABI.CFG_RX_SLOTS],
  ["txSlots", ABI.CFG_TX_SLOTS],
  ["slotSize", ABI.CFG_SLOT_SIZE],
  ["eventRingSize", ABI.CFG_EVENT_RING_SIZE],
  ["shards", ABI.CFG_SHARDS],
  ["ioBufSize", ABI.CFG_IO_BUF_SIZE],
  ["rxBudget", ABI.CFG_RX_BUDGET],
  ["prefixLen", ABI.CFG_PREFIX_LEN],
  ["mtu", ABI.CFG_MTU],
  ["arpEntries", ABI.CFG_ARP_ENTRIES],
  ["arpPending", ABI.CFG_ARP_PENDING],
  ["reasmSlots", ABI.CFG_REASM_SLOTS],
  ["reasmMaxBytes", ABI.CFG_REASM_MAX_BYTES],
  ["timeWaitMs", ABI.CFG_TIME_WAIT_MS],
  ["sndBuf", ABI.CFG_SND_BUF],
  ["rcvBuf", ABI.CFG_RCV_BUF],
  ["rtoMinMs", ABI.CFG_RTO_MIN_MS],
  ["rtoMaxMs", ABI.CFG_RTO_MAX_MS],
  ["maxRetries", ABI.CFG_MAX_RETRIES],
  ["synRetries", ABI.CFG_SYN_RETRIES],
  ["synAckRetries", ABI.CFG_SYNACK_RETRIES],
  ["delAckMs", ABI.CFG_DELACK_MS],
  ["keepIdleMs", ABI.CFG_KEEP_IDLE_MS],
  ["keepIntvlMs", ABI.CFG_KEEP_INTVL_MS],
  ["keepCount", ABI.CFG_KEEP_COUNT],
  ["synCacheMax", ABI.CFG_SYNCACHE_MAX],
  ["ephemeralLow", ABI.CFG_EPHEMERAL_LOW],
  ["ephemeralHigh", ABI.CFG_EPHEMERAL_HIGH],
  ["challengeAckLimit", ABI.CFG_CHALLENGE_ACK_LIMIT],
  ["congestionControl", ABI.CFG_CONGESTION_CONTROL],
];

/**
 * A config value as the u32 its slot holds. Every numeric field of the config block is
 * a little-endian u32, so the host accepts exactly the integers 0..2^32−1 and throws a
 * RangeError naming the field for anything else (2^32 + 8, 2048.5, −1, NaN, a string):
 * `Number(v) >>> 0` used to reduce such values mod 2^32 and init then ran with a
 * configuration nobody asked for (2^32 + 8 connections → 8). The meaning of each value
 * (zero, powers of two, limits, address rules) stays the module's to check, one result
 * code per rule (assembly/config.ts).
 */
function configU32(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`ustack: config ${name} must be an integer in 0..4294967295 (got ${typeof v === "number" ? v : typeof v})`);
  }
  return v;
}

/** An IPv4 address given as a number: any 32-bit pattern, also the negative int32 that `|` and `<<` produce. */
function configAddr32(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new RangeError(`ustack: config ${name} must be an IPv4 address or a 32-bit integer (got ${typeof v === "number" ? v : typeof v})`);
  }
  return v >>> 0;
}

/** Writes `config` into the module's config block at `addr` (u32 fields, little-endian). Throws RangeError on a value no u32 field can hold. */
export function writeConfig(memory: WebAssembly.Memory, addr: number, config: StackConfig, entropy: (n: number) => Uint8Array): void {
  // Check every field before writing any, so a refused config leaves the block as it was.
  const values: Array<[number, number]> = [];
  for (const [name, off] of CONFIG_FIELDS) {
    const v = config[name];
    if (v !== undefined) values.push([off, configU32(name, v)]);
  }
  let ipv4: number | undefined;
  if (config.ipv4 !== undefined) {
    let a = config.ipv4;
    if (typeof a === "string") {
      const [text, len] = a.split("/");
      if (len !== undefined) {
        if (!/^\d{1,2}$/.test(len)) throw new TypeError(`ustack: bad prefix length in "${a}"`);
        values.push([ABI.CFG_PREFIX_LEN, Number(len)]);
      }
      a = parseIpv4(text);
    }
    ipv4 = configAddr32("ipv4", a);
  }
  let gateway: number | undefined;
  if (config.gateway !== undefined) {
    gateway = configAddr32("gateway", typeof config.gateway === "string" ? parseIpv4(config.gateway) : config.gateway);
  }
  let mac: bigint | undefined;
  if (config.mac !== undefined) {
    if (typeof config.mac === "number" && !Number.isSafeInteger(config.mac)) throw new RangeError(`ustack: config mac must be an integer (got ${config.mac})`);
    mac = macToBigInt(config.mac);
    // Two u32 slots (MAC_LO, MAC_HI): 64 bits; the module rejects more than 48 (E_CONFIG_MAC).
    if (mac < 0n || mac > 0xffffffffffffffffn) throw new RangeError(`ustack: config mac must fit 48 bits (got ${mac})`);
  }
  const view = new DataView(memory.buffer, addr, ABI.CONFIG_SIZE);
  for (const [off, v] of values) view.setUint32(off, v, true);
  if (ipv4 !== undefined) view.setUint32(ABI.CFG_IPV4_ADDR, ipv4, true);
  if (gateway !== undefined) view.setUint32(ABI.CFG_GATEWAY, gateway, true);
  if (mac !== undefined) {
    const m = mac;
    view.setUint32(ABI.CFG_MAC_LO, Number(m & 0xffffffffn), true);
    view.setUint32(ABI.CFG_MAC_HI, Number((m >> 32n) & 0xffffffffn), true);
  }
  if (config.useTimerWheel !== undefined) view.setUint32(ABI.CFG_USE_TIMER_WHEEL, config.useTimerWheel ? 1 : 0, true);
  const secret = config.secret ?? entropy(ABI.CFG_SECRET_SIZE);
  if (secret.length < ABI.CFG_SECRET_SIZE) throw new RangeError(`ustack: secret must be ${ABI.CFG_SECRET_SIZE} bytes`);
  new Uint8Array(memory.buffer, addr + ABI.CFG_SECRET, ABI.CFG_SECRET_SIZE).set(secret.subarray(0, ABI.CFG_SECRET_SIZE));
}

/** Reads every counter by name. */
export function readCounters(memory: WebAssembly.Memory, abiBase: number): Record<string, bigint> {
  const v = new DataView(memory.buffer, abiBase + ABI.ABI_COUNTERS_OFF, ABI.COUNTER_COUNT * 8);
  const out: Record<string, bigint> = {};
  COUNTER_NAMES.forEach((n, i) => { out[n] = v.getBigUint64(i * 8, true); });
  return out;
}

/** Every counter by name, from a stats block (statsSnapshot()): memory, interface (iface_*), TCP (tcp_*). */
export function readStats(memory: WebAssembly.Memory, addr: number, ifaceNames: readonly string[]): Record<string, bigint> {
  const v = new DataView(memory.buffer, addr, ABI.STATS_COUNT * 8);
  const out: Record<string, bigint> = {};
  COUNTER_NAMES.forEach((n, i) => { out[n] = v.getBigUint64((ABI.STATS_MEM_OFF + i) * 8, true); });
  ifaceNames.forEach((n, i) => { out[`iface_${n}`] = v.getBigUint64((ABI.STATS_IFACE_OFF + i) * 8, true); });
  TCP_STAT_NAMES.forEach((n, i) => { out[`tcp_${n}`] = v.getBigUint64((ABI.STATS_TCP_OFF + i) * 8, true); });
  return out;
}

/** Reads the memory accounting (bytes) by name. */
export function readMemstats(memory: WebAssembly.Memory, abiBase: number): Record<string, number> {
  const v = new DataView(memory.buffer, abiBase + ABI.ABI_MEMSTATS_OFF, ABI.MEMSTAT_COUNT * 8);
  const out: Record<string, number> = {};
  MEMSTAT_NAMES.forEach((n, i) => { out[n] = Number(v.getBigUint64(i * 8, true)); });
  return out;
}

/** A ring header view (head, tail, slots, slotSize, base, mask, dropped). */
export class RingView {
  constructor(private readonly memory: WebAssembly.Memory, readonly addr: number) {}
  private get v(): DataView { return new DataView(this.memory.buffer, this.addr, ABI.RING_HDR_SIZE); }
  get head(): number { return this.v.getUint32(ABI.RING_HEAD_OFF, true); }
  set head(x: number) { this.v.setUint32(ABI.RING_HEAD_OFF, x >>> 0, true); }
  get tail(): number { return this.v.getUint32(ABI.RING_TAIL_OFF, true); }
  set tail(x: number) { this.v.setUint32(ABI.RING_TAIL_OFF, x >>> 0, true); }
  get slots(): number { return this.v.getUint32(ABI.RING_SLOTS_OFF, true); }
  get slotSize(): number { return this.v.getUint32(ABI.RING_SLOT_SIZE_OFF, true); }
  get base(): number { return this.v.getUint32(ABI.RING_BASE_OFF, true); }
  get dropped(): number { return this.v.getUint32(ABI.RING_DROPPED_OFF, true); }
  /** Items waiting (head − tail, mod 2^32). */
  get used(): number { return (this.head - this.tail) >>> 0; }
  /** Address of the slot that running count `i` maps to. */
  slotAddr(i: number): number { return this.base + ((i >>> 0) & (this.slots - 1)) * this.slotSize; }
}
