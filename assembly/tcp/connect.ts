// Handshake: option negotiation (RFC 7323, RFC 2018, RFC 9293 §3.7.1; HC-05), the
// active open, and SYN-SENT segment processing (RFC 9293 §3.10.7.3), including
// simultaneous open (SYN-SENT → SYN-RECEIVED).

import {
  Tcb, TF_WS_OK, TF_SACK_OK, TF_TS_OK, TF_ACTIVE_OPEN, TF_ACK_NOW, TCB_TIMER_RTX, TCP_DEFAULT_MSS,
  TF_HS_STAMPED,
} from "./tcb";
import { histRecord, HIST_SERVER_HANDSHAKE, HIST_CLIENT_CONNECT } from "../stats/histogram";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_MAX_WS } from "../wire/tcp";
import { STATE_SYN_SENT, STATE_SYN_RECEIVED, STATE_ESTABLISHED } from "./state";
import { envEvent, envHash } from "./env";
import { sendSegment, sendRstReply } from "./output";
import { armRtx, stopRtx, tcpOutput, armKeepalive } from "./snd";
import { processText } from "./rcv";
import { tcbFail } from "./close";
import { EV_CONNECTED, E_CONNREFUSED } from "./codes";
import { timers, nowMs, nowUs } from "../time/clock";
import { seqLe, seqGt } from "../util/seq";
import { announceMss, initialCwndSegs } from "./config";

/** Smallest send MSS we accept; below it the peer's value is raised (Linux: tcp_min_snd_mss = 48). */
export const TCP_MIN_SND_MSS: u16 = 64;

/** The smallest window shift that lets 65535 << shift cover `buf` bytes (≤ 14, RFC 7323 §2.3). */
export function scaleFor(buf: u32): u8 {
  let s: u8 = 0;
  while (s < TCP_MAX_WS && (<u64>0xffff << <u64>s) < <u64>buf) s++;
  return s;
}

/** Per-connection TSval offset (RFC 7323 §5.4: randomized so clocks do not leak). */
export function tsOffsetFor(t: Tcb): u32 {
  return envHash(t.localAddr, t.remoteAddr, (<u32>t.localPort << 16) | <u32>t.remotePort, 0x7323);
}

/**
 * Applies the options of the peer's SYN (or SYN,ACK) to `t`. On entry the TF_WS_OK /
 * TF_SACK_OK / TF_TS_OK bits say what we offer; an option survives only if both
 * sides sent it (RFC 7323 §2.2, §3.2; RFC 2018 §2).
 *   - MSS: absent or 0 → 536 (RFC 9293 §3.7.1, RFC 1122 §4.2.2.6, HC-05 (b)(c));
 *     never above our own announced MSS, never below TCP_MIN_SND_MSS.
 *   - WS: the received shift is already clamped to 14 by the parser (RFC 7323 §2.3).
 * Then the initial congestion window (RFC 5681 §3.1 / RFC 6928) from the MSS.
 */
export function negotiate(t: Tcb, seg: TcpRepr): void {
  let mss: u16 = seg.mss == 0 ? TCP_DEFAULT_MSS : seg.mss;
  if (mss > announceMss) mss = announceMss;
  if (mss < TCP_MIN_SND_MSS) mss = TCP_MIN_SND_MSS;
  t.sndMss = mss;
  if ((t.flags & TF_WS_OK) != 0 && seg.hasWs) {
    t.sndWndScale = seg.wsShift;
  } else {
    t.flags &= ~TF_WS_OK;
    t.sndWndScale = 0;
    t.rcvWndScale = 0;
  }
  if (!((t.flags & TF_SACK_OK) != 0 && seg.sackPermitted)) t.flags &= ~TF_SACK_OK;
  if ((t.flags & TF_TS_OK) != 0 && seg.hasTs) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAge = <u32>nowMs();
  } else {
    t.flags &= ~TF_TS_OK;
  }
  // RFC 6691 §3 / RFC 9293 §3.7.1: the MSS counts data only, options ride inside it.
  // With timestamps on every segment (RFC 7323 §3.2) 12 bytes of each are options, so
  // a full segment carries MSS − 12 data bytes (Linux tcp_sync_mss does the same).
  // Without this, MSS-sized segments with timestamps exceed the path MTU.
  if ((t.flags & TF_TS_OK) != 0) t.sndMss = <u16>(<u32>t.sndMss - TCP_TS_OPT_SPACE);
  t.cwnd = initialCwndSegs * <u32>t.sndMss;
}

/** Bytes the timestamp option takes in every segment (2 NOPs + kind, length, TSval, TSecr). */
export const TCP_TS_OPT_SPACE: u32 = 12;

