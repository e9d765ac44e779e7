// init(config): validate everything, then carve every slab once.
//
//   Linear memory after init (addresses grow downwards in this picture)
//   ┌──────────────────────────────────────────────┐ 0
//   │ static data: ABI block, config block, consts  │
//   ├──────────────────────────────────────────────┤ __heap_base
//   │ timer service (wheel: 4×256 heads, 4×4 masks) │  M_TIMERS
//   │ endpoint slab: header, meta, classes, Tcbs    │  M_ENDPOINT_SLAB
//   │ table: entry slab, conn buckets, listener     │  M_TABLE
//   │        buckets, 65536 port heads              │
//   │ TIME-WAIT slab                                │  M_TIMEWAIT_SLAB
//   │ chunk pool: links, data                       │  M_CHUNK_POOL
//   │ RX ring slots, TX ring slots                  │  M_RX_RING, M_TX_RING
//   │ event ring records                            │  M_EVENT_RING
//   ├──────────────────────────────────────────────┤ heap top (never moves again)
//   │ free pages (grown once, before carving)       │
//   └──────────────────────────────────────────────┘ memory.size() · 64 KiB
//
// Order of work: (1) configCheck rejects a bad config with a distinct code; (2) the
// byte count of every region is computed in u64 and checked against wasm32 (each
// region < 1 GiB, the stub allocator's block limit; the total within 4 GiB); (3) the
// pages are grown once with memory.grow (refusal → E_OUT_OF_MEMORY); only then (4)
// are the regions carved with heap.alloc, which no longer needs to grow memory and
// so cannot trap. A rejected config leaves the heap and memory size untouched.

import {
  CONFIG_VERSION, CFG_VERSION, CFG_MAX_CONNECTIONS, CFG_MAX_LISTENERS, CFG_SYNCACHE_ENTRIES,
  CFG_MAX_TIME_WAIT, CFG_CHUNK_COUNT, CFG_CHUNK_SIZE, CFG_RX_SLOTS, CFG_TX_SLOTS, CFG_SLOT_SIZE,
  CFG_EVENT_RING_SIZE, CFG_SHARDS, CFG_USE_TIMER_WHEEL, CFG_SECRET, cfg,
} from "../config";
import {
  OK, E_CONFIG_VERSION, E_CONFIG_ZERO, E_CONFIG_COUNT, E_CONFIG_TOO_LARGE, E_OUT_OF_MEMORY,
  E_ALREADY_INITIALIZED,
} from "../errors";
import { ABI_BASE, ABI_STATE_OFF, ABI_INIT_ERROR_OFF, EVENT_SIZE, abiStamp } from "../abi";
import { MAX_SLAB_RECORDS } from "./slab";
import { endpointsInit, endpointsBytes, endpointsCapacity, ENDPOINT_RECORD_SIZE, ENDPOINT_SIDE_BYTES } from "./endpoints";
import { tableCheck, tableInit, tableBytes, tableConnBucketBytes, ENTRY_SIZE } from "../tcp/table";
import { timeWaitInit, timeWaitBytes } from "./timewait";
import { chunksCheck, chunksInit, chunksBytes } from "./chunks";
import { ringsCheck, ringsInit, ringBytes, eventsCheck, eventsInit } from "./rings";
import { hashSetSecretFrom } from "../util/hash";
import { initTimers } from "../time/clock";
import { dispatchTimer } from "../dispatch";
import {
  setMemstat, M_BYTES_PER_CONNECTION, M_ENDPOINT_SLAB, M_TABLE, M_TIMEWAIT_SLAB, M_CHUNK_POOL,
  M_RX_RING, M_TX_RING, M_EVENT_RING, M_TIMERS, M_TOTAL, M_ENDPOINT_RECORD, M_TABLE_ENTRY,
  M_SYNCACHE_SLAB,
} from "./stats";

/** Largest single region: the allocator's block limit (1 GiB minus its header). */
export const MAX_REGION: u64 = (1 << 30) - 64;
/** wasm32 linear memory: 65536 pages of 64 KiB. */
export const WASM32_BYTES: u64 = 1 << 32;
/** Allocator headers, alignment and the timer service, reserved on top of the regions. */
const CARVE_SLACK: u64 = 64 * 1024;
/** Timer wheel V2 arrays: 4 levels × 256 u32 slot heads + 4 levels × 4 u64 masks (time/wheel.ts). */
const WHEEL_BYTES: u64 = 4 * 256 * 4 + 4 * 4 * 8;

/** Current heap top (a probe allocation, freed at once: the stub allocator rolls it back). */
export function heapTop(): usize {
  const p = heap.alloc(1);
  heap.free(p);
  return p;
}

