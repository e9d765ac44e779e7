// Segment entry point: validate, demultiplex, and process in the order of
// RFC 9293 §3.10.7 (sequence check, RST, SYN, ACK, URG, text, FIN).

import * as tcp from "../wire/tcp";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_FIN } from "../wire/tcp";
import {
  Tcb, TF_TS_OK, TF_ACK_NOW, TF_ACTIVE_OPEN, TF_FIN_SENT, TF_FIN_QUEUED, TF_DETACHED, TF_PERSIST,
} from "./tcb";
import {
  STATE_CLOSED, STATE_LISTEN, STATE_SYN_SENT, STATE_SYN_RECEIVED, STATE_ESTABLISHED,
  STATE_FIN_WAIT_1, STATE_FIN_WAIT_2, STATE_CLOSE_WAIT, STATE_CLOSING, STATE_LAST_ACK, STATE_TIME_WAIT,
} from "./state";
import { envLookup, envTcbPtr, envEvent } from "./env";
import { sendAck, sendRstReply, sendChallengeAck } from "./output";
import { listenInput, childEstablished } from "./listen";
import { synSentInput, sendSyn, handshakeDone, synAcknowledged } from "./connect";
import { segmentAcceptable, processText } from "./rcv";
import { ackReceived, tcpOutput, armKeepalive, armFinWait2 } from "./snd";
import { tcbFinish, tcbFail, enterTimeWait, armTimeWait } from "./close";
import { twInput, TW_IN_DONE, TW_IN_NEW_SYN } from "./timewait";
import { isnHintClear } from "./isn";
import { EV_CONNECTED, E_CONNREFUSED, E_CONNRESET } from "./codes";
import { nowMs } from "../time/clock";
import { seqLt, seqLe, seqGt, seqGe } from "../util/seq";
import {
  incSegsIn, incDropMalformed, incDropChecksum, incDropNoEndpoint, incDropUnacceptable,
  incPawsDropped, incOptMalformed, incWsClamped, incRstIgnoredTimeWait,
} from "./config";

/** Dispositions of tcpInput (the iface layer counts them). */
export const TCP_IN_OK: i32 = 0;
export const TCP_IN_MALFORMED: i32 = 1;
export const TCP_IN_CHECKSUM: i32 = 2;
export const TCP_IN_NO_ENDPOINT: i32 = 3;

/** RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS. */
const PAWS_IDLE_MS: u32 = 24 * 24 * 3600 * 1000;
/** At most one ACK per this many ms answers zero-length out-of-window segments (Linux tcp_invalid_ratelimit). */
export const OOW_ACK_INTERVAL_MS: u32 = 500;

/**
 * May we ACK this out-of-window (or PAWS-rejected) segment? Segments with data, SYN or
 * FIN always get their ACK (RFC 9293 §3.10.7.4: the peer may have lost ours, and data
 * is not part of an ACK loop). A zero-length one gets at most one ACK per
 * OOW_ACK_INTERVAL_MS per connection, as Linux's tcp_oow_rate_limited: two ends that
 * disagree about the sequence space would otherwise answer each other's ACKs for ever.
 */
function oowAckAllowed(t: Tcb, seg: TcpRepr): bool {
  if (seg.segLen != 0) return true;
  const now = <u32>nowMs();
  if (t.oowAckAt != 0 && now - t.oowAckAt < OOW_ACK_INTERVAL_MS) return false;
  t.oowAckAt = now == 0 ? 1 : now;
  return true;
}

/** The one input repr, reused for every segment. */
const seg = new TcpRepr();

/** Last parsed segment (specs inspect it). */
export function lastSegment(): TcpRepr { return seg; }

/**
 * A TCP segment of `len` bytes (from the IP total length) at `p`, from `srcAddr`
 * to `dstAddr` (IPv4 layer's protocol-6 hook). Never traps; bad input is counted.
 */
