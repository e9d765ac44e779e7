// Zero-window persistence and its limits, and the sanity bounds of the sender's
// estimators (virtual time only, through the test kit's doubles):
//   - persist probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): a silent peer is timed
//     out after maxRetries unanswered probes; a peer answering every probe keeps the
//     connection for hours; an orphan is aborted after orphanRetries probes either
//     way (Linux tcp_probe_timer / tcp_orphan_retries);
//   - a window shrunk to zero with data in flight: retransmission timeouts are window
//     probes, not retries, while the peer answers (Linux tcp_retransmit_timer);
//   - RTT samples from a bogus TSecr are ignored, large samples clamped (RFC 7323 §4.1,
//     RFC 6298 §2);
//   - cwnd never passes CWND_MAX (fast-recovery inflation, slow start).
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST } from "../../assembly/wire/tcp";
import { tcpSend, tcpState, tcpSetOption, tcpClose, tcpAccept, OPT_NODELAY } from "../../assembly/tcp/api";
import { STATE_CLOSED, STATE_ESTABLISHED, STATE_FIN_WAIT_1 } from "../../assembly/tcp/state";
import { EV_ERROR, E_TIMEDOUT } from "../../assembly/tcp/codes";
import {
  setRetries, maxRetries, orphanRetries, rtoMaxMs, statTimeouts, setCongestionControl, CC_NEWRENO, CC_CUBIC,
} from "../../assembly/tcp/config";
import { TF_PERSIST, TF_IN_RECOVERY } from "../../assembly/tcp/tcb";
import { rttSample, CWND_MAX, RTT_SAMPLE_MAX_MS } from "../../assembly/tcp/snd";
import { timers } from "../../assembly/time/clock";

let src: usize = 0;
let iss: u32 = 0;
const IRS: u32 = 1000;

function established(): u32 {
  k.setup();
  const l = listener();
  const c = handshake(l, IRS);
  iss = k.lastIss;
  if (src == 0) src = heap.alloc(65536);
  for (let i = 0; i < 65536; i++) store<u8>(src + i, <u8>i);
  tcpSetOption(c, OPT_NODELAY, 1);
  return c;
}

/** A's ACK of nothing new (ack = B's SND.UNA at the start) with window `wnd`. */
function ackWnd(wnd: u16, ack: u32 = 0): void {
  tmpl(TCP_FLAG_ACK, IRS + 1, ack == 0 ? iss + 1 : ack);
  rin.window = wnd;
  inject();
}

/** Captured segments from B now; RSTs counted into `rsts`. */
let rsts: i32 = 0;
function takeAll(): i32 {
  let n = 0;
  while (pending() > 0) {
    if (!next()) continue;
    n++;
    if ((rout.flags & TCP_FLAG_RST) != 0) rsts++;
  }
  return n;
}

/**
 * Runs `ms` of virtual time in 1 s steps. When `answer`, every segment B sends is
 * answered at once with <ACK=SND.UNA, WIN=0> (a live receiver whose buffer stays
 * full). Returns the number of segments B sent; stops early once the endpoint `c`
 * is gone or closed.
 */
function run(c: u32, ms: u32, answer: bool): i32 {
  let n = 0;
  for (let t: u32 = 0; t < ms; t += 1000) {
    advance(1000);
    const got = takeAll();
    n += got;
    if (tcpState(c) == STATE_CLOSED || tcpState(c) == 0xff) break;
    if (answer && got > 0) { ackWnd(0); drain(); }
  }
  return n;
}

function timedOut(c: u32): bool {
  const e = k.findEvent(EV_ERROR);
  return e >= 0 && k.eventHandle(e) == c && k.eventArg(e) == E_TIMEDOUT;
}

