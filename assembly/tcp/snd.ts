// The sender: segmentation, Nagle, ACK processing, RTT/RTO (RFC 6298), congestion
// control (RFC 5681 slow start, fast retransmit, NewReno recovery per RFC 6582; the
// congestion-avoidance growth and the reduction on loss by CUBIC, RFC 9438, in
// cubic.ts, or by RFC 5681 when the Tcb's ccAlgo is CC_NEWRENO), and the persist /
// keepalive arming.
//
// Send buffer ↔ sequence space (once the SYN is acknowledged):
//
//   sndUna                 sndNxt                 sndUna+buffered   (+1 FIN)
//     │◀── sent, unacked ──▶│◀── not yet sent ────▶│
//     buffer offset 0        offset sndNxt−sndUna   end of buffer
//
// sndMax is the highest sequence number sent + 1; after an RTO sndNxt goes back
// to sndUna and the data is re-sent (go-back-N); sndMax stays.

import {
  Tcb, TF_NODELAY, TF_FIN_QUEUED, TF_FIN_SENT, TF_ACK_NOW, TF_RTT_TIMING, TF_IN_RECOVERY,
  TF_PERSIST, TF_KEEPALIVE, TF_TS_OK, TF_SACK_OK, TF_WANT_WRITABLE, TF_RTX_ON, TF_FW2_TIMEOUT, TCB_TIMER_RTX, TCB_TIMER_KEEP,
} from "./tcb";
import { TcpRepr, TCP_FLAG_ACK, TCP_FLAG_PSH, TCP_FLAG_FIN } from "../wire/tcp";
import { STATE_ESTABLISHED, STATE_CLOSE_WAIT, STATE_FIN_WAIT_1, STATE_CLOSING, STATE_LAST_ACK } from "./state";
import { envSndLen, envSndConsume, envEvent } from "./env";
import { sendSegment, sendAck, tsNow } from "./output";
import { timers, nowMs } from "../time/clock";
import { TimerNode, TIMER_KIND_PERSIST, TIMER_KIND_KEEPALIVE, timerIsActive } from "../time/timer";
import { seqLt, seqLe, seqGt, seqGe } from "../util/seq";
import { rtoMinMs, rtoMaxMs, timeWaitMs, outputBudget, keepIdleMs, incFastRetransmits, incRetransmits, CC_NEWRENO } from "./config";
import { cubicOnAck, cubicOnLoss, cubicOnTimeout } from "./cubic";
import { EV_WRITABLE } from "./codes";

/**
 * Largest RTT sample (ms) we use: a timestamp echo older than this is ignored, a timed
 * segment's sample is clamped to it. Linux tcp_rtt_tsopt_us drops TSecr deltas of
 * INT_MAX/1000 ms (≈ 35.8 min) and more; the same bound keeps `srtt = R << 3` and
 * RTTVAR far from u32 overflow (R < 2^29 would be enough).
 */
export const RTT_SAMPLE_MAX_MS: u32 = 2147483;

/**
 * Ceiling of cwnd in bytes: 2^30, above the largest send window a peer can offer
 * (65535 << 14, RFC 7323 §2.3), so the cap never limits sending. Without it the
 * per-duplicate-ACK inflation of fast recovery (RFC 5681 §3.2 step 4) and long
 * loss-free slow start grow cwnd without bound and wrap the u32.
 */
export const CWND_MAX: u32 = 1 << 30;

@inline
function cwndCap(w: u64): u32 {
  return w > <u64>CWND_MAX ? CWND_MAX : <u32>w;
}

/** The retransmission timeout with backoff applied, bounded (RFC 6298 §5.5, §2.5). */
export function currentRto(t: Tcb): u32 {
  let r = <u64>t.rto << <u64>(t.backoff > 16 ? 16 : t.backoff);
  if (r > <u64>rtoMaxMs) r = <u64>rtoMaxMs;
  return <u32>r;
}

