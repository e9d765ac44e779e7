// The command ABI: what the host calls to use TCP (docs/abi.md "Commands"). Each
// command checks its arguments, calls the engine (tcp/api.ts) and returns a code.
// Data crosses only by copying between the host I/O buffer (carved at init, address
// ioBufAddr(), ioBufSize() bytes) and the chunk pool: the host writes what it sends
// at ioBuf[0..len) before send(), and finds what it received at ioBuf[0..n) after
// recv(). No internal address is ever handed out.
//
// Conventions:
//   - handle-returning commands (listen, connect, accept) return the handle, or 0
//     with the reason in lastError() (handles use all 32 bits, so no sign trick);
//   - send/recv return a count ≥ 0 or −code;
//   - the others return 0 or a code.
// A command whose segments meet a full TX ring queues its endpoint for the next
// tick (glue/tick.ts drainPending), so nothing stalls waiting for a timer.

import {
  tcpOpen, tcpListen, tcpConnect, tcpAccept, tcpSend, tcpRecv, tcpShutdown, tcpClose, tcpAbort,
  tcpSetOption, OPT_SNDBUF, OPT_RCVBUF,
} from "../tcp/api";
import { Tcb, TCB_SNDQ, TCB_RCVQ, TF_APP_CLOSED } from "../tcp/tcb";
import { STATE_LISTEN, STATE_CLOSED } from "../tcp/state";
import { E_BAD_STATE, E_NO_PENDING, E_NO_PORT } from "../tcp/codes";
import { ephemeralLow, ephemeralHigh } from "../tcp/config";
import {
  OK, E_NOT_INITIALIZED, E_STALE_HANDLE, E_BAD_ARGUMENT, E_BAD_LENGTH, E_ENDPOINTS_EXHAUSTED, setLastError, lastError,
} from "../errors";
import { E_IF_NO_ROUTE } from "../iface/errors";
import {
  endpointCheck, endpointPtrQuiet, endpointSetClass, endpointEntry, endpointSetEntry, endpointPendingPush,
  endpointsInUse, endpointsInUseTotal, endpointPendingCount, EP_CONNECTION, EP_LISTENER, EP_SYNCACHE,
} from "../mem/endpoints";
import {
  tableBindCheck, tablePortInUse, entryRetag, tableSize, tableInsertListener, ENTRY_CONN, EF_REUSE_ADDR, EF_REUSE_PORT,
} from "../tcp/table";
import {
  twCount, twBytes, twEntered, twExpired, twSynAccepted, twSynRejected, twFinAcked, twReused, twAcks, twAckLimited,
} from "../tcp/timewait";
import { cqLength, rqLength, chunksInUse, chunksHighWater, chunksFree } from "../mem/chunks";
import { rxPending } from "../mem/rings";
import { ifaceAddr, ifaceLinkUp } from "../iface/interface";
import { arpLiveEntries } from "../iface/neighbor";
import { nextHop, isMulticast, isBroadcast, isLoopback } from "../iface/route";
import { stackReady } from "../mem/layout";
import { timers } from "../time/clock";
import { hashKeyed2, portK0, portK1 } from "../util/hash";
import { setAllocClass, clearTxFull, txFullHit } from "./tcp-env";
import { ioBufAddr, ioBufSize, interfaceConfigured, maxRcvBuf, MAX_TCP_BUF } from "./init";
import { chunkSize } from "../mem/chunks";

/** connect/listen with a local address that is not the interface's (Node: EADDRNOTAVAIL). */
export const E_ADDR_NOT_AVAILABLE: i32 = 45;

// Bind options ride in the high byte of the port argument of listen() and connect()
// (SPEC §5; the low 16 bits are the port, bits 16..23 must be 0):
//
//   port argument (u32)
//   ┌──────────┬─────────────────┬──────────────────────────┐
//   │ 31 .. 24 │ 23 .. 16        │ 15 .. 0                  │
//   │ PORT_OPT │ 0 (else error)  │ port (0 = ephemeral)     │
//   └──────────┴─────────────────┴──────────────────────────┘
//   PORT_OPT bits: 24 reuseAddress, 25 reusePort, 26 twReuse (connect only)
/** SO_REUSEADDR: bind over a port or 4-tuple held only by TIME-WAIT. */
export const PORT_OPT_REUSE_ADDR: u32 = 1 << 24;
/** SO_REUSEPORT: several listeners (and binds) with this option share (address, port). */
export const PORT_OPT_REUSE_PORT: u32 = 1 << 25;
/** tcp_tw_reuse: connect may take a 4-tuple from TIME-WAIT when timestamps make it safe. */
export const PORT_OPT_TW_REUSE: u32 = 1 << 26;
const PORT_OPT_KNOWN: u32 = PORT_OPT_REUSE_ADDR | PORT_OPT_REUSE_PORT | PORT_OPT_TW_REUSE;

