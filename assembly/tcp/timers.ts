// Timer expiry for TCP: one entry point for the stack's dispatcher. Every TCP timer
// is one of the four nodes embedded in a Tcb (tcb.ts); the node's kind says which.

import {
  Tcb, tcbOfTimer, TF_RTX_ON, TF_FW2_TIMEOUT, TCB_TIMER_RTX, TF_DELACK, TF_PERSIST, TF_FIN_SENT, TF_IN_RECOVERY, TF_RTT_TIMING,
  TF_ACTIVE_OPEN, TF_DETACHED, TCB_TIMER_KEEP,
} from "./tcb";
import { TimerNode, TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK, TIMER_KIND_PERSIST,
  TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT } from "../time/timer";
import {
  STATE_CLOSED, STATE_SYN_SENT, STATE_SYN_RECEIVED, STATE_TIME_WAIT, STATE_FIN_WAIT_2, isSynchronized,
} from "./state";
import { TCP_FLAG_ACK } from "../wire/tcp";
import { sendAck, sendSegment, sendRstFor } from "./output";
import { sendSyn } from "./connect";
import { tcpOutput, armRtx, retransmitHead, currentRto, ccOnTimeout, disarmPersist } from "./snd";
import { tcbFinish, tcbFail } from "./close";
import { E_TIMEDOUT } from "./codes";
import { timers, nowMs } from "../time/clock";
import {
  synRetries, synAckRetries, maxRetries, orphanRetries, keepIdleMs, keepIntvlMs, keepCount, rtoMaxMs,
  statSegsOut, incTimeouts,
} from "./config";

/** The stack dispatcher calls this for every expired TCP timer node. */
export function tcpOnTimer(node: usize): void {
  const n = changetype<TimerNode>(node);
  const p = tcbOfTimer(node);
  const t = changetype<Tcb>(p);
  if (t.handle != n.owner || t.state == STATE_CLOSED) return; // stale: never act on a recycled record
  const k = n.kind;
  if (k == TIMER_KIND_RETRANSMIT) onRetransmit(p);
  else if (k == TIMER_KIND_DELAYED_ACK) onDelayedAck(p);
  else if (k == TIMER_KIND_PERSIST) onPersist(p);
  else if (k == TIMER_KIND_KEEPALIVE) onKeepalive(p);
  else if (k == TIMER_KIND_TIME_WAIT) onTimeWait(p);
}

/** Retransmission timeout (RFC 6298 §5.4–5.7; SYN and SYN,ACK retransmission with backoff). */
function onRetransmit(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & TF_FW2_TIMEOUT) != 0) {
    // The orphaned FIN-WAIT-2 timeout rides on this node (snd.ts armFinWait2).
    const left = t.rtxDeadline - <u32>timers.now; // in [0, timeWaitMs]
    if (left != 0) { timers.schedule(p + TCB_TIMER_RTX, <u64>left); return; }
    t.flags &= ~TF_FW2_TIMEOUT;
    if (t.state == STATE_FIN_WAIT_2) tcbFinish(p);
    return;
  }
  // Lazy restart (snd.ts armRtx): a stopped timer's node does nothing; a node that fires
  // before the logical deadline re-arms for the rest. Only now ≥ deadline is a timeout.
  if ((t.flags & TF_RTX_ON) == 0) return;
  const rest = t.rtxDeadline - <u32>timers.now; // in [0, RTO]: the node never fires after the deadline
  if (rest != 0) { timers.schedule(p + TCB_TIMER_RTX, <u64>rest); return; }
  t.flags &= ~TF_RTX_ON; // a real timeout: tcpOutput below and armRtx start the next one
  if (t.state == STATE_SYN_SENT || t.state == STATE_SYN_RECEIVED) {
    const limit = t.state == STATE_SYN_SENT || (t.flags & TF_ACTIVE_OPEN) != 0 ? synRetries : synAckRetries;
    if (<u32>t.retries >= limit) {
      incTimeouts();
      if (t.state == STATE_SYN_RECEIVED && (t.flags & TF_ACTIVE_OPEN) == 0) tcbFinish(p); // half-open entry expires
      else tcbFail(p, E_TIMEDOUT);
      return;
    }
    t.retries++;
    t.backoff++;
    sendSyn(p); // IT-TCP-2: the wheel retransmits a lost SYN,ACK
    armRtx(p);
    return;
  }
  if (t.sndUna == t.sndMax) return; // nothing outstanding
  // The receiver shrank its window to zero with our data in flight (RFC 1122 §4.2.2.16 /
  // RFC 9293 §3.8.6: a receiver SHOULD NOT shrink the window, a sender MUST be robust
  // against it): the retransmission is then a window probe, and RFC 1122 §4.2.2.17 / RFC 9293 §3.8.6.1 say the connection
  // MUST NOT be closed while the receiver keeps answering probes. So it does not count
  // toward maxRetries while the peer was heard from within rtoMaxMs (as Linux
  // tcp_retransmit_timer, "receiver dastardly shrinks window", rcv_tstamp within
  // TCP_RTO_MAX). A peer silent for longer than that, and an orphan (Linux: SOCK_DEAD
  // is excluded, "we cannot allow such beasts to hang infinitely"), count as usual.
  const windowProbe = t.sndWnd == 0 && isSynchronized(t.state) && (t.flags & TF_DETACHED) == 0 &&
    <u32>nowMs() - t.lastRcvAt <= rtoMaxMs;
  if (!windowProbe && <u32>t.retries >= maxRetries) {
    incTimeouts();
    sendRstFor(p);
    tcbFail(p, E_TIMEDOUT);
    return;
  }
  // RFC 5681 §3.1 eq. (4) / RFC 9438 §4.8 and the loss window of one segment (snd.ts).
  ccOnTimeout(t);
  if (!windowProbe) t.retries++;
  if (t.backoff < 255) t.backoff++; // RFC 6298 §5.5 (bounded: window probes may back off for ever)
  t.flags &= ~(TF_IN_RECOVERY | TF_RTT_TIMING); // Karn: no sample from retransmitted data
  t.recover = t.sndMax; // RFC 6582 §3.2 step 1 after a timeout
  t.dupAcks = 0;
  // Go back to SND.UNA and resend from there (the FIN too, if it was outstanding).
  t.sndNxt = t.sndUna;
  const before = statSegsOut;
  tcpOutput(p);
  if (statSegsOut == before) retransmitHead(p); // e.g. zero window: the head goes anyway
  armRtx(p);
}