/**
 * (Re)starts the retransmission timer with the current RTO (RFC 6298 §5.1, §5.3):
 * the logical deadline becomes now + RTO. The restart is lazy (RFC 6298 §5.3 note:
 * "restarting" may be implemented lazily; BSD and Linux keep one armed timer): the
 * node in timer[0] is only touched when it is idle (schedule) or armed later than the
 * new deadline (reschedule). A deadline that moves later — every ACK that leaves data
 * outstanding, every new send — costs no timer operation; the node fires at the old
 * tick and onRetransmit (timers.ts) re-arms it for the rest.
 * Invariant: TF_RTX_ON ⇒ the node is armed at or before rtxDeadline.
 * An idle node is armed min(RTO, rtoMinMs) out (see below), so restarts after a
 * handshake or a quiet spell do not reschedule either.
 */
export function armRtx(p: usize): void {
  const t = changetype<Tcb>(p);
  const node = p + TCB_TIMER_RTX;
  const rto = <u64>currentRto(t);
  const deadline = timers.now + rto;
  t.rtxDeadline = <u32>deadline;
  t.flags |= TF_RTX_ON;
  if (!timerIsActive(node)) {
    // First hop: at most rtoMinMs out. No RTO is below rtoMinMs, so every deadline a
    // later restart sets is at or after this node's tick and moves without a queue
    // operation — above all the first data after the handshake, whose RTO (measured)
    // is far below the SYN's 1 s (RFC 6298 §2.1). A deadline further out costs one
    // early wake-up, which re-arms the node for the rest (timers.ts onRetransmit).
    timers.schedule(node, rto < <u64>rtoMinMs ? rto : <u64>rtoMinMs);
  } else if (changetype<TimerNode>(node).expiresAt - timers.now > rto) {
    // expiresAt − now (u64: an armed node is never in the past) beyond the new
    // deadline: the deadline moved earlier — reschedule, the RTO is never late.
    timers.schedule(node, rto);
  }
}

/**
 * The orphaned FIN-WAIT-2 timeout (Linux tcp_fin_timeout; we use timeWaitMs), on
 * timer[0]: in FIN-WAIT-2 everything we sent, the FIN included, is acknowledged, so
 * the retransmission timer is stopped for good, and its node — normally still armed
 * by the lazy stop — carries this deadline (TF_FW2_TIMEOUT, rtxDeadline) instead of
 * a node of its own: no queue operation when the node is armed no later than it.
 * timers.ts onRetransmit re-arms the node for the rest, then finishes the record.
 */
export function armFinWait2(p: usize): void {
  const t = changetype<Tcb>(p);
  const node = p + TCB_TIMER_RTX;
  const d = <u64>timeWaitMs;
  t.flags = (t.flags & ~TF_RTX_ON) | TF_FW2_TIMEOUT;
  t.rtxDeadline = <u32>(timers.now + d);
  if (!timerIsActive(node) || changetype<TimerNode>(node).expiresAt - timers.now > d) timers.schedule(node, d);
}

/**
 * Stops the retransmission timer (RFC 6298 §5.2): logically only. The node stays armed
 * and does nothing when it fires (onRetransmit: TF_RTX_ON clear); a later armRtx whose
 * deadline is not earlier than the node's tick reuses it.
 */
@inline
export function stopRtx(p: usize): void {
  changetype<Tcb>(p).flags &= ~TF_RTX_ON;
}

/**
 * RFC 6298 §2.2–2.3: fold one RTT measurement `r` (ms) into SRTT/RTTVAR and set RTO.
 * srtt is kept ×8 and rttvar ×4, so RTO = SRTT + max(G, 4·RTTVAR) = srtt/8 + max(1, rttvar).
 * `r` is clamped to [1, RTT_SAMPLE_MAX_MS] so the fixed-point values cannot overflow.
 */
export function rttSample(t: Tcb, r: u32): void {
  if (r == 0) r = 1;
  if (r > RTT_SAMPLE_MAX_MS) r = RTT_SAMPLE_MAX_MS;
  if (t.srtt == 0) {
    t.srtt = r << 3; // SRTT = R
    t.rttvar = r << 1; // RTTVAR = R/2 (×4)
  } else {
    const srtt = t.srtt >> 3;
    const err: i32 = <i32>r - <i32>srtt;
    const aerr: u32 = <u32>(err < 0 ? -err : err);
    // RTTVAR = 3/4 RTTVAR + 1/4 |SRTT − R|;  SRTT = 7/8 SRTT + 1/8 R
    t.rttvar = t.rttvar - (t.rttvar >> 2) + aerr;
    t.srtt = <u32>(<i32>t.srtt + err);
    if (t.srtt == 0) t.srtt = 1;
  }
  let rto = (t.srtt >> 3) + (t.rttvar > 1 ? t.rttvar : 1);
  if (rto < rtoMinMs) rto = rtoMinMs; // RFC 6298 §2.4 (bound: see config.ts)
  if (rto > rtoMaxMs) rto = rtoMaxMs;
  t.rto = rto;
}