export function tcpInput(p: usize, len: u32, srcAddr: u32, dstAddr: u32): i32 {
  incSegsIn();
  if (tcp.parse(p, len, seg) != tcp.TCP_OK) { incDropMalformed(); return TCP_IN_MALFORMED; }
  // RFC 9293 §3.1: the checksum covers pseudo-header, header and data; failing segments are discarded (HC-02).
  if (!tcp.verifyChecksum(p, len, srcAddr, dstAddr)) { incDropChecksum(); return TCP_IN_CHECKSUM; }
  if (seg.optMalformed) incOptMalformed(); // HC-04: options after the bad one are absent
  if (seg.wsClamped) incWsClamped(); // RFC 7323 §2.3 "SHOULD log"
  let h = envLookup(dstAddr, seg.dstPort, srcAddr, seg.srcPort);
  let tp = h != 0 ? envTcbPtr(h) : 0;
  if (tp == 0) {
    // No control block: a compact TIME-WAIT record may hold the 4-tuple (tcp/timewait.ts).
    const tw = twInput(seg, srcAddr, dstAddr);
    if (tw == TW_IN_DONE) return TCP_IN_OK;
    if (tw == TW_IN_NEW_SYN) {
      // RFC 6191: the record is gone; the SYN goes to whoever listens on the port now.
      h = envLookup(dstAddr, seg.dstPort, srcAddr, seg.srcPort);
      tp = h != 0 ? envTcbPtr(h) : 0;
      if (tp != 0 && changetype<Tcb>(tp).state == STATE_LISTEN) {
        listenInput(tp, seg, srcAddr, dstAddr);
        isnHintClear();
        return TCP_IN_OK;
      }
      isnHintClear();
      tp = 0;
    }
  }
  if (tp == 0 || changetype<Tcb>(tp).state == STATE_CLOSED) {
    // RFC 9293 §3.10.7.1: CLOSED → RST (never in reply to a RST).
    incDropNoEndpoint();
    sendRstReply(seg, dstAddr, srcAddr);
    return TCP_IN_NO_ENDPOINT;
  }
  const data = p + seg.headerLen;
  const state = changetype<Tcb>(tp).state;
  if (state == STATE_LISTEN) listenInput(tp, seg, srcAddr, dstAddr);
  else if (state == STATE_SYN_SENT) synSentInput(tp, seg, data);
  else segmentArrives(tp, seg, data);
  return TCP_IN_OK;
}

/**
 * RFC 9293 §3.10.7.4: SYN-RECEIVED and the synchronized states.
 */
