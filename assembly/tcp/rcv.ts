// The receiver: segment acceptability (RFC 9293 §3.10.7.4 first check), in-order
// delivery, out-of-order holding with SACK bookkeeping (RFC 2018), delayed ACK
// (RFC 5681 §4.2, RFC 1122 §4.2.3.2), and the FIN (eighth step, HC-06).
//
// Receive buffer ↔ sequence space:
//
//   (read by app) │ readable │ rcvNxt ── holes and out-of-order ranges ── │ rcvNxt+space
//                 └ envRcvLen┘ offset 0 of envRcvWriteAt                    envRcvSpace

import { FIFO_DELACK } from "../time/fifo";
import {
  Tcb, TCB_OOO_MAX, TF_ACK_NOW, TF_DELACK, TF_FIN_PENDING, TF_EOF_POSTED, TF_RCV_SHUT,
  TCB_TIMER_DELACK, oooStartAt, oooEndAt, setOooStart, setOooEnd,
} from "./tcb";
import { TcpRepr, TCP_FLAG_FIN } from "../wire/tcp";
import {
  STATE_ESTABLISHED, STATE_FIN_WAIT_1, STATE_FIN_WAIT_2, STATE_SYN_RECEIVED, STATE_CLOSE_WAIT,
  STATE_CLOSING, STATE_TIME_WAIT,
} from "./state";
import { envRcvWriteAt, envRcvCommit, envRcvLen, envRcvSpace, envEvent } from "./env";
import { EV_READABLE, EV_PEER_CLOSED } from "./codes";
import { seqLt, seqLe, seqGt, seqGe, seqInWindow, seqMax, seqMin } from "../util/seq";
import { timers } from "../time/clock";
import { delAckMs, incOooDropped } from "./config";
import { enterTimeWait, armTimeWait } from "./close";

/**
 * The receive window for the acceptability test: the larger of what we last
 * advertised (RCV.ADV − RCV.NXT, never shrunk) and what the buffer can take now.
 */
export function acceptWindow(p: usize): u32 {
  const t = changetype<Tcb>(p);
  const space = envRcvSpace(p);
  const adv: u32 = seqGt(t.rcvAdv, t.rcvNxt) ? t.rcvAdv - t.rcvNxt : 0;
  return adv > space ? adv : space;
}

/**
 * RFC 9293 §3.10.7.4, first check, the four cases:
 *   len 0, wnd 0: SEG.SEQ = RCV.NXT
 *   len 0, wnd >0: RCV.NXT ≤ SEG.SEQ < RCV.NXT+RCV.WND
 *   len >0, wnd 0: not acceptable
 *   len >0, wnd >0: first or last byte of the segment inside the window.
 * All modulo 2^32 (HC-01).
 */
export function segmentAcceptable(p: usize, seq: u32, segLen: u32): bool {
  const t = changetype<Tcb>(p);
  const wnd = acceptWindow(p);
  if (segLen == 0) {
    if (wnd == 0) return seq == t.rcvNxt;
    return seqInWindow(seq, t.rcvNxt, wnd);
  }
  if (wnd == 0) return false;
  return seqInWindow(seq, t.rcvNxt, wnd) || seqInWindow(seq + segLen - 1, t.rcvNxt, wnd);
}

/**
 * Records [s, e) as held out-of-order data, merging with overlapping or adjacent
 * ranges; keeps the ranges sorted. Returns false (nothing recorded) when all
 * TCB_OOO_MAX ranges are in use and the new one touches none of them.
 */
export function oooInsert(p: usize, s: u32, e: u32): bool {
  const t = changetype<Tcb>(p);
  let n = <i32>t.oooCount;
  let i = 0;
  while (i < n) {
    const a = oooStartAt(p, i);
    const b = oooEndAt(p, i);
    if (seqLe(a, e) && seqGe(b, s)) {
      s = seqMin(s, a);
      e = seqMax(e, b);
      for (let k = i; k < n - 1; k++) { setOooStart(p, k, oooStartAt(p, k + 1)); setOooEnd(p, k, oooEndAt(p, k + 1)); }
      n--;
    } else {
      i++;
    }
  }
  if (n >= TCB_OOO_MAX) { t.oooCount = <u8>n; return false; }
  let pos = 0;
  while (pos < n && seqLt(oooStartAt(p, pos), s)) pos++;
  for (let k = n; k > pos; k--) { setOooStart(p, k, oooStartAt(p, k - 1)); setOooEnd(p, k, oooEndAt(p, k - 1)); }
  setOooStart(p, pos, s);
  setOooEnd(p, pos, e);
  t.oooCount = <u8>(n + 1);
  t.oooLast = <u8>pos;
  return true;
}

