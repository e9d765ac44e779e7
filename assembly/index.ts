// The module ABI: what the host may call. Nothing else is exported.
// docs/abi.md draws the shared memory and lists every export with its return codes;
// host/abi.ts mirrors the constants below and tests/host/abi.test.ts checks that
// both sides agree.
//
// Life cycle:
//   1. the host writes the config block at configAddr() (defaults are in place);
//   2. init(nowUs) validates it and carves all memory (0 = OK, else an error code);
//   3. per host tick: write RX frames into the RX ring, call tick(nowUs), send the
//      TX ring's frames, consume the event ring; between ticks, commands (listen,
//      connect, send, ...) with data copied through the I/O buffer at ioBufAddr().

import { CONFIG_BASE } from "./config";
import { stackReady, heapTop as probeHeapTop } from "./mem/layout";
import { ABI_BASE } from "./abi";
import { lastError as lastErrorCode } from "./errors";
import { integratedInit, ioBufAddr as ioAddr, ioBufSize as ioSize } from "./glue/init";
import { stackTick, stackSetTime } from "./glue/tick";
import { statsSnapshot as snapshot } from "./glue/stats";
import {
  cmdListen, cmdConnect, cmdAccept, cmdSend, cmdRecv, cmdShutdown, cmdClose, cmdAbort,
  cmdSetOption, cmdLinkUp, hLocalAddr, hLocalPort, hRemoteAddr, hRemotePort, hState,
  hSendQueued, hSendSpace, hRecvQueued, hError, gauge as gaugeValue,
} from "./glue/api";

/** Address of the config block (CONFIG_SIZE bytes, defaults in place). */
export function configAddr(): usize {
  return CONFIG_BASE;
}

/** Address of the ABI block (ring headers, counters, memory accounting). */
export function abiBase(): usize {
  return ABI_BASE;
}

/**
 * Validates the config block, carves all memory, configures the interface and TCP
 * and joins the layers; starts the timer service at `nowUs`. Returns 0 or an error
 * code (errors.ts, config.ts); on error nothing was carved. Callable once per instance.
 */
export function init(nowUs: u64): i32 {
  return integratedInit(CONFIG_BASE, nowUs);
}

/**
 * One host tick at time `nowUs` (glue/tick.ts): pending output, RX frames (each at
 * its receive time, at most rxBudget, fewer while the TX or event ring is nearly
 * full), timers, pending output. Returns 0 when work is left (call again after
 * draining the TX and event rings), else the ms until the next timer work, −1 when
 * none (or before init).
 */
export function tick(nowUs: u64): i64 {
  if (!stackReady()) return -1;
  return stackTick(nowUs);
}

/** Moves the module clock to `nowUs` (timers run) without taking RX frames. No-op before init. */
export function setTime(nowUs: u64): void {
  if (stackReady()) stackSetTime(nowUs);
}

/** The allocator's current top (diagnostic: never moves after init). */
export function heapTop(): usize {
  return probeHeapTop();
}

// ── data crossing ────────────────────────────────────────────────────────────────
/** Address of the host I/O buffer (send() reads ioBuf[0..len), recv() writes ioBuf[0..n)). */
export function ioBufAddr(): usize { return ioAddr(); }
/** Size of the host I/O buffer (config ioBufSize). */
export function ioBufSize(): u32 { return ioSize(); }

// ── commands (glue/api.ts; docs/abi.md "Commands") ────────────────────────────────
export function listen(addr: u32, port: u32, backlog: u32): u32 { return cmdListen(addr, port, backlog); }
export function connect(localAddr: u32, localPort: u32, remoteAddr: u32, remotePort: u32): u32 {
  return cmdConnect(localAddr, localPort, remoteAddr, remotePort);
}
export function accept(listener: u32): u32 { return cmdAccept(listener); }
export function send(handle: u32, len: u32): i32 { return cmdSend(handle, len); }
export function recv(handle: u32, len: u32): i32 { return cmdRecv(handle, len); }
export function shutdown(handle: u32): i32 { return cmdShutdown(handle); }
export function close(handle: u32): i32 { return cmdClose(handle); }
export function abort(handle: u32): i32 { return cmdAbort(handle); }
export function setOption(handle: u32, opt: i32, value: u32): i32 { return cmdSetOption(handle, opt, value); }
export function linkUp(): i32 { return cmdLinkUp(); }
/** Reason of the last handle-returning command that returned 0. */
export function lastError(): i32 { return lastErrorCode(); }

