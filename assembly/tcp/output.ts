// Building segments in place in a TX buffer (envTxBegin) from TCB state, and the
// replies that need no TCB (RST for closed ports).

import * as tcp from "../wire/tcp";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_FIN } from "../wire/tcp";
import {
  Tcb, TF_TS_OK, TF_WS_OK, TF_SACK_OK, TF_ACK_NOW, TF_DELACK, TCB_TIMER_DELACK, TCB_OOO_MAX,
  oooStartAt, oooEndAt,
} from "./tcb";
import { envTxBegin, envTxSend, envSndCopy, envRcvSpace } from "./env";
import { nowMs, nowUs, timers } from "../time/clock";
import { TCP_TS_OPT_SPACE } from "./connect";
import { seqLt, seqGt } from "../util/seq";
import { incSegsOut, incRstSent, incTxFull, incChallengeAcks, incChallengeAckLimited, challengeAckLimit } from "./config";

/** The one output repr, reused for every segment. */
const out = new TcpRepr();

/** Our TSval for this connection (RFC 7323 §5.4: a 1 ms clock plus a per-connection offset). */
@inline
export function tsNow(t: Tcb): u32 {
  return <u32>nowMs() + t.tsOffset;
}

/**
 * The receive window to offer now, in bytes: what the receive buffer can still
 * take (backed by chunks), capped by what the window field can express
 * (65535 << RCV.WND.SCALE) and rounded down to the scale's granularity so that
 * the advertised right edge is never beyond the real space.
 */
export function currentRcvWnd(p: usize): u32 {
  const t = changetype<Tcb>(p);
  let w = envRcvSpace(p);
  const shift = (t.flags & TF_WS_OK) != 0 ? <u32>t.rcvWndScale : 0;
  const cap: u32 = <u32>0xffff << shift;
  if (w > cap) w = cap;
  w = (w >> shift) << shift;
  return w;
}

/**
 * Builds and sends one segment of connection `p`: `flags`, sequence number `seq`,
 * and `len` payload bytes taken from the send buffer at offset `off`. Fills ACK
 * (RCV.NXT), the window, and the options the connection uses; SYN segments carry
 * the handshake options (RFC 7323 §2.2, §3.2; RFC 2018 §2; RFC 9293 §3.7.1).
 * Returns false when no TX buffer was available (counted; the timers recover).
 */
export function sendSegment(p: usize, flags: u8, seq: u32, off: u32, len: u32): bool {
  const t = changetype<Tcb>(p);
  const buf = envTxBegin();
  if (buf == 0) { incTxFull(); return false; }
  out.clear();
  out.srcPort = t.localPort;
  out.dstPort = t.remotePort;
  out.seq = seq;
  out.flags = flags;
  const syn = (flags & TCP_FLAG_SYN) != 0;
  if ((flags & TCP_FLAG_ACK) != 0) out.ack = t.rcvNxt;
  const wnd = currentRcvWnd(p);
  if (syn) {
    // RFC 7323 §2.2: the window field of a SYN or SYN,ACK is never scaled; HC-05 (d): clamp, never wrap.
    out.window = wnd > 0xffff ? 0xffff : <u16>wnd;
    out.mss = t.rcvMss;
    if ((t.flags & TF_WS_OK) != 0) { out.hasWs = true; out.wsShift = t.rcvWndScale; }
    if ((t.flags & TF_SACK_OK) != 0) out.sackPermitted = true;
    if ((t.flags & TF_TS_OK) != 0) {
      out.hasTs = true;
      out.tsVal = tsNow(t);
      // RFC 7323 §3.2: TSecr is zero in a SYN without ACK.
      out.tsEcr = (flags & TCP_FLAG_ACK) != 0 ? t.tsRecent : 0;
    }
  } else {
    const shift = (t.flags & TF_WS_OK) != 0 ? <u32>t.rcvWndScale : 0;
    out.window = <u16>(wnd >> shift);
    if ((t.flags & TF_TS_OK) != 0 && (flags & TCP_FLAG_RST) == 0) {
      out.hasTs = true;
      out.tsVal = tsNow(t);
      out.tsEcr = t.tsRecent;
    }
    // RFC 2018 §4: SACK blocks in ACKs while out-of-order data is held; the first
    // block holds the most recently received segment.
    if ((t.flags & TF_SACK_OK) != 0 && t.oooCount > 0 && (flags & TCP_FLAG_ACK) != 0) {
      let n = 0;
      const last = <i32>t.oooLast;
      if (last < <i32>t.oooCount) { out.setSack(n++, oooStartAt(p, last), oooEndAt(p, last)); }
      for (let i = 0; i < <i32>t.oooCount && n < TCB_OOO_MAX; i++) {
        if (i == last) continue;
        out.setSack(n++, oooStartAt(p, i), oooEndAt(p, i));
      }
      out.sackCount = n;
    }
  }
  let h = tcp.emit(out, buf);
  if (len > 0 && !syn) {
    // RFC 6691 §3: header options count against the peer's MSS. sndMss already leaves
    // room for the timestamps (connect.ts negotiate); SACK blocks that do not fit in a
    // data segment are left out (the most recent block goes first, RFC 2018 §4, so the
    // last ones are dropped). Pure ACKs always carry every block.
    const limit = <u32>t.sndMss + tcp.TCP_HDR_LEN + ((t.flags & TF_TS_OK) != 0 ? TCP_TS_OPT_SPACE : 0);
    while (h + len > limit && out.sackCount > 0) {
      out.sackCount--;
      h = tcp.emit(out, buf);
    }
  }
  if (len > 0) envSndCopy(p, off, buf + h, len);
  tcp.fillChecksum(buf, h + len, t.localAddr, t.remoteAddr);
  envTxSend(buf, h + len, t.localAddr, t.remoteAddr);
  incSegsOut();
  if ((flags & TCP_FLAG_ACK) != 0) {
    // Every ACK we send acknowledges everything received: no ACK is owed any more.
    t.flags &= ~(TF_ACK_NOW | TF_DELACK);
    t.segsUnacked = 0;
    timers.cancel(p + TCB_TIMER_DELACK);
    // Remember the right edge we offered (RFC 9293 §3.8.6.2.2: do not shrink it).
    const edge = t.rcvNxt + wnd;
    if (seqGt(edge, t.rcvAdv) || t.rcvAdv == 0) t.rcvAdv = edge;
    t.rcvWnd = wnd;
  }
  if ((flags & TCP_FLAG_RST) != 0) incRstSent();
  return true;
}