/** Sends our SYN (active open) or SYN,ACK with the handshake options. */
export function sendSyn(p: usize): bool {
  const t = changetype<Tcb>(p);
  const fl: u8 = t.state == STATE_SYN_SENT ? TCP_FLAG_SYN : TCP_FLAG_SYN | TCP_FLAG_ACK;
  // Client connect latency (SPEC §6) starts at the first SYN, sent by the connect
  // command itself (the module clock is the host's last tick/setTime). Retransmissions
  // and a SYN retried after a full TX ring keep the first stamp.
  if ((t.flags & TF_HS_STAMPED) == 0) {
    t.flags |= TF_HS_STAMPED;
    t.hsStartUs = <u32>nowUs;
  }
  return sendSegment(p, fl, t.iss, 0, 0);
}

/**
 * The handshake of `t` completed now (ESTABLISHED): records its duration in the
 * server histogram (passive open: SYN RX → final ACK RX) or the client histogram
 * (active open: connect → ESTABLISHED). µs arithmetic modulo 2^32 (durations < 71 min).
 */
export function handshakeDone(t: Tcb): void {
  if ((t.flags & TF_HS_STAMPED) == 0) return;
  t.flags &= ~TF_HS_STAMPED;
  const us: u32 = <u32>nowUs - t.hsStartUs;
  histRecord((t.flags & TF_ACTIVE_OPEN) != 0 ? HIST_CLIENT_CONNECT : HIST_SERVER_HANDSHAKE, <u64>us);
}

/** RFC 6298 §5.7: the RTO once data transmission begins after a SYN timed out. */
export const TCP_SYN_TIMEOUT_RTO_MS: u32 = 3000;

/**
 * Our SYN (active open) or SYN,ACK (passive open) is acknowledged: the retransmission
 * timer stops (lazily: its node stays armed, snd.ts stopRtx) and its backoff and retry
 * count are cleared. Before that, RFC 6298 §5.7: "If the timer expires awaiting the ACK
 * of a SYN segment and the TCP implementation is using an RTO less than 3 seconds, the
 * RTO MUST be re-initialized to 3 seconds when data transmission begins (i.e., after
 * the three-way handshake completes)" — only while no RTT sample exists (srtt 0).
 */
export function synAcknowledged(p: usize): void {
  const t = changetype<Tcb>(p);
  stopRtx(p);
  if (t.retries > 0 && t.srtt == 0 && t.rto < TCP_SYN_TIMEOUT_RTO_MS) t.rto = TCP_SYN_TIMEOUT_RTO_MS;
  t.backoff = 0;
  t.retries = 0;
}

/**
 * Segment arrives in SYN-SENT (RFC 9293 §3.10.7.3).
 */
export function synSentInput(p: usize, seg: TcpRepr, data: usize): void {
  const t = changetype<Tcb>(p);
  const hasAck = (seg.flags & TCP_FLAG_ACK) != 0;
  // First: the ACK must acknowledge our SYN: ISS < SEG.ACK ≤ SND.NXT.
  if (hasAck && (seqLe(seg.ack, t.iss) || seqGt(seg.ack, t.sndMax))) {
    sendRstReply(seg, t.localAddr, t.remoteAddr); // (never for a RST: checked inside)
    return;
  }
  // Second: RST. Acceptable only with an acceptable ACK (RFC 5961 §3.2 keeps this rule for SYN-SENT).
  if ((seg.flags & TCP_FLAG_RST) != 0) {
    if (hasAck) tcbFail(p, E_CONNREFUSED);
    return;
  }
  // Fourth: SYN.
  if ((seg.flags & TCP_FLAG_SYN) == 0) return;
  t.irs = seg.seq;
  t.rcvNxt = seg.seq + 1;
  negotiate(t, seg);
  // RFC 7323 §2.2: the window field of a SYN is not scaled.
  t.sndWnd = <u32>seg.window;
  t.sndWl1 = seg.seq;
  t.sndWl2 = seg.ack;
  if (hasAck) {
    t.sndUna = seg.ack;
    synAcknowledged(p);
    t.state = STATE_ESTABLISHED;
    t.flags |= TF_ACK_NOW;
    handshakeDone(t);
    armKeepalive(p);
    envEvent(EV_CONNECTED, t.handle, 0, 0);
    // Data or FIN on the SYN,ACK (RFC 9293 §3.10.7.3: "continue processing at the sixth step").
    if (seg.payloadLen > 0 || (seg.flags & 0x01) != 0) {
      seg.seq += 1; // the text starts after the SYN
      processText(p, seg, data);
    }
    tcpOutput(p);
  } else {
    // Simultaneous open: SYN-RECEIVED, send SYN,ACK with our original ISS.
    t.state = STATE_SYN_RECEIVED;
    sendSyn(p);
    armRtx(p);
  }
}

