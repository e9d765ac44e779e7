// The user calls of RFC 9293 §3.10 (OPEN, SEND, RECEIVE, CLOSE, ABORT) on handles,
// as the ABI exposes them: open, listen, connect, accept, send, recv, shutdown,
// close, abort, setOption. Data is copied between caller memory and the chunk
// pool; no internal pointer leaves the module.

import {
  Tcb, TF_NODELAY, TF_KEEPALIVE, TF_FIN_QUEUED, TF_DETACHED, TF_APP_CLOSED, TF_IN_ACCEPTQ, TF_ACTIVE_OPEN,
  TF_WS_OK, TF_SACK_OK, TF_TS_OK, TF_WANT_WRITABLE, TF_RCV_SHUT, TF_EOF_POSTED, TF_ERROR,
  TCB_TIMER_TW, TCB_TIMER_KEEP,
} from "./tcb";
import {
  STATE_CLOSED, STATE_LISTEN, STATE_SYN_SENT, STATE_SYN_RECEIVED, STATE_ESTABLISHED,
  STATE_FIN_WAIT_1, STATE_FIN_WAIT_2, STATE_CLOSE_WAIT, STATE_LAST_ACK, STATE_TIME_WAIT, isSynchronized, receiveClosed,
  acceptsSend,
} from "./state";
import {
  envTcbAlloc, envTcbPtr, envTcbFree, envTableInsert, envTableRemove, envSndAppend, envRcvRead,
  envRcvLen, envBufRelease, envSndLen, envPoolWait,
} from "./env";
import { sendRstFor, sendSegment, currentRcvWnd, sendAck } from "./output";
import { sendSyn, scaleFor, tsOffsetFor } from "./connect";
import { tcpOutput, armRtx, armKeepalive, armFinWait2 } from "./snd";
import { tcbFinish } from "./close";
import { listenerDropHalfOpen } from "./listen";
import { isnFor, choosePort, isnHintClear } from "./isn";
import { twHolds, twTakeOver, twStoreReady, twCreate } from "./timewait";
import {
  E_NOTCONN, E_BAD_STATE, E_NO_PORT, E_AGAIN, E_PIPE, E_NO_PENDING,
} from "./codes";
import { E_INVALID_HANDLE, E_BAD_ARGUMENT, E_ADDR_IN_USE, E_CHUNKS_EXHAUSTED } from "../errors";
import { timers } from "../time/clock";
import { seqGt } from "../util/seq";
import { defaultSndBuf, defaultRcvBuf, announceMss, timeWaitMs } from "./config";

export const OPT_NODELAY: i32 = 1;
export const OPT_KEEPALIVE: i32 = 2;
export const OPT_SNDBUF: i32 = 3;
export const OPT_RCVBUF: i32 = 4;

/** A new endpoint in CLOSED; 0 when the pool is exhausted. */
export function tcpOpen(): u32 {
  const h = envTcbAlloc();
  if (h == 0) return 0;
  const p = envTcbPtr(h);
  if (p == 0) return 0;
  const t = changetype<Tcb>(p);
  t.sndBufMax = defaultSndBuf;
  t.rcvBufMax = defaultRcvBuf;
  return h;
}

/**
 * Passive OPEN (RFC 9293 §3.10.1): LISTEN on (addr, port); addr 0 = any. With
 * `insert` false the caller puts the listener in the table itself (glue/api.ts does,
 * to pass the reuseAddress/reusePort bind flags).
 */
export function tcpListen(h: u32, addr: u32, port: u16, backlog: u16, insert: bool = true): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  if (t.state != STATE_CLOSED) return E_BAD_STATE;
  if (port == 0) return E_BAD_ARGUMENT;
  t.localAddr = addr;
  t.localPort = port;
  t.backlog = backlog == 0 ? 1 : backlog;
  t.state = STATE_LISTEN;
  if (!insert) return 0;
  const r = envTableInsert(p);
  if (r != 0) { t.state = STATE_CLOSED; return r; }
  return 0;
}

/**
 * Active OPEN (RFC 9293 §3.10.1): sends SYN; localPort 0 = ephemeral (RFC 6056).
 * `twReuse` (SPEC §5, Linux tcp_tw_reuse): the 4-tuple may be taken from a TIME-WAIT
 * record when timestamps make it safe (tcp/timewait.ts twTakeOver). A 4-tuple held
 * by TIME-WAIT otherwise: E_ADDR_IN_USE (Linux connect says EADDRNOTAVAIL).
 */