/** Table bind flags (EF_*) of a port argument's options. */
function bindFlags(arg: u32): u8 {
  return ((arg & PORT_OPT_REUSE_ADDR) != 0 ? EF_REUSE_ADDR : 0) | ((arg & PORT_OPT_REUSE_PORT) != 0 ? EF_REUSE_PORT : 0);
}

/** Queues `h` for another output attempt when the last engine call met a full TX ring. */
@inline function retryIfFull(h: u32): void {
  if (txFullHit) endpointPendingPush(h);
}

/**
 * OK or the (counted) handle error. A handle the host gave up with close() is stale
 * from then on, although its record may live on (FIN-WAIT, TIME-WAIT) until the
 * protocol is done: the host can no longer send on, read from or reset it.
 */
function check(h: u32): i32 {
  if (!stackReady()) return E_NOT_INITIALIZED;
  const rc = endpointCheck(h);
  if (rc != OK) return rc;
  if ((changetype<Tcb>(endpointPtrQuiet(h)).flags & TF_APP_CLOSED) != 0) return E_STALE_HANDLE;
  return OK;
}

/** A free local port for a listener from the ephemeral range (RFC 6056-style offset), 0 if none. */
function freeListenPort(addr: u32): u16 {
  const lo = <u32>ephemeralLow;
  const hi = <u32>ephemeralHigh;
  const range = hi - lo + 1;
  const off = <u32>hashKeyed2(portK0, portK1, <u64>addr, <u64>timers.now);
  for (let i: u32 = 0; i < range; i++) {
    const port = <u16>(lo + (off + i) % range);
    if (!tablePortInUse(port)) return port;
  }
  return 0;
}

/**
 * listen(addr, port | PORT_OPT_*, backlog): a listener on (addr, port); addr 0 = any
 * local address, port 0 = a free ephemeral port (read it back with localPort(h)).
 * backlog bounds the accept queue (0 → 1, above 65535 → 65535). The bind check
 * (tcp/table.ts tableBindCheck) refuses any overlap with an entry of the port —
 * 0.0.0.0:80 against A:80 too — unless both sides set reusePort, or the entry is
 * TIME-WAIT and reuseAddress is set. Returns the handle, or 0 with lastError():
 * E_ADDR_IN_USE, E_LISTENERS_EXHAUSTED, E_TABLE_EXHAUSTED, E_ADDR_NOT_AVAILABLE,
 * E_BAD_ARGUMENT (bits 16..23 or unknown options; twReuse), E_NO_PORT, E_NOT_INITIALIZED.
 */
export function cmdListen(addr: u32, portArg: u32, backlog: u32): u32 {
  if (!stackReady()) { setLastError(E_NOT_INITIALIZED); return 0; }
  const opts = portArg & 0xff000000;
  if ((portArg & 0x00ff0000) != 0 || (opts & ~PORT_OPT_KNOWN) != 0 || (opts & PORT_OPT_TW_REUSE) != 0) {
    setLastError(E_BAD_ARGUMENT);
    return 0;
  }
  if (addr != 0 && (!interfaceConfigured() || addr != ifaceAddr())) { setLastError(E_ADDR_NOT_AVAILABLE); return 0; }
  let p16 = <u16>(portArg & 0xffff);
  if (p16 == 0) {
    p16 = freeListenPort(addr);
    if (p16 == 0) { setLastError(E_NO_PORT); return 0; }
  }
  setAllocClass(EP_LISTENER);
  const h = tcpOpen();
  setAllocClass(EP_SYNCACHE);
  if (h == 0) return 0; // lastError set by the pool (E_LISTENERS_EXHAUSTED, counted)
  let rc = tcpListen(h, addr, p16, <u16>(backlog > 65535 ? 65535 : backlog), false);
  if (rc == OK) {
    // The bind check against every entry of the port (0.0.0.0:80 and A:80 overlap;
    // counted when refused), then the listener's entry with its bind flags.
    const flags = bindFlags(opts);
    rc = tableBindCheck(addr, p16, flags);
    if (rc == OK) {
      const e = tableInsertListener(addr, p16, h, flags);
      if (e != 0) {
        endpointSetEntry(h, e);
        return h;
      }
      rc = lastError();
    }
    changetype<Tcb>(endpointPtrQuiet(h)).state = STATE_CLOSED;
  }
  tcpClose(h); // CLOSED: the record goes straight back to the pool
  setLastError(rc);
  return 0;
}