/** Flight size: bytes sent and not yet acknowledged (RFC 5681 §2 FlightSize). */
@inline
export function flightSize(t: Tcb): u32 {
  return t.sndMax - t.sndUna;
}

/**
 * True when SACK is on for the connection and the segment carries a SACK block that
 * lies within the outstanding data (SND.UNA, SND.MAX] — evidence of a loss at
 * SND.UNA (RFC 6675 §2). We keep no scoreboard, so a repeated block also counts.
 */
function sacksOutstanding(t: Tcb, seg: TcpRepr): bool {
  if ((t.flags & TF_SACK_OK) == 0) return false;
  const n = seg.sackCount;
  for (let i = 0; i < n; i++) {
    const left = seg.sackLeft(i), right = seg.sackRight(i);
    if (seqGt(left, t.sndUna) && seqLt(left, right) && seqLe(right, t.sndMax)) return true;
  }
  return false;
}

/** RFC 5681 §3.1 eq. (4): ssthresh = max(FlightSize / 2, 2·SMSS). */
@inline
function lossSsthresh(t: Tcb): u32 {
  const half = flightSize(t) >> 1;
  const two = <u32>t.sndMss << 1;
  return half > two ? half : two;
}

/**
 * Congestion response to a retransmission timeout (RFC 5681 §3.1, RFC 9438 §4.8):
 * ssthresh from eq. (4) (NewReno) or flight·β_cubic (CUBIC), cwnd = the loss window
 * (one SMSS). Called before `backoff` is incremented: on a second and later timeout
 * of the same data ssthresh is held (RFC 5681 §3.1 eq. (4) note), so repeated
 * backoffs neither halve it again nor shrink CUBIC's W_max each time. (`backoff`,
 * not `retries`: a timeout behind a zero window is a window probe that does not
 * count as a retry, timers.ts, but it is still a repeated timeout.)
 */
export function ccOnTimeout(t: Tcb): void {
  if (t.backoff == 0) {
    if (t.ccAlgo == CC_NEWRENO) t.ssthresh = lossSsthresh(t);
    else cubicOnTimeout(t, flightSize(t));
  }
  t.cwnd = <u32>t.sndMss;
}

/** Sends one segment from SND.UNA without moving SND.NXT (fast retransmit, partial ACK). */
export function retransmitHead(p: usize): void {
  const t = changetype<Tcb>(p);
  const buffered = envSndLen(p);
  let len: u32 = buffered < <u32>t.sndMss ? buffered : <u32>t.sndMss;
  let fl: u8 = TCP_FLAG_ACK;
  if (len == buffered && (t.flags & TF_FIN_SENT) != 0) fl |= TCP_FLAG_FIN;
  if (len == 0 && (fl & TCP_FLAG_FIN) == 0) return;
  if (len > 0) fl |= TCP_FLAG_PSH;
  // Karn: a retransmitted range is never timed.
  t.flags &= ~TF_RTT_TIMING;
  incRetransmits();
  sendSegment(p, fl, t.sndUna, 0, len);
}

/** True in states where we may send data or a FIN. */
@inline
function canSend(state: u8): bool {
  return state == STATE_ESTABLISHED || state == STATE_CLOSE_WAIT || state == STATE_FIN_WAIT_1 ||
    state == STATE_CLOSING || state == STATE_LAST_ACK;
}

/**
 * Puts timer[2] into persist mode (RFC 9293 §3.8.6.1) unless it already is. While
 * persisting nothing is in flight and the retransmission timer is idle, so `backoff`
 * is the probes' backoff exponent (probes sent) and `probes` counts the unanswered
 * ones (timers.ts onPersist; reset by any acceptable ACK in ackReceived), as Linux
 * icsk_backoff / icsk_probes_out.
 */