export function tcpConnect(h: u32, localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16, twReuse: bool = false): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  if (t.state != STATE_CLOSED) return E_BAD_STATE;
  if (remotePort == 0 || remoteAddr == 0) return E_BAD_ARGUMENT;
  if (localPort == 0) {
    localPort = choosePort(localAddr, remoteAddr, remotePort, twReuse);
    if (localPort == 0) { isnHintClear(); return E_NO_PORT; }
  } else if (twHolds(localAddr, localPort, remoteAddr, remotePort) &&
             !(twReuse && twTakeOver(localAddr, localPort, remoteAddr, remotePort))) {
    return E_ADDR_IN_USE;
  }
  t.localAddr = localAddr;
  t.localPort = localPort;
  t.remoteAddr = remoteAddr;
  t.remotePort = remotePort;
  t.iss = isnFor(localAddr, localPort, remoteAddr, remotePort); // a taken-over record's ISS if any
  isnHintClear();
  t.sndUna = t.iss;
  t.sndNxt = t.iss + 1;
  t.sndMax = t.iss + 1;
  t.recover = t.iss;
  t.rcvMss = announceMss;
  t.rcvWndScale = scaleFor(t.rcvBufMax);
  t.tsOffset = tsOffsetFor(t);
  t.flags |= TF_ACTIVE_OPEN | TF_WS_OK | TF_SACK_OK | TF_TS_OK; // what we offer
  t.state = STATE_SYN_SENT;
  const r = envTableInsert(p);
  if (r != 0) { t.state = STATE_CLOSED; return r; }
  sendSyn(p);
  armRtx(p);
  return 0;
}

/** Takes the first established child of listener `h`; 0 when none waits. */
export function tcpAccept(h: u32): u32 {
  const p = envTcbPtr(h);
  if (p == 0) return 0;
  const l = changetype<Tcb>(p);
  if (l.state != STATE_LISTEN || l.acceptHead == 0) return 0;
  const ch = l.acceptHead;
  const cp = envTcbPtr(ch);
  if (cp == 0) { l.acceptHead = 0; l.acceptTail = 0; l.acceptLen = 0; return 0; }
  const c = changetype<Tcb>(cp);
  l.acceptHead = c.acceptNext;
  if (l.acceptHead == 0) l.acceptTail = 0;
  if (l.acceptLen > 0) l.acceptLen--;
  c.acceptNext = 0;
  c.flags &= ~(TF_IN_ACCEPTQ | TF_DETACHED);
  return ch;
}

/**
 * SEND (RFC 9293 §3.10.2): copies up to `len` bytes from `src` into the send buffer.
 * Returns the bytes taken (≥ 0; fewer than `len` → EV_WRITABLE later), or −code.
 */
export function tcpSend(h: u32, src: usize, len: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return -E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  const s = t.state;
  if ((t.flags & TF_FIN_QUEUED) != 0) return -E_PIPE;
  if (!acceptsSend(s)) return -E_NOTCONN;
  const n = envSndAppend(p, src, len);
  if (n < len) {
    t.flags |= TF_WANT_WRITABLE;
    // The send buffer still has room, so the shared chunk pool ran dry: this
    // connection may have nothing in flight whose ACK would say "writable", so the
    // stack tells it when chunks come back (glue/tick.ts wakePoolWaiters).
    if (envSndLen(p) < t.sndBufMax) {
      envPoolWait(t.handle);
      if (n == 0) return -E_CHUNKS_EXHAUSTED;
    }
  }
  if (isSynchronized(s)) tcpOutput(p);
  return <i32>n;
}

/**
 * RECEIVE (RFC 9293 §3.10.3): copies up to `len` readable bytes to `dst`.
 * Returns the count, 0 at end of stream, or −E_AGAIN when nothing is readable yet.
 * Sends a window update when the window opened by enough (RFC 9293 §3.8.6.2.2:
 * at least min(buffer/2, MSS)).
 */
export function tcpRecv(h: u32, dst: usize, len: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return -E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  const n = envRcvRead(p, dst, len);
  if (n == 0) {
    if (receiveClosed(t.state) || (t.flags & TF_EOF_POSTED) != 0 || t.state == STATE_CLOSED) return 0;
    if (t.state == STATE_LISTEN) return -E_NOTCONN;
    return -E_AGAIN;
  }
  if (isSynchronized(t.state) && !receiveClosed(t.state)) {
    const wnd = currentRcvWnd(p);
    const edge = t.rcvNxt + wnd;
    const grow: u32 = seqGt(edge, t.rcvAdv) ? edge - t.rcvAdv : 0;
    const half = t.rcvBufMax >> 1;
    const thresh: u32 = half < <u32>t.rcvMss ? half : <u32>t.rcvMss;
    if (grow >= thresh && grow > 0) sendAck(p);
  }
  return <i32>n;
}

/** CLOSE of the send side (shutdown(SHUT_WR), RFC 9293 §3.10.4): FIN after the queued data. */
export function tcpShutdown(h: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  return shutdownPtr(p);
}