/**
 * connect(localAddr, localPort | PORT_OPT_*, remoteAddr, remotePort): active open;
 * sends the SYN. localAddr 0 = the interface address; localPort 0 = an ephemeral port
 * (RFC 6056). Options: reuseAddress/reusePort for the bind check of an explicit
 * port; twReuse lets the 4-tuple come from a TIME-WAIT record when timestamps make
 * it safe (Linux tcp_tw_reuse; tcp/timewait.ts).
 * Returns the handle (EV_CONNECTED or EV_ERROR follows), or 0 with lastError():
 * E_IF_NO_ROUTE (no interface, no route, or our own address), E_ADDR_NOT_AVAILABLE,
 * E_ADDR_IN_USE, E_NO_PORT, E_BAD_ARGUMENT, E_ENDPOINTS_EXHAUSTED, E_TABLE_EXHAUSTED.
 */
export function cmdConnect(localAddr: u32, localPortArg: u32, remoteAddr: u32, remotePort: u32): u32 {
  if (!stackReady()) { setLastError(E_NOT_INITIALIZED); return 0; }
  const opts = localPortArg & 0xff000000;
  const localPort = localPortArg & 0xffff;
  if ((localPortArg & 0x00ff0000) != 0 || (opts & ~PORT_OPT_KNOWN) != 0 || remotePort == 0 || remotePort > 65535) {
    setLastError(E_BAD_ARGUMENT);
    return 0;
  }
  if (remoteAddr == 0 || isBroadcast(remoteAddr) || isMulticast(remoteAddr) || isLoopback(remoteAddr)) {
    setLastError(E_BAD_ARGUMENT);
    return 0;
  }
  if (!interfaceConfigured()) { setLastError(E_IF_NO_ROUTE); return 0; }
  const own = ifaceAddr();
  if (localAddr == 0) localAddr = own;
  else if (localAddr != own) { setLastError(E_ADDR_NOT_AVAILABLE); return 0; }
  // No loopback path in the stack: our own address is unreachable, like an off-link
  // address without a gateway.
  if (remoteAddr == own || nextHop(remoteAddr) == 0) { setLastError(E_IF_NO_ROUTE); return 0; }
  if (localPort != 0) {
    const b = tableBindCheck(localAddr, <u16>localPort, bindFlags(opts));
    if (b != OK) { setLastError(b); return 0; }
  }
  setAllocClass(EP_CONNECTION);
  const h = tcpOpen();
  setAllocClass(EP_SYNCACHE);
  if (h == 0) return 0; // E_ENDPOINTS_EXHAUSTED (counted)
  clearTxFull();
  const rc = tcpConnect(h, localAddr, <u16>localPort, remoteAddr, <u16>remotePort, (opts & PORT_OPT_TW_REUSE) != 0);
  if (rc != OK) {
    tcpClose(h);
    setLastError(rc);
    return 0;
  }
  retryIfFull(h);
  return h;
}

/**
 * accept(listener): takes the oldest established child of the listener's accept
 * queue (EV_ACCEPTED announced it). The child then counts as a connection
 * (EP_CONNECTION quota); when that quota is full it is reset and 0 returned with
 * E_ENDPOINTS_EXHAUSTED. Otherwise 0 with E_NO_PENDING (empty queue), E_BAD_STATE
 * (not a listener), E_INVALID_HANDLE / E_STALE_HANDLE.
 */
export function cmdAccept(l: u32): u32 {
  const rc = check(l);
  if (rc != OK) { setLastError(rc); return 0; }
  const lp = endpointPtrQuiet(l);
  if (changetype<Tcb>(lp).state != STATE_LISTEN) { setLastError(E_BAD_STATE); return 0; }
  const ch = tcpAccept(l);
  if (ch == 0) { setLastError(E_NO_PENDING); return 0; }
  if (endpointSetClass(ch, EP_CONNECTION) != OK) {
    clearTxFull();
    tcpAbort(ch); // RST; the record is freed
    setLastError(E_ENDPOINTS_EXHAUSTED);
    return 0;
  }
  const e = endpointEntry(ch);
  if (e != 0) entryRetag(e, ENTRY_CONN, ch);
  return ch;
}

/**
 * send(h, len): copies ioBuf[0..len) into the send buffer. Returns the bytes taken
 * (fewer than len when the buffer or the chunk pool is full: EV_WRITABLE follows
 * when room frees up), or −code: E_BAD_LENGTH (len > ioBufSize), E_PIPE (after
 * shutdown/close), E_NOTCONN, handle errors.
 */