describe("persist: a zero window and a peer that answers nothing", () => {
  test("ETIMEDOUT with a RST after maxRetries unanswered probes, all timers and chunks released", () => {
    const c = established();
    ackWnd(0);
    expect(tcpSend(c, src, 500)).toBe(500);
    expect(pending()).toBe(0);
    rsts = 0;
    const before = statTimeouts;
    // probes at 1, 3, 7, …, 127 s, then every rtoMaxMs (120 s): the 15th at 1087 s,
    // the abort when the next would be due (1207 s)
    const probes = run(c, 1206_000, false);
    expect(probes).toBe(<i32>maxRetries);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect((k.tcbOf(c).flags & TF_PERSIST) != 0).toBe(true);
    run(c, 2000, false);
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(rsts).toBe(1);
    expect(timedOut(c)).toBe(true);
    expect(statTimeouts).toBe(before + 1);
    expect(timers.active).toBe(0);
  });

  test("a smaller maxRetries ends it sooner; probes the peer answered do not count", () => {
    const c = established();
    setRetries(3, 6, 5);
    ackWnd(0);
    tcpSend(c, src, 500);
    // 10 answered probes: still alive, no unanswered probe on the books
    run(c, 1023_000, true);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect(k.tcbOf(c).probes).toBe(0);
    expect(k.tcbOf(c).backoff).toBeGreaterThanOrEqual(7); // the interval still backed off
    // the peer goes quiet: three more probes, then ETIMEDOUT
    const n = run(c, 4 * 120_000 + 1000, false);
    expect(n).toBe(4); // 3 probes + the RST
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(timedOut(c)).toBe(true);
    setRetries(15, 6, 5);
  });
});

describe("persist: RFC 1122 §4.2.2.17, a peer that answers every probe", () => {
  test("three hours of answered zero-window probes: still ESTABLISHED, interval backs off to rtoMaxMs; the window opens and the data goes", () => {
    const c = established();
    ackWnd(0);
    tcpSend(c, src, 3000);
    const probes = run(c, 3 * 3600_000, true);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    // 1, 3, 7, …, 127 s, then one per 120 s
    expect(probes).toBeGreaterThan(80);
    expect(probes).toBeLessThan(100);
    expect(k.findEvent(EV_ERROR)).toBe(-1);
    // the window opens: the data follows at once, the persist backoff is gone
    ackWnd(8000);
    let data: u32 = 0;
    while (next()) data += rout.payloadLen;
    expect(data).toBe(3000);
    const t = k.tcbOf(c);
    expect((t.flags & TF_PERSIST) != 0).toBe(false);
    expect(t.backoff).toBe(0);
    // the retransmission timer runs with the plain RTO (1 s), not the probes' 120 s
    advance(999);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
  });
});

describe("persist: an orphan (close() with data behind a zero window)", () => {
  test("silent peer: aborted after orphanRetries probes, the record goes back to the pool", () => {
    const c = established();
    ackWnd(0);
    tcpSend(c, src, 3000);
    expect(tcpClose(c)).toBe(0);
    expect(k.tcbOf(c).state).toBe(STATE_FIN_WAIT_1);
    expect(k.inUseCount()).toBe(2);
    rsts = 0;
    // probes at 1, 3, 7, 15, 31, 63, 127, 247 s; the abort at 367 s
    let n = run(c, 366_000, false);
    expect(n).toBe(<i32>orphanRetries);
    expect(k.inUseCount()).toBe(2);
    n = run(c, 2000, false);
    expect(rsts).toBe(1);
    expect(k.inUseCount()).toBe(1); // only the listener
    expect(k.ptrOf(c)).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    expect(timers.active).toBe(0);
    expect(k.findEvent(EV_ERROR)).toBe(-1); // nobody to tell
  });

  test("a peer answering every probe cannot pin the orphan either (Linux: orphans are limited too)", () => {
    const c = established();
    ackWnd(0);
    tcpSend(c, src, 3000);
    tcpClose(c);
    rsts = 0;
    run(c, 366_000, true);
    expect(k.inUseCount()).toBe(2);
    run(c, 2000, true);
    expect(rsts).toBe(1);
    expect(k.inUseCount()).toBe(1);
    expect(timers.active).toBe(0);
  });
});