/**
 * A pure ACK carrying SND.NXT (RFC 9293 §3.10.7.4: the reply to unacceptable segments).
 * RFC 9293's SND.NXT is the next *new* sequence number, which is our sndMax: after a
 * retransmission timeout sndNxt is pulled back to sndUna (go-back-N, snd.ts), and an
 * ACK carrying that older number would sit left of the peer's RCV.NXT, fail its
 * acceptability test and be answered by an ACK of the same kind — two stacks in that
 * state trade ACKs for ever and never process each other's acknowledgments (found by
 * the two-stack soak test). BSD does the same (tcp_output: "for ACK only packets ...
 * use snd_max instead of snd_nxt").
 */
export function sendAck(p: usize): bool {
  const t = changetype<Tcb>(p);
  return sendSegment(p, TCP_FLAG_ACK, t.sndMax, 0, 0);
}

/**
 * A RST for an existing connection (ABORT, RFC 9293 §3.10.5): seq = SND.NXT, i.e.
 * sndMax as for sendAck (the number the peer expects once everything sent arrived;
 * otherwise the peer's RFC 5961 challenge ACK gets a RST with its exact ACK from the
 * closed-port path).
 */
export function sendRstFor(p: usize): bool {
  const t = changetype<Tcb>(p);
  return sendSegment(p, TCP_FLAG_RST | TCP_FLAG_ACK, t.sndMax, 0, 0);
}

// RFC 5961 §7: a stack-wide budget of challenge ACKs per second.
let challengeWindowStart: u64 = 0;
let challengeCount: u32 = 0;

/**
 * RFC 5961 §3.2 / §4.2 / §5.2: the challenge ACK, limited to challengeAckLimit per
 * second across the stack. Returns true when it was sent.
 */
export function sendChallengeAck(p: usize): bool {
  const now = nowMs();
  if (now - challengeWindowStart >= 1000) { challengeWindowStart = now; challengeCount = 0; }
  if (challengeCount >= challengeAckLimit) { incChallengeAckLimited(); return false; }
  challengeCount++;
  incChallengeAcks();
  return sendAck(p);
}

/** Resets the challenge-ACK budget (specs). */
export function challengeAckReset(): void {
  challengeWindowStart = 0;
  challengeCount = 0;
}

/**
 * The reply to a segment for which no connection exists (RFC 9293 §3.10.7.1),
 * or an unacceptable segment in LISTEN / SYN-SENT: never a RST for a RST.
 *   ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 *   ACK on:  <SEQ=SEG.ACK><CTL=RST>
 * `seg` is the parsed incoming segment; addresses/ports are swapped.
 */
export function sendRstReply(seg: TcpRepr, localAddr: u32, remoteAddr: u32): bool {
  if ((seg.flags & TCP_FLAG_RST) != 0) return false;
  const buf = envTxBegin();
  if (buf == 0) { incTxFull(); return false; }
  out.clear();
  out.srcPort = seg.dstPort;
  out.dstPort = seg.srcPort;
  if ((seg.flags & TCP_FLAG_ACK) != 0) {
    out.seq = seg.ack;
    out.flags = TCP_FLAG_RST;
  } else {
    out.seq = 0;
    out.ack = seg.seq + seg.segLen;
    out.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
  }
  const h = tcp.emit(out, buf);
  tcp.fillChecksum(buf, h, localAddr, remoteAddr);
  envTxSend(buf, h, localAddr, remoteAddr);
  incSegsOut();
  incRstSent();
  return true;
}