/** Moves rcvNxt over every held range that now starts at or before it; returns the new rcvNxt. */
function oooAdvance(p: usize, nxt: u32): u32 {
  const t = changetype<Tcb>(p);
  let n = <i32>t.oooCount;
  while (n > 0 && seqLe(oooStartAt(p, 0), nxt)) {
    nxt = seqMax(nxt, oooEndAt(p, 0));
    for (let k = 0; k < n - 1; k++) { setOooStart(p, k, oooStartAt(p, k + 1)); setOooEnd(p, k, oooEndAt(p, k + 1)); }
    n--;
  }
  t.oooCount = <u8>n;
  if (t.oooLast >= <u8>n) t.oooLast = 0;
  return nxt;
}

/**
 * Cuts every held range at `fin`, the sequence number of a FIN (RFC 9293 §3.4: the
 * FIN is the last sequence number the peer uses): ranges that start at or after it
 * go, a range that runs past it ends there. Bytes beyond a known FIN are not data
 * and must never become readable (they stay unread in the chunks, which go back on
 * the next read or when the connection ends).
 */
function oooCutAt(p: usize, fin: u32): void {
  const t = changetype<Tcb>(p);
  let n = <i32>t.oooCount;
  while (n > 0 && seqGe(oooStartAt(p, n - 1), fin)) n--; // sorted by start: the tail goes
  if (n > 0 && seqGt(oooEndAt(p, n - 1), fin)) setOooEnd(p, n - 1, fin);
  t.oooCount = <u8>n;
  if (t.oooLast >= <u8>n) t.oooLast = 0;
}

/** Drops every held range (the connection stops receiving). */
export function oooClear(p: usize): void {
  changetype<Tcb>(p).oooCount = 0;
}

/**
 * RFC 9293 §3.10.7.4 eighth step: the FIN at RCV.NXT is acknowledged, the
 * application sees end-of-stream after all data, and the state moves on.
 */
export function finReceived(p: usize): void {
  const t = changetype<Tcb>(p);
  t.rcvNxt += 1;
  t.flags = (t.flags | TF_ACK_NOW) & ~TF_FIN_PENDING;
  oooClear(p);
  if ((t.flags & TF_EOF_POSTED) == 0) {
    t.flags |= TF_EOF_POSTED;
    envEvent(EV_PEER_CLOSED, t.handle, 0, 0);
  }
  const s = t.state;
  if (s == STATE_SYN_RECEIVED || s == STATE_ESTABLISHED) {
    t.state = STATE_CLOSE_WAIT;
  } else if (s == STATE_FIN_WAIT_1) {
    // Our FIN not yet acknowledged (else step five would have moved us to FIN-WAIT-2).
    t.state = STATE_CLOSING;
  } else if (s == STATE_FIN_WAIT_2) {
    enterTimeWait(p);
  } else if (s == STATE_TIME_WAIT) {
    armTimeWait(p); // restart the 2 MSL timeout
  }
}

/**
 * Seventh and eighth steps for an acceptable segment whose ACK has been processed:
 * deliver the text (trimmed to RCV.NXT and to the window), hold out-of-order data,
 * then the FIN in sequence order (HC-06). Sets TF_ACK_NOW or arms the delayed ACK.
 */