export function segmentArrives(p: usize, seg: TcpRepr, data: usize): void {
  const t = changetype<Tcb>(p);
  const isRst = (seg.flags & TCP_FLAG_RST) != 0;
  const isSyn = (seg.flags & TCP_FLAG_SYN) != 0;
  t.lastRcvAt = <u32>nowMs();
  if ((t.flags & TF_PERSIST) == 0) t.probes = 0;

  // A retransmission of the SYN that created this half-open child: resend SYN,ACK (as Linux).
  if (t.state == STATE_SYN_RECEIVED && isSyn && (seg.flags & TCP_FLAG_ACK) == 0 && seg.seq == t.irs) {
    sendSyn(p);
    return;
  }

  // PAWS (RFC 7323 §5.3 R1): a segment with TSval older than TS.Recent is an old duplicate.
  if ((t.flags & TF_TS_OK) != 0 && seg.hasTs && !isRst && seqLt(seg.tsVal, t.tsRecent) &&
      <u32>nowMs() - t.tsRecentAge < PAWS_IDLE_MS) {
    incPawsDropped();
    if (oowAckAllowed(t, seg)) sendAck(p);
    return;
  }

  // First: sequence number check.
  if (!segmentAcceptable(p, seg.seq, seg.segLen)) {
    incDropUnacceptable();
    if (!isRst) {
      // RFC 9293 §3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. In TIME-WAIT a
      // retransmitted FIN also restarts the 2 MSL timeout.
      if (t.state == STATE_TIME_WAIT && (seg.flags & TCP_FLAG_FIN) != 0) {
        armTimeWait(p);
      }
      if (oowAckAllowed(t, seg)) sendAck(p);
    }
    return;
  }
  // RFC 7323 §4.3 (2): remember TSval when the segment covers Last.ACK.sent (≈ RCV.NXT).
  if ((t.flags & TF_TS_OK) != 0 && seg.hasTs && seqGe(seg.tsVal, t.tsRecent) && seqLe(seg.seq, t.rcvNxt)) {
    t.tsRecent = seg.tsVal;
    t.tsRecentAge = <u32>nowMs();
  }

  // Second: RST (RFC 5961 §3.2: only an exact RCV.NXT match resets; else challenge ACK).
  if (isRst) {
    if (seg.seq != t.rcvNxt) { sendChallengeAck(p); return; }
    const s = t.state;
    if (s == STATE_TIME_WAIT) {
      // RFC 1337 §3 (TIME-WAIT assassination): ignore RST in TIME-WAIT.
      incRstIgnoredTimeWait();
      return;
    }
    if (s == STATE_SYN_RECEIVED) {
      if ((t.flags & TF_ACTIVE_OPEN) != 0) tcbFail(p, E_CONNREFUSED);
      else tcbFinish(p); // passive: the half-open child just goes away
      return;
    }
    if (s == STATE_CLOSING || s == STATE_LAST_ACK) { tcbFinish(p); return; }
    tcbFail(p, E_CONNRESET);
    return;
  }

  // Fourth: SYN. RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
  if (isSyn) {
    if (t.state == STATE_SYN_RECEIVED && (t.flags & TF_ACTIVE_OPEN) == 0) {
      // RFC 9293 §3.10.7.4 fourth step: passive open → back to LISTEN (drop the child).
      tcbFinish(p);
      return;
    }
    sendChallengeAck(p);
    return;
  }

  // Fifth: ACK.
  if ((seg.flags & TCP_FLAG_ACK) == 0) return;
  if (t.state == STATE_SYN_RECEIVED) {
    if (!(seqLt(t.sndUna, seg.ack) && seqLe(seg.ack, t.sndMax))) {
      sendRstReply(seg, t.localAddr, t.remoteAddr); // <SEQ=SEG.ACK><CTL=RST>
      return;
    }
    // Passive open: into the listener's accept queue; false = the queue is full (the
    // child waits) or the listener is gone (the child was reset and freed).
    if ((t.flags & TF_ACTIVE_OPEN) == 0 && !childEstablished(p, seg)) return;
    // RFC 9293 §3.10.4: a CLOSE in SYN-RECEIVED was queued until ESTABLISHED is
    // reached; it takes effect now: FIN-WAIT-1, and the FIN goes out below (tcpOutput).
    t.state = (t.flags & TF_FIN_QUEUED) != 0 ? STATE_FIN_WAIT_1 : STATE_ESTABLISHED;
    t.sndUna = t.iss + 1; // the SYN is acknowledged (it is not a buffer byte)
    t.sndWnd = <u32>seg.window << <u32>t.sndWndScale;
    t.sndWl1 = seg.seq;
    t.sndWl2 = seg.ack;
    synAcknowledged(p); // RTX stopped, RFC 6298 §5.7, backoff and retries cleared
    handshakeDone(t); // issue 8: server SYN RX → this ACK's RX stamp (or simultaneous open)
    armKeepalive(p);
    if ((t.flags & TF_ACTIVE_OPEN) != 0) envEvent(EV_CONNECTED, t.handle, 0, 0);
  }
  // RFC 9293 §3.10.7.4: an ACK for something not yet sent → ACK and drop.
  if (seqGt(seg.ack, t.sndMax)) { sendAck(p); return; }
  // RFC 5961 §5.2: an ACK older than SND.UNA − MAX.SND.WND is a blind-injection attempt.
  const maxWnd: u32 = t.sndWnd > 0xffff ? t.sndWnd : 0xffff;
  if (seqLt(seg.ack, t.sndUna - maxWnd)) { sendChallengeAck(p); return; }
  ackReceived(p, seg, seg.payloadLen);
  const finAcked = (t.flags & TF_FIN_SENT) != 0 && t.sndUna == t.sndMax;
  const s = t.state;
  if (s == STATE_FIN_WAIT_1 && finAcked) {
    t.state = STATE_FIN_WAIT_2;
    // An orphaned FIN-WAIT-2 must not live for ever (Linux tcp_fin_timeout; we use timeWaitMs).
    if ((t.flags & TF_DETACHED) != 0) armFinWait2(p); // on timer[0] (snd.ts)
  } else if (s == STATE_CLOSING && finAcked) {
    enterTimeWait(p);
    return;
  } else if (s == STATE_LAST_ACK && finAcked) {
    tcbFinish(p);
    return;
  }

  // Sixth: URG is not supported (RFC 6093 recommends against new uses); the pointer is ignored.
  // Seventh and eighth: text and FIN.
  processText(p, seg, data);
  if (t.state == STATE_CLOSED) return;
  // Send what the new window allows, and the ACK if one is owed.
  tcpOutput(p);
}