/** Validates the config block at `p` without carving anything: OK or the first E_CONFIG_* found. */
export function configCheck(p: usize): i32 {
  if (cfg(p, CFG_VERSION) != CONFIG_VERSION) return E_CONFIG_VERSION;
  const maxConn = cfg(p, CFG_MAX_CONNECTIONS);
  const maxLst = cfg(p, CFG_MAX_LISTENERS);
  const syn = cfg(p, CFG_SYNCACHE_ENTRIES);
  const tw = cfg(p, CFG_MAX_TIME_WAIT);
  if (maxConn == 0 || maxLst == 0 || syn == 0 || tw == 0) return E_CONFIG_ZERO;
  let rc = chunksCheck(cfg(p, CFG_CHUNK_COUNT), cfg(p, CFG_CHUNK_SIZE));
  if (rc != OK) return rc;
  rc = ringsCheck(cfg(p, CFG_RX_SLOTS), cfg(p, CFG_TX_SLOTS), cfg(p, CFG_SLOT_SIZE));
  if (rc != OK) return rc;
  rc = eventsCheck(cfg(p, CFG_EVENT_RING_SIZE));
  if (rc != OK) return rc;
  if (endpointsCapacity(maxConn, maxLst, syn) > <u64>MAX_SLAB_RECORDS) return E_CONFIG_COUNT;
  if (<u64>tw > <u64>MAX_SLAB_RECORDS) return E_CONFIG_COUNT;
  rc = tableCheck(tableCapacity(p), cfg(p, CFG_SHARDS));
  if (rc != OK) return rc;
  // Sizes: every region under the block limit, the sum within wasm32 memory.
  const total = configBytes(p);
  if (total == u64.MAX_VALUE) return E_CONFIG_TOO_LARGE;
  if (total + <u64>heapTop() + CARVE_SLACK > WASM32_BYTES) return E_CONFIG_TOO_LARGE;
  return OK;
}

/** Table entries: one per connection, listener, syncache entry and TIME-WAIT record. */
function tableCapacity(p: usize): u64 {
  return <u64>cfg(p, CFG_MAX_CONNECTIONS) + <u64>cfg(p, CFG_MAX_LISTENERS) +
    <u64>cfg(p, CFG_SYNCACHE_ENTRIES) + <u64>cfg(p, CFG_MAX_TIME_WAIT);
}

// Region sizes of the last configBytes() call (bytes).
let szEndpoints: u64 = 0, szTable: u64 = 0, szTimeWait: u64 = 0, szChunks: u64 = 0;
let szRx: u64 = 0, szTx: u64 = 0, szEvents: u64 = 0;

/** Sum of the regions' sizes, or u64.MAX_VALUE when one region exceeds MAX_REGION. Counts already checked. */
function configBytes(p: usize): u64 {
  const maxConn = cfg(p, CFG_MAX_CONNECTIONS);
  const maxLst = cfg(p, CFG_MAX_LISTENERS);
  const syn = cfg(p, CFG_SYNCACHE_ENTRIES);
  szEndpoints = endpointsBytes(maxConn, maxLst, syn);
  szTable = tableBytes(<u32>tableCapacity(p), maxLst, cfg(p, CFG_SHARDS));
  szTimeWait = timeWaitBytes(cfg(p, CFG_MAX_TIME_WAIT));
  szChunks = chunksBytes(cfg(p, CFG_CHUNK_COUNT), cfg(p, CFG_CHUNK_SIZE));
  szRx = ringBytes(cfg(p, CFG_RX_SLOTS), cfg(p, CFG_SLOT_SIZE));
  szTx = ringBytes(cfg(p, CFG_TX_SLOTS), cfg(p, CFG_SLOT_SIZE));
  szEvents = <u64>cfg(p, CFG_EVENT_RING_SIZE) * EVENT_SIZE;
  // The table carves its entry slab as one block and its buckets as others.
  if (szEndpoints > MAX_REGION || szTable > MAX_REGION * 2 || szTimeWait > MAX_REGION ||
      szChunks > MAX_REGION || szRx > MAX_REGION || szTx > MAX_REGION || szEvents > MAX_REGION) {
    return u64.MAX_VALUE;
  }
  return szEndpoints + szTable + szTimeWait + szChunks + szRx + szTx + szEvents;
}

/** Bytes stackInit carves for the (checked) config at `p`, slack excluded. */
export function stackBytes(p: usize): u64 {
  return configBytes(p);
}

/** Bytes reserved beyond the regions for allocator headers and alignment. */
export const STACK_CARVE_SLACK: u64 = CARVE_SLACK;

let initialized = false;

