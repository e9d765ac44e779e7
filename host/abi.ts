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
  CONFIG_SIZE: 80,
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
  CFG_SECRET: 64,
  CFG_SECRET_SIZE: 16,
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
} as const;

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
];

/** Writes `config` into the module's config block at `addr` (u32 fields, little-endian). */
export function writeConfig(memory: WebAssembly.Memory, addr: number, config: StackConfig, entropy: (n: number) => Uint8Array): void {
  const view = new DataView(memory.buffer, addr, ABI.CONFIG_SIZE);
  for (const [name, off] of CONFIG_FIELDS) {
    const v = config[name];
    if (v !== undefined) view.setUint32(off, Number(v) >>> 0, true);
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