describe("window shrunk to zero with data in flight (Linux: receiver dastardly shrinks window)", () => {
  test("the peer answers every retransmission with <ACK=SND.UNA, WIN=0> for 3 hours: no ETIMEDOUT; no persist timer beside the RTO; the window opens and everything is delivered", () => {
    const c = established();
    expect(tcpSend(c, src, 2920)).toBe(2920);
    expect(takeAll()).toBe(2);
    ackWnd(0); // takes the window back, acknowledges nothing
    const t = k.tcbOf(c);
    expect(t.sndWnd).toBe(0);
    const before = statTimeouts;
    const segs = run(c, 3 * 3600_000, true);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect(k.findEvent(EV_ERROR)).toBe(-1);
    expect(statTimeouts).toBe(before);
    expect(t.retries).toBe(0);
    expect((t.flags & TF_PERSIST) != 0).toBe(false); // the RTO is the probe
    // backed off to one segment per rtoMaxMs (plus the fast retransmit on the 3rd dup ACK)
    expect(segs).toBeLessThan(110);
    // the peer takes everything
    ackWnd(65535, iss + 1 + 2920);
    expect(t.sndUna).toBe(iss + 1 + 2920);
    expect(k.runningTimers()).toBe(0); // the RTO stopped (lazily: snd.ts stopRtx)
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
  });

  test("the peer falls silent behind its zero window: the retransmissions count again and end in ETIMEDOUT", () => {
    const c = established();
    tcpSend(c, src, 2920);
    takeAll();
    ackWnd(0);
    run(c, 1800_000, true);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    rsts = 0;
    // one firing heard from within rtoMaxMs, then maxRetries counted ones at rtoMaxMs
    run(c, (maxRetries + 2) * rtoMaxMs + 1000, false);
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(timedOut(c)).toBe(true);
    expect(rsts).toBe(1);
    expect(timers.active).toBe(0);
  });

  test("an orphan behind a shrunk window is not spared: its timeouts count even while the peer answers", () => {
    const c = established();
    setRetries(4, 6, 5);
    tcpSend(c, src, 2920);
    takeAll();
    ackWnd(0);
    tcpClose(c);
    run(c, 2 * 3600_000, true);
    expect(k.inUseCount()).toBe(1);
    expect(timers.active).toBe(0);
    setRetries(15, 6, 5);
  });
});

/** Passive open with timestamps from A; returns the child, B's TSval in `bTs`. */
let bTs: u32 = 0;
function establishedTs(): u32 {
  k.setup();
  const l = listener();
  tmpl(TCP_FLAG_SYN, IRS, 0);
  rin.mss = 1460; rin.hasTs = true; rin.tsVal = 500; rin.tsEcr = 0;
  inject();
  expect(next()).toBe(true);
  iss = rout.seq;
  bTs = rout.tsVal;
  tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1);
  rin.hasTs = true; rin.tsVal = 501; rin.tsEcr = bTs;
  inject();
  drain();
  const c = tcpAccept(l);
  if (src == 0) src = heap.alloc(65536);
  tcpSetOption(c, OPT_NODELAY, 1);
  return c;
}

/** Sends 100 bytes, waits `ms`, ACKs them with TSecr = B's TSval of that segment + `skew`. */
function sampleWith(c: u32, ms: u32, skew: i32): void {
  const t = k.tcbOf(c);
  const una = t.sndUna;
  tcpSend(c, src, 100);
  expect(next()).toBe(true);
  const tsv = rout.tsVal;
  advance(ms);
  tmpl(TCP_FLAG_ACK, IRS + 1, una + 100);
  rin.hasTs = true; rin.tsVal = 502; rin.tsEcr = tsv + <u32>skew;
  inject();
  expect(t.sndUna).toBe(una + 100);
}