function armPersist(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & TF_PERSIST) != 0 && timerIsActive(p + TCB_TIMER_KEEP)) return;
  timers.cancel(p + TCB_TIMER_KEEP);
  changetype<TimerNode>(p + TCB_TIMER_KEEP).kind = TIMER_KIND_PERSIST;
  t.flags |= TF_PERSIST;
  t.probes = 0;
  t.backoff = 0;
  timers.schedule(p + TCB_TIMER_KEEP, <u64>currentRto(t));
}

/**
 * Leaves persist mode and re-arms keepalive when enabled. The probes' backoff goes
 * too (Linux tcp_ack_probe: icsk_backoff = 0 once the window opens), so the data
 * that follows is timed with the plain RTO.
 */
export function disarmPersist(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & TF_PERSIST) == 0) return;
  timers.cancel(p + TCB_TIMER_KEEP);
  t.flags &= ~TF_PERSIST;
  t.probes = 0;
  t.backoff = 0;
  armKeepalive(p);
}

/** Arms the keepalive timer (RFC 1122 §4.2.3.6) when the option is on and persist is off. */
export function armKeepalive(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & TF_KEEPALIVE) == 0 || (t.flags & TF_PERSIST) != 0) return;
  changetype<TimerNode>(p + TCB_TIMER_KEEP).kind = TIMER_KIND_KEEPALIVE;
  timers.schedule(p + TCB_TIMER_KEEP, <u64>keepIdleMs);
}

/**
 * Sends what the windows allow (RFC 9293 §3.8.6, RFC 5681): at most min(SND.WND, cwnd)
 * bytes in flight, MSS-sized segments, Nagle's rule unless noDelay (RFC 9293
 * §3.7.4), the FIN after the last byte once queued. Falls back to a pure ACK when
 * one is owed and no segment carried it. Bounded by outputBudget segments.
 */
export function tcpOutput(p: usize): void {
  const t = changetype<Tcb>(p);
  if (!canSend(t.state)) {
    if ((t.flags & TF_ACK_NOW) != 0) sendAck(p);
    return;
  }
  let budget = outputBudget;
  while (budget-- > 0) {
    const buffered = envSndLen(p);
    const off = t.sndNxt - t.sndUna;
    if (off > buffered) break; // only the FIN is beyond the data, and it is sent
    const dataLeft = buffered - off;
    const wnd = t.sndWnd < t.cwnd ? t.sndWnd : t.cwnd;
    const usable: u32 = wnd > off ? wnd - off : 0;
    let len = dataLeft;
    if (len > <u32>t.sndMss) len = <u32>t.sndMss;
    if (len > usable) len = usable;
    const finQueued = (t.flags & TF_FIN_QUEUED) != 0;
    const withFin = finQueued && len == dataLeft;
    if (len == 0 && !withFin) {
      // RFC 9293 §3.8.6.1: data waits, nothing in flight, zero window → probe on the persist
      // timer. With data in flight the retransmission timer probes instead (timers.ts
      // onRetransmit; Linux: no probe timer while packets are out) — sndMax, not only the
      // idle timer, says so: inside onRetransmit the timer has just fired.
      if (dataLeft > 0 && t.sndWnd == 0 && off == 0 && t.sndMax == t.sndUna &&
          (t.flags & TF_RTX_ON) == 0) armPersist(p);
      break;
    }
    if (len == 0 && dataLeft > 0) break; // the FIN must wait for the data before it
    if (len < <u32>t.sndMss && len < dataLeft && off > 0) break; // window-limited: RFC 9293 §3.8.6.2.1 sender SWS avoidance
    // Nagle (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4): hold a partial segment while data is unacknowledged.
    if (len < <u32>t.sndMss && !withFin && off > 0 && (t.flags & TF_NODELAY) == 0) break;
    let fl: u8 = TCP_FLAG_ACK;
    if (len > 0 && len == dataLeft) fl |= TCP_FLAG_PSH;
    if (withFin) fl |= TCP_FLAG_FIN;
    const seq = t.sndNxt;
    if (!sendSegment(p, fl, seq, off, len)) break;
    if (seqGe(seq, t.sndMax)) {
      // New data: time one segment per round trip unless timestamps do it (RFC 6298 §3, Karn).
      if ((t.flags & (TF_RTT_TIMING | TF_TS_OK)) == 0 && len > 0) {
        t.flags |= TF_RTT_TIMING;
        t.rttSeq = seq + len;
        t.rttStartAt = <u32>nowMs();
      }
    } else {
      incRetransmits();
    }
    t.sndNxt = seq + len + (withFin ? 1 : 0);
    if (withFin) t.flags |= TF_FIN_SENT;
    if (seqGt(t.sndNxt, t.sndMax)) t.sndMax = t.sndNxt;
    if ((t.flags & TF_PERSIST) != 0) disarmPersist(p); // first: the RTO starts without the probes' backoff
    if ((t.flags & TF_RTX_ON) == 0) armRtx(p);
    if (withFin) break;
  }
  if ((t.flags & TF_ACK_NOW) != 0) sendAck(p);
}

