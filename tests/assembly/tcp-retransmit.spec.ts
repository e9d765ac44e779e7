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
import { TF_IN_RECOVERY } from "../../assembly/tcp/tcb";
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
    expect(timers.active).toBe(0);
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
    expect(timers.active).toBe(0);
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