function onDelayedAck(p: usize): void {
  const t = changetype<Tcb>(p);
  t.flags &= ~TF_DELACK;
  if (isSynchronized(t.state)) sendAck(p);
}

/**
 * Persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): probe the zero window
 * with <SEQ=SND.UNA−1><ACK> (as Linux), backing off exponentially up to rtoMaxMs
 * (`backoff` = probes sent, snd.ts armPersist), and keep probing as long as the peer
 * answers: the connection MUST NOT be closed while probes are acknowledged, and any
 * acceptable ACK clears `probes` (snd.ts ackReceived). Like Linux tcp_probe_timer:
 *   - `probes` (unanswered) reaching maxRetries (tcp_retries2) → ETIMEDOUT;
 *   - an orphan (TF_DETACHED: nobody holds the handle — close() after queueing data)
 *     is aborted after orphanRetries probes, answered or not (tcp_orphan_retries):
 *     nobody will read the outcome, and a peer must not pin its record and chunks.
 * The abort sends a RST (as our RTO and keepalive timeouts do; Linux sends none here).
 */
function onPersist(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & TF_PERSIST) == 0) return;
  if (t.sndWnd != 0) { disarmPersist(p); tcpOutput(p); return; }
  if (<u32>t.probes >= maxRetries || ((t.flags & TF_DETACHED) != 0 && <u32>t.backoff >= orphanRetries)) {
    incTimeouts();
    sendRstFor(p);
    tcbFail(p, E_TIMEDOUT);
    return;
  }
  sendSegment(p, TCP_FLAG_ACK, t.sndUna - 1, 0, 0);
  if (t.probes < 255) t.probes++;
  if (t.backoff < 255) t.backoff++;
  timers.schedule(p + TCB_TIMER_KEEP, <u64>currentRto(t)); // rto << backoff, ≤ rtoMaxMs
}

/** Keepalive (RFC 1122 §4.2.3.6): after keepIdleMs idle, probes every keepIntvlMs, ETIMEDOUT after keepCount. */
function onKeepalive(p: usize): void {
  const t = changetype<Tcb>(p);
  if (!isSynchronized(t.state) || t.state == STATE_TIME_WAIT) return;
  const idle = <u32>nowMs() - t.lastRcvAt;
  if (t.probes == 0 && idle < keepIdleMs) {
    timers.schedule(p + TCB_TIMER_KEEP, <u64>(keepIdleMs - idle));
    return;
  }
  if (<u32>t.probes >= keepCount) {
    incTimeouts();
    sendRstFor(p);
    tcbFail(p, E_TIMEDOUT);
    return;
  }
  t.probes++;
  sendSegment(p, TCP_FLAG_ACK, t.sndUna - 1, 0, 0); // <SEQ=SND.UNA−1>: elicits an ACK
  timers.schedule(p + TCB_TIMER_KEEP, <u64>keepIntvlMs);
}

/** TIME-WAIT over (IT-TCP-3) (an orphaned FIN-WAIT-2 times out on timer[0]: onRetransmit). */
function onTimeWait(p: usize): void {
  const t = changetype<Tcb>(p);
  if (t.state == STATE_TIME_WAIT) tcbFinish(p);
}

