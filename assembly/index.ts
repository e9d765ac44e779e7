// The module ABI: what the host may call. Nothing else is exported.
// docs/abi.md draws the shared memory and lists every export; host/abi.ts mirrors
// the constants below and tests/host/abi.test.ts checks that both sides agree.
//
// Life cycle:
//   1. the host writes the config block at configAddr() (defaults are in place);
//   2. init(nowUs) validates it and carves all memory (0 = OK, else an error code);
//   3. per host tick: write RX frames into the RX ring, call tick(nowUs), send the
//      TX ring's frames, consume the event ring.

import { CONFIG_BASE, CONFIG_SIZE } from "./config";
import { stackInit, stackReady, heapTop as probeHeapTop } from "./mem/layout";
import { ABI_BASE } from "./abi";
import { rxPoll, RX_RING, ringSlots } from "./mem/rings";
import { timers, setNowUs } from "./time/clock";

/** Address of the config block (CONFIG_SIZE bytes, defaults in place). */
export function configAddr(): usize {
  return CONFIG_BASE;
}

/** Address of the ABI block (ring headers, counters, memory accounting). */
export function abiBase(): usize {
  return ABI_BASE;
}

/**
 * Validates the config block and carves all memory; starts the timer service at
 * `nowUs`. Returns 0 or an error code (errors.ts); on error nothing was carved.
 * Callable once per instance.
 */
export function init(nowUs: u64): i32 {
  return stackInit(CONFIG_BASE, nowUs);
}

/**
 * One host tick at time `nowUs`: takes every frame waiting in the RX ring (one ring
 * lap at most), advances the timers to `nowUs`, and returns the number of
 * milliseconds until the stack next has timer work (-1 when none, or before init).
 */
export function tick(nowUs: u64): i64 {
  if (!stackReady()) return -1;
  setNowUs(nowUs);
  rxPoll(ringSlots(RX_RING));
  timers.tickTo(nowUs / 1000);
  const w = timers.nextWakeup();
  return w == u64.MAX_VALUE ? -1 : <i64>w;
}

/** The allocator's current top (diagnostics: the host checks it never moves after init). */
export function heapTop(): usize {
  return probeHeapTop();
}

// Layout constants for the host (mirrored in host/abi.ts, compared by the ABI test).
export {
  ABI_MAGIC, ABI_VERSION, ABI_MAGIC_OFF, ABI_VERSION_OFF, ABI_STATE_OFF, ABI_INIT_ERROR_OFF,
  ABI_RX_RING_OFF, ABI_TX_RING_OFF, ABI_EVENT_RING_OFF, ABI_COUNTERS_OFF, ABI_MEMSTATS_OFF,
  ABI_BLOCK_SIZE, COUNTER_COUNT, MEMSTAT_COUNT, RING_HDR_SIZE, RING_HEAD_OFF, RING_TAIL_OFF,
  RING_SLOTS_OFF, RING_SLOT_SIZE_OFF, RING_BASE_OFF, RING_MASK_OFF, RING_DROPPED_OFF,
  SLOT_HDR_SIZE, SLOT_LEN_OFF, SLOT_FLAGS_OFF, SLOT_TIME_OFF, EVENT_SIZE, EVENT_TYPE_OFF,
  EVENT_FLAGS_OFF, EVENT_HANDLE_OFF, EVENT_ARG0_OFF, EVENT_ARG1_OFF,
} from "./abi";
export {
  CONFIG_VERSION, CONFIG_SIZE, CFG_VERSION, CFG_MAX_CONNECTIONS, CFG_MAX_LISTENERS,
  CFG_SYNCACHE_ENTRIES, CFG_MAX_TIME_WAIT, CFG_CHUNK_COUNT, CFG_CHUNK_SIZE, CFG_RX_SLOTS,
  CFG_TX_SLOTS, CFG_SLOT_SIZE, CFG_EVENT_RING_SIZE, CFG_SHARDS, CFG_USE_TIMER_WHEEL, CFG_SECRET,
  CFG_SECRET_SIZE,
} from "./config";