export function cmdSend(h: u32, len: u32): i32 {
  const rc = check(h);
  if (rc != OK) return -rc;
  if (len > ioBufSize()) return -E_BAD_LENGTH;
  clearTxFull();
  const n = tcpSend(h, ioBufAddr(), len);
  retryIfFull(h);
  return n;
}

/**
 * recv(h, len): copies up to len readable bytes to ioBuf[0..n). Returns n > 0, 0 at
 * end of stream (the peer's FIN, after all its data), or −code: E_AGAIN (nothing
 * yet: EV_READABLE follows), E_BAD_LENGTH (len > ioBufSize), E_NOTCONN, handle errors.
 */
export function cmdRecv(h: u32, len: u32): i32 {
  const rc = check(h);
  if (rc != OK) return -rc;
  if (len > ioBufSize()) return -E_BAD_LENGTH;
  clearTxFull();
  const n = tcpRecv(h, ioBufAddr(), len); // may send a window update
  retryIfFull(h);
  return n;
}

/** shutdown(h): FIN after the queued data (half-close). 0 or E_NOTCONN / handle errors. */
export function cmdShutdown(h: u32): i32 {
  const rc = check(h);
  if (rc != OK) return rc;
  clearTxFull();
  const r = tcpShutdown(h);
  retryIfFull(h);
  return r;
}

/**
 * close(h): the host gives up the handle (it is stale afterwards). A connection
 * sends its FIN after the queued data and finishes on its own (FIN-WAIT, TIME-WAIT);
 * unread received data makes it a reset (RFC 2525 §2.17); a listener resets its
 * unaccepted children. Always call it, also after EV_CLOSED, to free the record.
 */
export function cmdClose(h: u32): i32 {
  const rc = check(h);
  if (rc != OK) return rc;
  clearTxFull();
  const r = tcpClose(h);
  retryIfFull(h); // ignored when the record is already gone
  return r;
}

/** abort(h): RST (in synchronized states) and the record is freed at once. */
export function cmdAbort(h: u32): i32 {
  const rc = check(h);
  if (rc != OK) return rc;
  return tcpAbort(h);
}

/**
 * setOption(h, opt, value): OPT_NODELAY (1) 0/1, OPT_KEEPALIVE (2) 0/1, OPT_SNDBUF (3)
 * bytes 1..2^30, OPT_RCVBUF (4) bytes (before connect/listen; at most what a receive
 * queue can count). 0 or E_BAD_ARGUMENT / E_BAD_STATE / handle errors.
 */
export function cmdSetOption(h: u32, opt: i32, value: u32): i32 {
  const rc = check(h);
  if (rc != OK) return rc;
  if (opt == OPT_SNDBUF && value > MAX_TCP_BUF) return E_BAD_ARGUMENT;
  if (opt == OPT_RCVBUF && (value > MAX_TCP_BUF || <u64>value > maxRcvBuf(chunkSize()))) return E_BAD_ARGUMENT;
  clearTxFull();
  const r = tcpSetOption(h, opt, value);
  retryIfFull(h);
  return r;
}

// ── what a handle is (for remoteAddress, bytesWritten, ...) ───────────────────────
// Each returns 0 for a bad handle (counted), and state() returns 0xff.

function tcbOf(h: u32): usize {
  return check(h) == OK ? endpointPtrQuiet(h) : 0;
}

export function hLocalAddr(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : changetype<Tcb>(p).localAddr; }
export function hLocalPort(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : <u32>changetype<Tcb>(p).localPort; }
export function hRemoteAddr(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : changetype<Tcb>(p).remoteAddr; }
export function hRemotePort(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : <u32>changetype<Tcb>(p).remotePort; }
/** STATE_* of tcp/state.ts (0 CLOSED … 10 TIME-WAIT), 0xff for a bad handle. */
export function hState(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0xff : <u32>changetype<Tcb>(p).state; }
/** Bytes in the send buffer (not yet acknowledged by the peer). */
export function hSendQueued(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : cqLength(p + TCB_SNDQ); }
/** Bytes send() could take now (the send-buffer limit less what is queued). */
export function hSendSpace(h: u32): u32 {
  const p = tcbOf(h);
  if (p == 0) return 0;
  const q = cqLength(p + TCB_SNDQ);
  const m = changetype<Tcb>(p).sndBufMax;
  return q >= m ? 0 : m - q;
}
/** Readable bytes waiting for recv(). */
export function hRecvQueued(h: u32): u32 { const p = tcbOf(h); return p == 0 ? 0 : rqLength(p + TCB_RCVQ); }
/** The connection's error (201–210) once it failed, else 0. */
export function hError(h: u32): u32 { const p = tcbOf(h); return p == 0 || changetype<Tcb>(p).error == 0 ? 0 : 200 + <u32>changetype<Tcb>(p).error; }

