// Counters and memory accounting of the memory layer, stored in the ABI block
// (assembly/abi.ts) so the host reads them straight from linear memory.
//
//   counters: COUNTER_COUNT × u64 at ABI_BASE + ABI_COUNTERS_OFF, index = C_* below
//   memstats: MEMSTAT_COUNT × u64 at ABI_BASE + ABI_MEMSTATS_OFF, index = M_* below
//
// host/abi.ts keeps the same names in the same order (COUNTER_NAMES, MEMSTAT_NAMES);
// the ABI test compares them with the constants index.ts exports. Indices never
// change meaning; new ones are appended.

import { ABI_BASE, ABI_COUNTERS_OFF, ABI_MEMSTATS_OFF, COUNTER_COUNT, MEMSTAT_COUNT } from "../abi";

// --- exhaustion counters (one per pool/table; the matching E_* code in errors.ts) ---
export const C_ENDPOINTS_EXHAUSTED: u32 = 0;
export const C_LISTENERS_EXHAUSTED: u32 = 1;
export const C_SYNCACHE_EXHAUSTED: u32 = 2;
export const C_TIMEWAIT_EXHAUSTED: u32 = 3;
export const C_CHUNKS_EXHAUSTED: u32 = 4;
export const C_TABLE_EXHAUSTED: u32 = 5;
export const C_RX_RING_FULL: u32 = 6; // rxPoll found the RX ring full (the host had filled every slot)
export const C_TX_RING_FULL: u32 = 7;
export const C_EVENT_RING_FULL: u32 = 8;
// --- misuse / bad input that was refused without harm ---
export const C_STALE_HANDLE: u32 = 9;
export const C_INVALID_HANDLE: u32 = 10;
export const C_RX_BAD_LENGTH: u32 = 11; // RX slot with len 0 or above the slot capacity
export const C_RX_RING_CORRUPT: u32 = 12; // head - tail above the slot count
export const C_TX_COMMIT_INVALID: u32 = 13; // txCommit with a buffer/length that was not acquired
export const C_BIND_CONFLICT: u32 = 14;
export const C_TIMER_NO_OWNER: u32 = 15; // expired node whose kind has no handler yet
// --- activity ---
export const C_RX_FRAMES: u32 = 16; // frames taken from the RX ring
export const C_TX_FRAMES: u32 = 17; // frames committed to the TX ring
export const C_EVENTS: u32 = 18; // events written
export const C_RX_NO_HANDLER: u32 = 19; // RX frames consumed while no ingress was wired
/** Number of counters in use (≤ COUNTER_COUNT). */
export const C_USED: u32 = 20;

// --- memory accounting (bytes), written by init ---
/** Bytes per connection: control block + slab metadata + table entry + bucket share + timers. */
export const M_BYTES_PER_CONNECTION: u32 = 0;
export const M_ENDPOINT_SLAB: u32 = 1; // endpoint records + metadata
export const M_TABLE: u32 = 2; // table entries + metadata + buckets + port index
export const M_SYNCACHE_SLAB: u32 = 3;
export const M_TIMEWAIT_SLAB: u32 = 4;
export const M_CHUNK_POOL: u32 = 5; // data chunks + links
export const M_RX_RING: u32 = 6;
export const M_TX_RING: u32 = 7;
export const M_EVENT_RING: u32 = 8;
export const M_TIMERS: u32 = 9; // timer service (wheel heads and masks)
export const M_TOTAL: u32 = 10; // everything carved at init
export const M_ENDPOINT_RECORD: u32 = 11; // bytes of one control block (sizeof Tcb)
export const M_TABLE_ENTRY: u32 = 12; // bytes of one table entry incl. its slab metadata
export const M_IFACE: u32 = 13; // interface tables: ARP cache, ARP pending frames, reassembly (glue/init.ts)
export const M_IO_BUFFER: u32 = 14; // the host I/O buffer (glue/init.ts)
export const M_USED: u32 = 15;

@inline
export function counterAddr(id: u32): usize {
  return ABI_BASE + ABI_COUNTERS_OFF + (<usize>(id & (COUNTER_COUNT - 1)) << 3);
}

/** Increments counter `id` (ids are masked into range: never writes outside the block). */
@inline
export function count(id: u32): void {
  const p = counterAddr(id);
  store<u64>(p, load<u64>(p) + 1);
}

export function counter(id: u32): u64 {
  return load<u64>(counterAddr(id));
}

export function countersReset(): void {
  memory.fill(ABI_BASE + ABI_COUNTERS_OFF, 0, COUNTER_COUNT * 8);
}

@inline
function memstatAddr(id: u32): usize {
  return ABI_BASE + ABI_MEMSTATS_OFF + (<usize>(id & (MEMSTAT_COUNT - 1)) << 3);
}

export function setMemstat(id: u32, bytes: u64): void {
  store<u64>(memstatAddr(id), bytes);
}

export function memstat(id: u32): u64 {
  return load<u64>(memstatAddr(id));
}