export function processText(p: usize, seg: TcpRepr, data: usize): void {
  const t = changetype<Tcb>(p);
  let seq = seg.seq;
  let n = seg.payloadLen;
  let fin = (seg.flags & TCP_FLAG_FIN) != 0;
  const st = t.state;
  const takesText = st == STATE_ESTABLISHED || st == STATE_FIN_WAIT_1 || st == STATE_FIN_WAIT_2;
  if (!takesText) {
    // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent FIN; text is ignored.
    // A retransmitted FIN gets an ACK (and in TIME-WAIT restarts the timer).
    if (fin && seq + n + 1 == t.rcvNxt) {
      t.flags |= TF_ACK_NOW;
      if (st == STATE_TIME_WAIT) armTimeWait(p);
    }
    return;
  }
  // Trim the front to RCV.NXT (already received bytes).
  if (seqLt(seq, t.rcvNxt)) {
    const d = t.rcvNxt - seq;
    if (d > n) { // everything, and a FIN before RCV.NXT, is old
      if (n > 0 || fin) t.flags |= TF_ACK_NOW;
      return;
    }
    data += d;
    n -= d;
    seq = t.rcvNxt;
  }
  // A FIN already held beyond a hole fixes where the peer's stream ends (RFC 9293 §3.4,
  // §3.10.7.4 eighth step): nothing at or after it is data, so bytes there are dropped,
  // never queued, and a repeated FIN adds nothing. The ACK tells the peer what we hold.
  if ((t.flags & TF_FIN_PENDING) != 0) {
    const fs = t.rcvFinSeq;
    const room: u32 = seqLt(seq, fs) ? fs - seq : 0;
    if (n > room) { n = room; t.flags |= TF_ACK_NOW; }
    if (fin) { fin = false; t.flags |= TF_ACK_NOW; }
  }
  // Trim the tail to the window (RFC 9293 §3.10.7.4: keep only what fits).
  const off = seq - t.rcvNxt;
  const space = envRcvSpace(p);
  // Only text (or a FIN) can be trimmed: a pure ACK beyond what we can hold carries
  // nothing to refuse, and ACKing it drew an ACK back from a peer in the same state
  // (two ends whose pools ran dry traded ACKs for ever at one instant).
  if (off + n > space && (n > 0 || fin)) {
    n = off < space ? space - off : 0;
    fin = false;
    t.flags |= TF_ACK_NOW;
  }
  if ((t.flags & TF_RCV_SHUT) != 0) {
    // shutdown(SHUT_RD) then data: Linux answers with RST; we acknowledge and discard.
    n = 0;
  }
  if (n == 0 && !fin) return;
  if (off == 0) {
    let stored: u32 = n > 0 ? envRcvWriteAt(p, 0, data, n) : 0;
    if (stored < n) { fin = false; t.flags |= TF_ACK_NOW; }
    const hadOoo = t.oooCount > 0;
    // The FIN follows this segment's text (RFC 9293 §3.4): data held beyond it is not data.
    const finSeq = t.rcvNxt + stored;
    if (fin) oooCutAt(p, finSeq);
    let nxt = oooAdvance(p, t.rcvNxt + stored);
    const advance = nxt - t.rcvNxt;
    if (advance > 0) {
      envRcvCommit(p, advance);
      t.rcvNxt = nxt;
      envEvent(EV_READABLE, t.handle, envRcvLen(p), 0);
    }
    // RFC 5681 §4.2: ACK at least every second full-sized segment, immediately when
    // a hole is filled; otherwise within delAckMs (< 500 ms).
    if (hadOoo) t.flags |= TF_ACK_NOW;
    if (stored > 0) {
      t.segsUnacked++;
      if (t.segsUnacked >= 2) t.flags |= TF_ACK_NOW;
    }
    if (fin && t.rcvNxt == finSeq) {
      // The FIN directly follows this segment's text (held data was cut at it above).
      finReceived(p);
    } else if ((t.flags & TF_FIN_PENDING) != 0 && t.rcvNxt == t.rcvFinSeq) {
      finReceived(p);
    } else if (stored > 0 && (t.flags & TF_ACK_NOW) == 0 && (t.flags & TF_DELACK) == 0) {
      t.flags |= TF_DELACK;
      timers.scheduleFifo(FIFO_DELACK, p + TCB_TIMER_DELACK, <u64>delAckMs);
    }
  } else {
    // Out of order (RFC 9293 §3.10.7.4 seventh step; RFC 5681 §4.2: ACK at once, with SACK).
    let stored: u32 = n > 0 ? envRcvWriteAt(p, off, data, n) : 0;
    if (stored < n) fin = false;
    if (stored > 0 && !oooInsert(p, seq, seq + stored)) { incOooDropped(); fin = false; }
    if (fin) {
      // HC-06 (b): the FIN waits for the hole; data held beyond it is not data (§3.4).
      const fs = seq + stored;
      oooCutAt(p, fs);
      t.flags |= TF_FIN_PENDING;
      t.rcvFinSeq = fs;
    }
    t.flags |= TF_ACK_NOW;
  }
}