function shutdownPtr(p: usize): i32 {
  const t = changetype<Tcb>(p);
  const s = t.state;
  if ((t.flags & TF_FIN_QUEUED) != 0) return 0;
  if (s == STATE_SYN_SENT) { tcbFinish(p); return 0; } // RFC 9293 §3.10.4: delete the TCB
  if (s == STATE_LISTEN || s == STATE_CLOSED) return E_NOTCONN;
  if (s == STATE_ESTABLISHED || s == STATE_SYN_RECEIVED) {
    t.flags |= TF_FIN_QUEUED;
    // SYN-RECEIVED (a simultaneous open): RFC 9293 §3.10.4 lets the CLOSE wait until
    // ESTABLISHED; the final ACK then moves the connection to FIN-WAIT-1 and the FIN
    // goes out (input.ts, fifth step). tcpOutput sends nothing before that.
    t.state = s == STATE_ESTABLISHED ? STATE_FIN_WAIT_1 : s;
  } else if (s == STATE_CLOSE_WAIT) {
    t.flags |= TF_FIN_QUEUED;
    t.state = STATE_LAST_ACK;
  } else {
    return 0; // already closing
  }
  tcpOutput(p);
  return 0;
}

/**
 * close(): the application gives up the handle. A listener resets and frees its
 * children, queued and half-open (RST); a connection with unread data is reset
 * (RFC 2525 §2.17, as Linux); otherwise the FIN is sent and the record lives on,
 * detached, until the protocol is done (FIN-WAIT/TIME-WAIT), then frees itself.
 */
export function tcpClose(h: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  const s = t.state;
  t.flags |= TF_DETACHED | TF_APP_CLOSED;
  if (s == STATE_CLOSED) { tcbFinish(p); return 0; }
  if (s == STATE_LISTEN) {
    let guard: u32 = <u32>t.acceptLen + 1;
    while (t.acceptHead != 0 && guard-- > 0) {
      const ch = tcpAccept(h);
      const cp = envTcbPtr(ch);
      if (cp == 0) break;
      changetype<Tcb>(cp).flags |= TF_DETACHED;
      sendRstFor(cp);
      tcbFinish(cp);
    }
    // Half-open children go too (a child never outlives its listener; listen.ts).
    listenerDropHalfOpen(p);
    tcbFinish(p);
    return 0;
  }
  if (s == STATE_SYN_SENT) { tcbFinish(p); return 0; }
  if (envRcvLen(p) > 0 && isSynchronized(s)) {
    sendRstFor(p);
    tcbFinish(p);
    return 0;
  }
  if (s == STATE_TIME_WAIT && twStoreReady()) {
    // The application lets go of a connection already in TIME-WAIT: a compact record
    // takes over (a full timeWaitMs from now; close.ts enterTimeWait), the Tcb goes.
    timers.cancel(p + TCB_TIMER_TW);
    twCreate(p); // false: slab full (counted), no TIME-WAIT then
    tcbFinish(p);
    return 0;
  }
  shutdownPtr(p);
  if (t.state == STATE_FIN_WAIT_2) armFinWait2(p); // the orphan's timeout, on timer[0] (snd.ts)
  return 0;
}

/** ABORT (RFC 9293 §3.10.5): RST in synchronized states, then the record is freed. */
export function tcpAbort(h: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  if (isSynchronized(t.state) || t.state == STATE_SYN_RECEIVED) sendRstFor(p);
  t.flags |= TF_DETACHED;
  if (t.state == STATE_LISTEN) return tcpClose(h);
  tcbFinish(p);
  return 0;
}

/** Socket options: noDelay, keepAlive (0/1), send/receive buffer sizes (bytes, before connect). */
export function tcpSetOption(h: u32, opt: i32, value: u32): i32 {
  const p = envTcbPtr(h);
  if (p == 0) return E_INVALID_HANDLE;
  const t = changetype<Tcb>(p);
  if (opt == OPT_NODELAY) {
    if (value != 0) t.flags |= TF_NODELAY; else t.flags &= ~TF_NODELAY;
    if (value != 0 && isSynchronized(t.state)) tcpOutput(p);
  } else if (opt == OPT_KEEPALIVE) {
    if (value != 0) {
      t.flags |= TF_KEEPALIVE;
      if (isSynchronized(t.state)) armKeepalive(p);
    } else {
      t.flags &= ~TF_KEEPALIVE;
      timers.cancel(p + TCB_TIMER_KEEP);
    }
  } else if (opt == OPT_SNDBUF) {
    if (value == 0) return E_BAD_ARGUMENT;
    t.sndBufMax = value;
  } else if (opt == OPT_RCVBUF) {
    if (value == 0) return E_BAD_ARGUMENT;
    if (t.state != STATE_CLOSED && t.state != STATE_LISTEN) return E_BAD_STATE; // the scale is fixed at SYN time
    t.rcvBufMax = value;
  } else {
    return E_BAD_ARGUMENT;
  }
  return 0;
}

/** State of an endpoint (STATE_*), or 0xff for an invalid handle (specs, host debugging). */
export function tcpState(h: u32): u8 {
  const p = envTcbPtr(h);
  return p == 0 ? 0xff : changetype<Tcb>(p).state;
}
