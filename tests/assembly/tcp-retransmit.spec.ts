// Reliability dialogues: RTO (RFC 6298) with backoff and Karn's rule, go-back-N
// after a timeout, fast retransmit on three duplicate ACKs and NewReno partial ACKs
// (RFC 5681, RFC 6582), the retry limit (ETIMEDOUT), zero-window persist probes.
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_PSH } from "../../assembly/wire/tcp";
import { tcpSend, tcpState, tcpSetOption, OPT_NODELAY } from "../../assembly/tcp/api";
import { STATE_CLOSED } from "../../assembly/tcp/state";
import { EV_ERROR, E_TIMEDOUT } from "../../assembly/tcp/codes";
import { setRetries, statFastRetransmits, setCongestionControl, CC_NEWRENO, CC_CUBIC } from "../../assembly/tcp/config";
import { TF_IN_RECOVERY, TCB_TIMER_RTX, tcbRtxRunning } from "../../assembly/tcp/tcb";
import { TimerNode, timerIsActive } from "../../assembly/time/timer";
import { currentRto } from "../../assembly/tcp/snd";
import { timers } from "../../assembly/time/clock";

let src: usize = 0;
function established(): u32 {
  k.setup();
  const l = listener();
  const c = handshake(l, 1000);
  if (src == 0) src = heap.alloc(65536);
  for (let i = 0; i < 65536; i++) store<u8>(src + i, <u8>i);
  tcpSetOption(c, OPT_NODELAY, 1);
  return c;
}

describe("retransmission timeout", () => {
  test("unacknowledged data is resent after RTO, then with doubled RTO; an ACK stops it", () => {
    const c = established();
    const iss = k.lastIss;
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    expect(rout.payloadLen).toBe(100);
    advance(999);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
    expect(rout.payloadLen).toBe(100);
    advance(1999);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject();
    expect(k.runningTimers()).toBe(0); // stopped (lazily: snd.ts stopRtx)
    expect(k.tcbOf(c).backoff).toBe(0);
    // Karn: no RTT sample from the retransmitted segment
    expect(k.tcbOf(c).srtt).toBe(0);
  });
  test("an RTT sample sets RTO = SRTT + 4·RTTVAR, bounded below by rtoMinMs", () => {
    const c = established();
    const iss = k.lastIss;
    tcpSend(c, src, 100);
    drain();
    advance(50);
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject();
    const t = k.tcbOf(c);
    expect(t.srtt >> 3).toBe(50);
    expect(t.rttvar >> 2).toBe(25);
    expect(t.rto).toBe(200); // 50 + 4·25 = 150 → min 200 (Linux TCP_RTO_MIN)
  });
  test("retry limit: ETIMEDOUT with a RST", () => {
    const c = established();
    setRetries(2, 6, 5);
    tcpSend(c, src, 10);
    drain();
    advance(1000); advance(2000); // two retransmissions
    drain();
    advance(4000);
    expect(next()).toBe(true);
    expect(rout.flags & TCP_FLAG_RST).toBe(TCP_FLAG_RST);
    const e = k.findEvent(EV_ERROR);
    expect(k.eventArg(e)).toBe(E_TIMEDOUT);
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(timers.active).toBe(0);
    setRetries(15, 6, 5);
  });
});

describe("fast retransmit and NewReno", () => {
  test("three duplicate ACKs retransmit the head; a partial ACK retransmits the next hole; a full ACK ends recovery", () => {
    setCongestionControl(CC_NEWRENO); // the RFC 5681 / 6582 values below (CUBIC: tcp-cubic.spec.ts)
    const c = established();
    const iss = k.lastIss;
    tcpSend(c, src, 1460 * 6);
    let n = 0;
    while (next()) n++;
    expect(n).toBe(6);
    // segment 1 lost; segments 2..6 produce duplicate ACKs
    for (let i = 0; i < 2; i++) { tmpl(TCP_FLAG_ACK, 1001, iss + 1); inject(); }
    expect(pending()).toBe(0);
    tmpl(TCP_FLAG_ACK, 1001, iss + 1); inject();
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
    expect(rout.payloadLen).toBe(1460);
    expect(statFastRetransmits).toBe(1);
    const t = k.tcbOf(c);
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(true);
    expect(t.ssthresh).toBe(1460 * 3); // FlightSize/2
    drain();
    // partial ACK: segments 1 and 2 acknowledged, 3 lost too
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 2 * 1460); inject();
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1 + 2 * 1460);
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(true);
    drain();
    // full ACK
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 6 * 1460); inject();
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(false);
    expect(t.cwnd).toBeLessThanOrEqual(t.ssthresh);
    expect(k.runningTimers()).toBe(0); // stopped (lazily: snd.ts stopRtx)
    setCongestionControl(CC_CUBIC);
  });
});