/**
 * ACK processing in the synchronized states (RFC 9293 §3.10.7.4 fifth step) for
 * an acceptable SEG.ACK with SND.UNA ≤ SEG.ACK ≤ SND.MAX. Updates SND.UNA, the
 * send buffer, RTT/RTO, cwnd (RFC 5681 / RFC 6582), the send window, and the
 * retransmission timer. `payloadLen` is the segment's data length (dup-ACK test).
 * Returns the number of bytes of sequence space newly acknowledged.
 */
export function ackReceived(p: usize, seg: TcpRepr, payloadLen: u32): u32 {
  const t = changetype<Tcb>(p);
  const ack = seg.ack;
  const wnd = <u32>seg.window << <u32>t.sndWndScale;
  let acked: u32 = 0;
  // RFC 1122 §4.2.2.17: the connection stays open as long as the peer acknowledges
  // probes. Any acceptable ACK (not older than SND.UNA) — the zero-window ACK that
  // answers a window probe included — clears the count of unanswered persist and
  // keepalive probes (Linux tcp_ack: icsk_probes_out = 0).
  if (seqGe(ack, t.sndUna)) t.probes = 0;
  if (seqGt(ack, t.sndUna)) {
    acked = ack - t.sndUna;
    // Bytes of the buffer covered: the FIN's sequence number is not a buffer byte.
    let dataAcked = acked;
    const buffered = envSndLen(p);
    if (dataAcked > buffered) dataAcked = buffered;
    envSndConsume(p, dataAcked);
    const mss = <u32>t.sndMss;
    // RTT (RFC 6298 §3): timestamps (RFC 7323 §4.1) or the one timed segment (Karn's rule).
    if ((t.flags & TF_TS_OK) != 0 && seg.hasTs && seg.tsEcr != 0) {
      // RFC 7323 §4.1 (RTTM): RTT = our clock − TSecr. A TSecr after our clock, or one
      // older than RTT_SAMPLE_MAX_MS, was never ours (or is garbage): no sample
      // (Linux tcp_rtt_tsopt_us returns −1 for such deltas; FreeBSD ignores a
      // future TSecr).
      const d = tsNow(t) - seg.tsEcr;
      if (<i32>d >= 0 && d <= RTT_SAMPLE_MAX_MS) rttSample(t, d);
    } else if ((t.flags & TF_RTT_TIMING) != 0 && seqGe(ack, t.rttSeq)) {
      rttSample(t, <u32>nowMs() - t.rttStartAt);
      t.flags &= ~TF_RTT_TIMING;
    }
    t.backoff = 0;
    t.retries = 0;
    if ((t.flags & TF_IN_RECOVERY) != 0) {
      if (seqGe(ack, t.recover)) {
        // RFC 6582 §3.2 step 3 (full acknowledgment): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
        const fs = t.sndMax - ack;
        const a = (fs > mss ? fs : mss) + mss;
        t.cwnd = a < t.ssthresh ? a : t.ssthresh;
        t.flags &= ~TF_IN_RECOVERY;
        t.dupAcks = 0;
      } else {
        // RFC 6582 §3.2 step 4 (partial acknowledgment): retransmit the first
        // unacknowledged segment, deflate cwnd by the amount acknowledged, add back one SMSS.
        t.sndUna = ack;
        if (seqLt(t.sndNxt, t.sndUna)) t.sndNxt = t.sndUna;
        retransmitHead(p);
        t.cwnd = (t.cwnd > acked ? t.cwnd - acked : 0) + (acked >= mss ? mss : 0);
        if (t.cwnd < mss) t.cwnd = mss;
        armRtx(p); // reset the timer on the first partial ACK (RFC 6582 §3.2 step 4)
      }
    } else {
      t.dupAcks = 0;
      if (t.cwnd < t.ssthresh) {
        // RFC 5681 §3.1 slow start, eq. (2): cwnd += min(N, SMSS).
        t.cwnd = cwndCap(<u64>t.cwnd + <u64>(acked < mss ? acked : mss));
      } else if (t.ccAlgo != CC_NEWRENO) {
        // RFC 9438 §4.2–4.5: CUBIC congestion avoidance.
        cubicOnAck(t, acked, <u32>nowMs());
        if (t.cwnd > CWND_MAX) t.cwnd = CWND_MAX;
      } else {
        // RFC 5681 §3.1 congestion avoidance, eq. (3): cwnd += SMSS·SMSS / cwnd.
        const inc = <u32>((<u64>mss * <u64>mss) / <u64>(t.cwnd > 0 ? t.cwnd : 1));
        t.cwnd = cwndCap(<u64>t.cwnd + <u64>(inc > 0 ? inc : 1));
      }
    }
    t.sndUna = ack;
    if (seqLt(t.sndNxt, t.sndUna)) t.sndNxt = t.sndUna;
    // RFC 6298 §5.2 / §5.3: stop the timer when all is acknowledged, else restart it.
    if (t.sndUna == t.sndMax) stopRtx(p);
    else armRtx(p);
    if ((t.flags & TF_WANT_WRITABLE) != 0 && dataAcked > 0) {
      t.flags &= ~TF_WANT_WRITABLE;
      envEvent(EV_WRITABLE, t.handle, 0, 0);
    }
  } else if (ack == t.sndUna && payloadLen == 0 && (seg.flags & (0x01 | 0x02)) == 0 &&
             t.sndMax != t.sndUna && (wnd == t.sndWnd || sacksOutstanding(t, seg))) {
    // Duplicate ACK: no data, no SYN/FIN, data outstanding, and either the same window
    // (RFC 5681 §2) or SACK blocks for outstanding data (RFC 6675 §2 "DupAck": a peer
    // such as Linux keeps opening its window while it SACKs, so its duplicate ACKs
    // rarely carry the same window; without this the loss waited for the RTO).
    t.dupAcks++;
    const mss = <u32>t.sndMss;
    if ((t.flags & TF_IN_RECOVERY) != 0) {
      // RFC 6582 §3.2 step 5 / RFC 5681 §3.2 step 4: inflate by one SMSS per extra dup ACK,
      // never beyond CWND_MAX (a peer sending duplicate ACKs for ever would wrap the u32).
      t.cwnd = cwndCap(<u64>t.cwnd + <u64>mss);
    } else if (t.dupAcks == 3) {
      // RFC 6582 §3.2 step 2: enter recovery only if the ACK covers more than "recover".
      if (seqGt(ack - 1, t.recover) || t.recover == t.iss) {
        // ssthresh: RFC 5681 §3.2 step 2 (NewReno) or RFC 9438 §4.6–4.7 (CUBIC: β, W_max).
        if (t.ccAlgo == CC_NEWRENO) t.ssthresh = lossSsthresh(t);
        else cubicOnLoss(t, flightSize(t));
        t.recover = t.sndMax;
        t.flags |= TF_IN_RECOVERY;
        incFastRetransmits();
        retransmitHead(p);
        t.cwnd = cwndCap(<u64>t.ssthresh + 3 * <u64>mss); // RFC 5681 §3.2 step 3
      }
    }
  }
  // Window update (RFC 9293 §3.10.7.4): only from a segment newer than the last update.
  if (seqLt(t.sndWl1, seg.seq) || (t.sndWl1 == seg.seq && seqLe(t.sndWl2, ack))) {
    t.sndWnd = wnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    if (wnd > 0 && (t.flags & TF_PERSIST) != 0) disarmPersist(p);
  }
  return acked;
}