/** linkUp(): the link is up; announces our address (gratuitous ARP). 0 or a code. */
export function cmdLinkUp(): i32 {
  if (!stackReady()) return E_NOT_INITIALIZED;
  if (!interfaceConfigured()) return E_IF_NO_ROUTE;
  return ifaceLinkUp();
}

// ── gauges: occupancy right now (tests, stats) ────────────────────────────────────
export const GAUGE_ENDPOINTS: u32 = 0;
export const GAUGE_CONNECTIONS: u32 = 1;
export const GAUGE_LISTENERS: u32 = 2;
export const GAUGE_SYNCACHE: u32 = 3;
export const GAUGE_CHUNKS_IN_USE: u32 = 4;
export const GAUGE_CHUNKS_HIGH_WATER: u32 = 5;
export const GAUGE_CHUNKS_FREE: u32 = 6;
export const GAUGE_TABLE_ENTRIES: u32 = 7;
export const GAUGE_TIMERS_ACTIVE: u32 = 8;
export const GAUGE_PENDING_OUTPUT: u32 = 9;
export const GAUGE_RX_PENDING: u32 = 10;
export const GAUGE_ARP_ENTRIES: u32 = 11;
/** Compact TIME-WAIT records now (tcp/timewait.ts). */
export const GAUGE_TIME_WAIT: u32 = 12;
/** Bytes they hold: records + their table entries (with the slabs' handle words). */
export const GAUGE_TIME_WAIT_BYTES: u32 = 13;
// TIME-WAIT activity since init (monotonic counts, read through the same call):
export const GAUGE_TW_ENTERED: u32 = 14;
export const GAUGE_TW_EXPIRED: u32 = 15;
export const GAUGE_TW_SYN_ACCEPTED: u32 = 16;
export const GAUGE_TW_SYN_REJECTED: u32 = 17;
export const GAUGE_TW_FIN_ACKED: u32 = 18;
export const GAUGE_TW_REUSED: u32 = 19;
export const GAUGE_TW_ACKS: u32 = 20;
export const GAUGE_TW_ACK_LIMITED: u32 = 21;
export const GAUGE_COUNT: u32 = 22;

/** Gauge `id` (GAUGE_*), 0 for an unknown id or before init. */
export function gauge(id: u32): u64 {
  if (!stackReady()) return 0;
  switch (id) {
    case GAUGE_ENDPOINTS: return <u64>endpointsInUseTotal();
    case GAUGE_CONNECTIONS: return <u64>endpointsInUse(EP_CONNECTION);
    case GAUGE_LISTENERS: return <u64>endpointsInUse(EP_LISTENER);
    case GAUGE_SYNCACHE: return <u64>endpointsInUse(EP_SYNCACHE);
    case GAUGE_CHUNKS_IN_USE: return <u64>chunksInUse();
    case GAUGE_CHUNKS_HIGH_WATER: return <u64>chunksHighWater();
    case GAUGE_CHUNKS_FREE: return <u64>chunksFree();
    case GAUGE_TABLE_ENTRIES: return <u64>tableSize();
    case GAUGE_TIMERS_ACTIVE: return <u64>timers.active;
    case GAUGE_PENDING_OUTPUT: return <u64>endpointPendingCount();
    case GAUGE_RX_PENDING: return <u64>rxPending();
    case GAUGE_ARP_ENTRIES: return interfaceConfigured() ? <u64>arpLiveEntries() : 0;
    case GAUGE_TIME_WAIT: return <u64>twCount();
    case GAUGE_TIME_WAIT_BYTES: return twBytes();
    case GAUGE_TW_ENTERED: return twEntered;
    case GAUGE_TW_EXPIRED: return twExpired;
    case GAUGE_TW_SYN_ACCEPTED: return twSynAccepted;
    case GAUGE_TW_SYN_REJECTED: return twSynRejected;
    case GAUGE_TW_FIN_ACKED: return twFinAcked;
    case GAUGE_TW_REUSED: return twReused;
    case GAUGE_TW_ACKS: return twAcks;
    case GAUGE_TW_ACK_LIMITED: return twAckLimited;
    default: return 0;
  }
}