describe("RTT samples (RFC 7323 §4.1, RFC 6298 §2)", () => {
  test("a TSecr after our clock gives no sample; a sane one does", () => {
    const c = establishedTs();
    const t = k.tcbOf(c);
    expect(t.srtt).toBe(0);
    sampleWith(c, 30, 5000); // echoes a TSval we never sent (5 s in the future)
    expect(t.srtt).toBe(0);
    expect(t.rto).toBe(1000);
    sampleWith(c, 30, 0);
    expect(t.srtt >> 3).toBe(30);
    sampleWith(c, 30, 1 << 30); // far in the future (would be a ~3·10⁹ ms sample)
    expect(t.srtt >> 3).toBe(30);
    expect(t.rto).toBe(200);
  });

  test("a TSecr implausibly old (more than RTT_SAMPLE_MAX_MS before our clock) gives no sample", () => {
    const c = establishedTs();
    const t = k.tcbOf(c);
    sampleWith(c, 40, 0);
    expect(t.srtt >> 3).toBe(40);
    sampleWith(c, 40, -(1 << 29)); // 2^29 ms ≈ 6.2 days old: srtt = R << 3 would wrap
    expect(t.srtt >> 3).toBe(40);
    expect(t.rto).toBe(200);
    sampleWith(c, 40, -<i32>RTT_SAMPLE_MAX_MS);
    expect(t.srtt >> 3).toBe(40);
  });

  test("rttSample clamps R: no u32 overflow in SRTT (×8) or RTTVAR (×4), RTO at rtoMaxMs", () => {
    const c = establishedTs();
    const t = k.tcbOf(c);
    rttSample(t, (1 << 29) + 5); // R << 3 would be 40
    expect(t.srtt >> 3).toBe(RTT_SAMPLE_MAX_MS);
    expect(t.rto).toBe(rtoMaxMs);
    rttSample(t, u32.MAX_VALUE);
    expect(t.srtt >> 3).toBe(RTT_SAMPLE_MAX_MS);
    expect(t.rttvar).toBeGreaterThan(0);
    expect(t.rto).toBe(rtoMaxMs);
    // and it recovers towards real samples
    for (let i = 0; i < 200; i++) rttSample(t, 50);
    expect(t.srtt >> 3).toBeLessThan(60);
    expect(t.rto).toBeLessThan(1000);
  });
});

describe("cwnd bound (CWND_MAX = 2^30)", () => {
  test("fast recovery: duplicate ACKs inflate cwnd by SMSS up to CWND_MAX, never past it or around 2^32", () => {
    setCongestionControl(CC_NEWRENO);
    const c = established();
    tcpSend(c, src, 1460 * 4);
    drain();
    for (let i = 0; i < 3; i++) { tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1); inject(); }
    const t = k.tcbOf(c);
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(true);
    drain();
    // a peer that keeps sending duplicate ACKs: start near the bound (735 000 of them
    // would take it there from a real window)
    t.cwnd = CWND_MAX - 3000;
    for (let i = 0; i < 10; i++) { tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1); inject(); }
    expect(t.cwnd).toBe(CWND_MAX);
    t.cwnd = u32.MAX_VALUE - 100; // even from beyond it: no wrap to a tiny window
    tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1); inject();
    expect(t.cwnd).toBe(CWND_MAX);
    drain();
    setCongestionControl(CC_CUBIC);
  });

  test("slow start and congestion avoidance stop at CWND_MAX", () => {
    setCongestionControl(CC_NEWRENO);
    let c = established();
    let t = k.tcbOf(c);
    t.cwnd = CWND_MAX - 100; // slow start (ssthresh is still u32 max)
    tcpSend(c, src, 1460);
    drain();
    tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1 + 1460); inject();
    expect(t.cwnd).toBe(CWND_MAX);
    t.ssthresh = 1460 * 2; // congestion avoidance, NewReno
    tcpSend(c, src, 1460);
    drain();
    tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1 + 2920); inject();
    expect(t.cwnd).toBe(CWND_MAX);
    setCongestionControl(CC_CUBIC);
    c = established();
    t = k.tcbOf(c);
    t.cwnd = u32.MAX_VALUE - 10; t.ssthresh = 1460 * 2; // CUBIC avoidance from beyond the bound
    tcpSend(c, src, 1460);
    drain();
    tmpl(TCP_FLAG_ACK, IRS + 1, iss + 1 + 1460); inject();
    expect(t.cwnd).toBe(CWND_MAX);
  });
});