describe("zero window", () => {
  test("a zero window stops sending; the persist timer probes; a window update resumes", () => {
    const c = established();
    const iss = k.lastIss;
    tmpl(TCP_FLAG_ACK, 1001, iss + 1); rin.window = 0; inject();
    tcpSend(c, src, 500);
    expect(pending()).toBe(0);
    advance(1000);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss); // <SEQ=SND.UNA−1>
    expect(rout.payloadLen).toBe(0);
    tmpl(TCP_FLAG_ACK, 1001, iss + 1); rin.window = 4000; inject();
    expect(next()).toBe(true);
    expect(rout.payloadLen).toBe(500);
    expect(rout.seq).toBe(iss + 1);
  });
});

// RFC 6298 §5.3 restart, done lazily (snd.ts armRtx/stopRtx): the logical deadline
// moves, the node is only rescheduled when the deadline moves earlier than it.
describe("lazy retransmission-timer restart", () => {
  test("an ACK leaving data outstanding moves only the deadline; the RTO fires exactly at it, not at the node's tick", () => {
    const c = established();
    const iss = k.lastIss;
    const p = k.ptrOf(c);
    const t = k.tcbOf(c);
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    expect(tcbRtxRunning(p)).toBe(true);
    const node = changetype<TimerNode>(p + TCB_TIMER_RTX);
    expect(node.expiresAt - timers.now).toBe(200); // first hop: min(RTO, rtoMinMs)
    expect(t.rtxDeadline - <u32>timers.now).toBe(currentRto(t));
    advance(400); // the first hop fired early and re-armed the node for the rest
    expect(pending()).toBe(0);
    expect(<u32>node.expiresAt).toBe(t.rtxDeadline);
    tcpSend(c, src + 100, 100);
    expect(next()).toBe(true);
    const nodeAt = node.expiresAt;
    const ops = timers.totalScheduled + timers.totalCancelled;
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject(); // 100 of 200 acknowledged: restart
    expect(timers.totalScheduled + timers.totalCancelled).toBe(ops); // no queue operation
    expect(node.expiresAt).toBe(nodeAt);
    const deadline = t.rtxDeadline;
    expect(deadline - <u32>timers.now).toBe(currentRto(t)); // now + RTO (RFC 6298 §5.3)
    expect(deadline - <u32>nodeAt).toBeGreaterThan(0);
    // The node fires at its old tick and re-arms for the rest: nothing is sent early.
    advance(<u64>(<u32>nodeAt - <u32>timers.now));
    expect(pending()).toBe(0);
    expect(timerIsActive(p + TCB_TIMER_RTX)).toBe(true);
    expect(<u32>node.expiresAt).toBe(deadline);
    advance(<u64>(deadline - <u32>timers.now) - 1);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true); // the real RTO, exactly at the logical deadline
    expect(rout.seq).toBe(iss + 101);
    expect(rout.payloadLen).toBe(100);
    expect(t.backoff).toBe(1);
  });

  test("a deadline earlier than the armed node reschedules it: the RTO is never late", () => {
    const c = established();
    const iss = k.lastIss;
    const p = k.ptrOf(c);
    const t = k.tcbOf(c);
    const node = changetype<TimerNode>(p + TCB_TIMER_RTX);
    advance(1000); // the handshake's lazily stopped node fires without effect
    expect(timerIsActive(p + TCB_TIMER_RTX)).toBe(false);
    t.rto = 1000;
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    // first hop at most rtoMinMs (200 ms) out, then re-armed for the rest of the 1 s
    expect(node.expiresAt - timers.now).toBe(200);
    advance(200);
    expect(pending()).toBe(0);
    expect(<u32>node.expiresAt).toBe(t.rtxDeadline);
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject(); // all acknowledged: stopped, node at +800
    expect(tcbRtxRunning(p)).toBe(false);
    t.rto = 300; // as after an RTT sample
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    expect(<u32>node.expiresAt).toBe(t.rtxDeadline); // moved earlier: rescheduled
    advance(299);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 101);
  });

  test("stop then restart before the stale node fires: the restart reuses it, the timeout comes at the new deadline", () => {
    const c = established();
    const iss = k.lastIss;
    const p = k.ptrOf(c);
    const t = k.tcbOf(c);
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    advance(100);
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject(); // all acknowledged: stopped, node left
    expect(tcbRtxRunning(p)).toBe(false);
    expect(timerIsActive(p + TCB_TIMER_RTX)).toBe(true);
    advance(50);
    tcpSend(c, src, 100); // restart: the deadline is later than the node's tick
    expect(next()).toBe(true);
    expect(tcbRtxRunning(p)).toBe(true);
    const deadline = t.rtxDeadline;
    advance(<u64>(deadline - <u32>timers.now) - 1);
    expect(pending()).toBe(0); // the stale node fired on the way without a retransmission
    advance(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 101);
  });

  test("closing cancels the lazily stopped node too (IT-TCP-1: no node of a freed record stays linked)", () => {
    const c = established();
    const iss = k.lastIss;
    tcpSend(c, src, 100);
    expect(next()).toBe(true);
    tmpl(TCP_FLAG_ACK, 1001, iss + 101); inject();
    expect(timerIsActive(k.ptrOf(c) + TCB_TIMER_RTX)).toBe(true); // stopped lazily
    tmpl(TCP_FLAG_RST, 1001, 0); inject();
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(timers.active).toBe(0);
  });
});