/** True after a successful stackInit. */
export function stackReady(): bool {
  return initialized;
}

/**
 * Validates the config block at `p`, then carves every region and starts the timer
 * service at `nowUs`. Returns OK or a distinct error code (nothing carved then).
 * Once only per instance: a second call returns E_ALREADY_INITIALIZED.
 */
export function stackInit(p: usize, nowUs: u64): i32 {
  abiStamp();
  const rc = stackInitInner(p, nowUs);
  store<i32>(ABI_BASE + ABI_INIT_ERROR_OFF, rc);
  return rc;
}

function stackInitInner(p: usize, nowUs: u64): i32 {
  if (initialized) return E_ALREADY_INITIALIZED;
  const rc = configCheck(p);
  if (rc != OK) return rc;
  const total = configBytes(p);
  // Grow once, before carving: heap.alloc must never need to grow (it would trap on refusal).
  const top0 = heapTop();
  const need = <u64>top0 + total + CARVE_SLACK;
  const havePages = <u64>memory.size();
  const needPages = (need + 0xffff) >> 16;
  if (needPages > havePages) {
    if (memory.grow(<i32>(needPages - havePages)) < 0) return E_OUT_OF_MEMORY;
  }

  const maxConn = cfg(p, CFG_MAX_CONNECTIONS);
  const maxLst = cfg(p, CFG_MAX_LISTENERS);
  const syn = cfg(p, CFG_SYNCACHE_ENTRIES);
  hashSetSecretFrom(p + CFG_SECRET);
  initTimers(cfg(p, CFG_USE_TIMER_WHEEL) != 0, nowUs, dispatchTimer);
  endpointsInit(maxConn, maxLst, syn);
  tableInit(<u32>tableCapacity(p), maxLst, cfg(p, CFG_SHARDS));
  timeWaitInit(cfg(p, CFG_MAX_TIME_WAIT));
  chunksInit(cfg(p, CFG_CHUNK_COUNT), cfg(p, CFG_CHUNK_SIZE));
  ringsInit(cfg(p, CFG_RX_SLOTS), cfg(p, CFG_TX_SLOTS), cfg(p, CFG_SLOT_SIZE));
  eventsInit(cfg(p, CFG_EVENT_RING_SIZE));

  // Memory accounting: the regions' computed sizes (allocator-independent; the host
  // test checks them against the stub allocator's heap top, tests/host/memory.test.ts).
  const timerBytes: u64 = cfg(p, CFG_USE_TIMER_WHEEL) != 0 ? WHEEL_BYTES : 0;
  setMemstat(M_TIMERS, timerBytes);
  setMemstat(M_ENDPOINT_SLAB, szEndpoints);
  setMemstat(M_SYNCACHE_SLAB, 0); // syncache entries are endpoints (class EP_SYNCACHE)
  setMemstat(M_TABLE, szTable);
  setMemstat(M_TIMEWAIT_SLAB, szTimeWait);
  setMemstat(M_CHUNK_POOL, szChunks);
  setMemstat(M_RX_RING, szRx);
  setMemstat(M_TX_RING, szTx);
  setMemstat(M_EVENT_RING, szEvents);
  setMemstat(M_TOTAL, timerBytes + szEndpoints + szTable + szTimeWait + szChunks + szRx + szTx + szEvents);
  setMemstat(M_ENDPOINT_RECORD, <u64>ENDPOINT_RECORD_SIZE);
  setMemstat(M_TABLE_ENTRY, <u64>ENTRY_SIZE + 4);
  setMemstat(M_BYTES_PER_CONNECTION, bytesPerConnection(<u32>tableCapacity(p)));

  initialized = true;
  store<u32>(ABI_BASE + ABI_STATE_OFF, 1);
  return OK;
}

/**
 * Slab bytes one established connection holds (data chunks excluded, SPEC §4):
 *   control block (TCB_SIZE, its 4 timer nodes included)
 * + 4 (endpoint slab metadata word) + ENDPOINT_SIDE_BYTES (class byte, table-entry
 *   word, pending-output ring slot: mem/endpoints.ts)
 * + table entry (ENTRY_SIZE) + 4 (entry slab metadata word)
 * + its share of the connection bucket array (bucket bytes / table capacity, rounded up).
 * The timer service's fixed arrays (wheel heads and masks) do not grow with connections.
 */
export function bytesPerConnection(tableCap: u32): u64 {
  const buckets = tableConnBucketBytes();
  const share = (buckets + <u64>tableCap - 1) / <u64>tableCap;
  return <u64>ENDPOINT_RECORD_SIZE + 4 + <u64>ENDPOINT_SIDE_BYTES + <u64>ENTRY_SIZE + 4 + share;
}