// ── what a handle is ─────────────────────────────────────────────────────────────
export function localAddr(handle: u32): u32 { return hLocalAddr(handle); }
export function localPort(handle: u32): u32 { return hLocalPort(handle); }
export function remoteAddr(handle: u32): u32 { return hRemoteAddr(handle); }
export function remotePort(handle: u32): u32 { return hRemotePort(handle); }
export function state(handle: u32): u32 { return hState(handle); }
export function sendQueued(handle: u32): u32 { return hSendQueued(handle); }
export function sendSpace(handle: u32): u32 { return hSendSpace(handle); }
export function recvQueued(handle: u32): u32 { return hRecvQueued(handle); }
export function errorOf(handle: u32): u32 { return hError(handle); }

// ── statistics ───────────────────────────────────────────────────────────────────
/** Copies every counter (memory, interface, TCP) into the stats block; returns its address. */
export function statsSnapshot(): usize { return snapshot(); }
/** Occupancy gauge GAUGE_* (endpoints, chunks, table entries, active timers, ...). */
export function gauge(id: u32): u64 { return gaugeValue(id); }

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
  CFG_SECRET_SIZE, CFG_IO_BUF_SIZE, CFG_RX_BUDGET, CFG_MAC_LO, CFG_MAC_HI, CFG_IPV4_ADDR,
  CFG_PREFIX_LEN, CFG_GATEWAY, CFG_MTU, CFG_ARP_ENTRIES, CFG_ARP_PENDING, CFG_REASM_SLOTS,
  CFG_REASM_MAX_BYTES, CFG_TIME_WAIT_MS, CFG_SND_BUF, CFG_RCV_BUF, CFG_RTO_MIN_MS, CFG_RTO_MAX_MS,
  CFG_MAX_RETRIES, CFG_SYN_RETRIES, CFG_SYNACK_RETRIES, CFG_DELACK_MS, CFG_KEEP_IDLE_MS,
  CFG_KEEP_INTVL_MS, CFG_KEEP_COUNT, CFG_SYNCACHE_MAX, CFG_EPHEMERAL_LOW, CFG_EPHEMERAL_HIGH,
  CFG_CHALLENGE_ACK_LIMIT, CFG_CONGESTION_CONTROL,
} from "./config";
export { STATS_COUNT, STATS_MEM_OFF, STATS_IFACE_OFF, STATS_TCP_OFF, TCP_STAT_COUNT } from "./glue/stats";
export { GAUGE_COUNT } from "./glue/api";
// Event types (tcp/codes.ts) and socket options (tcp/api.ts), for the host mirror.
export {
  EV_ACCEPTED as EVENT_ACCEPTED, EV_CONNECTED as EVENT_CONNECTED, EV_READABLE as EVENT_READABLE,
  EV_WRITABLE as EVENT_WRITABLE, EV_PEER_CLOSED as EVENT_PEER_CLOSED, EV_CLOSED as EVENT_CLOSED,
  EV_ERROR as EVENT_ERROR,
} from "./tcp/codes";
export {
  OPT_NODELAY, OPT_KEEPALIVE, OPT_SNDBUF, OPT_RCVBUF,
} from "./tcp/api";
// Benchmark statistics (issue 8): handshake histograms, timer probe, TIME-WAIT census.
export { benchHistAddr, benchHistBuckets, benchHistSubBits, benchHistCount, benchHistSummaryWords, benchHistReset, benchTimersExpired, benchTimerProbe, benchTimeWaitCount, benchTimeWaitBytes, benchTimersScheduled, benchTimersCancelled, benchFifoOps, benchFifoExpired, benchFifoProbe } from "./glue/bench-stats";
