// CUBIC (RFC 9438, assembly/tcp/cubic.ts): the integer cube root, K and W_cubic
// against hand-computed values, the window over virtual time (concave, plateau,
// convex), the Reno-friendly region, the reduction by β, fast convergence, the
// timeout rules, and NewReno still selectable. Dialogue tests use tcp-kit (virtual
// time, crafted ACKs); curve tests drive cubicOnAck with an ACK clock of their own.
import * as k from "./tcp-kit";
import { tmpl, inject, next, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_ACK } from "../../assembly/wire/tcp";
import { tcpSend, tcpSetOption, OPT_NODELAY } from "../../assembly/tcp/api";
import { Tcb, TCB_SIZE, tcbReset, TF_IN_RECOVERY, CCF_EPOCH, CCF_AFTER_RTO } from "../../assembly/tcp/tcb";
import { icbrt64, cubicK, cubicW, cubicOnAck, cubicOnLoss, cubicOnTimeout } from "../../assembly/tcp/cubic";
import {
  setCongestionControl, congestionControl, CC_CUBIC, CC_NEWRENO, statFastRetransmits,
} from "../../assembly/tcp/config";

// ── helpers ──────────────────────────────────────────────────────────────────
let rec: usize = 0;
/** A bare Tcb with SMSS `mss`, cwnd `cwnd`, SRTT `rttMs` (for the curve tests). */
function bare(mss: u16, cwnd: u32, rttMs: u32): Tcb {
  if (rec == 0) rec = heap.alloc(TCB_SIZE);
  tcbReset(rec, 1);
  const t = changetype<Tcb>(rec);
  t.sndMss = mss;
  t.cwnd = cwnd;
  t.srtt = rttMs << 3;
  return t;
}

/** xorshift64 with a printed seed. */
let rng: u64 = 0;
function rnd(): u64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/**
 * Runs an ACK clock from `startMs` for `durMs`: each round trip of `rttMs` acknowledges
 * one window (cwnd / SMSS ACKs of one SMSS each, evenly spaced). Calls `probe` once per
 * round trip with (t since start, cwnd at that moment).
 */
function ackClock(t: Tcb, startMs: u32, durMs: u32, rttMs: u32, probe: (tMs: u32, cwnd: u32) => void): void {
  let now = startMs;
  const end = startMs + durMs;
  const mss = <u32>t.sndMss;
  while (now < end) {
    probe(now - startMs, t.cwnd);
    const n = t.cwnd / mss > 0 ? t.cwnd / mss : 1;
    for (let i: u32 = 0; i < n; i++) cubicOnAck(t, mss, now + i * rttMs / n);
    now += rttMs;
  }
}

let src: usize = 0;
function established(): u32 {
  k.setup();
  const l = listener();
  const c = handshake(l, 1000);
  if (src == 0) src = heap.alloc(65536);
  tcpSetOption(c, OPT_NODELAY, 1);
  return c;
}

// ── the cube root ────────────────────────────────────────────────────────────
describe("icbrt64", () => {
  test("exact on cubes and their neighbours, 0 and u64.MAX", () => {
    expect(icbrt64(0)).toBe(0);
    expect(icbrt64(1)).toBe(1);
    expect(icbrt64(7)).toBe(1);
    expect(icbrt64(8)).toBe(2);
    expect(icbrt64(26)).toBe(2);
    expect(icbrt64(27)).toBe(3);
    for (let r: u64 = 2; r < 2642245; r = r * 3 + 1) {
      const c = r * r * r;
      expect(icbrt64(c)).toBe(r);
      expect(icbrt64(c - 1)).toBe(r - 1);
      expect(icbrt64(c + 1)).toBe(r);
    }
    const top: u64 = 2642245; // ⌊∛(2⁶⁴ − 1)⌋: 2642245³ < 2⁶⁴ ≤ 2642246³
    expect(icbrt64(top * top * top)).toBe(top);
    expect(icbrt64(u64.MAX_VALUE)).toBe(top);
  });
  test("floor property r³ ≤ x < (r+1)³ on 20 000 seeded values, and agrees with Math.cbrt", () => {
    rng = 0x9e3779b97f4a7c15;
    log<string>("icbrt64 seed 0x9e3779b97f4a7c15");
    for (let i = 0; i < 20000; i++) {
      const x = rnd() >> (rnd() & 63); // spread over all magnitudes
      const r = icbrt64(x);
      expect(r * r * r <= x).toBe(true);
      if (r < 2642245) { const s = r + 1; expect(s * s * s > x).toBe(true); }
      const f = Math.cbrt(<f64>x);
      expect(Math.abs(<f64>r - f) < 1.0).toBe(true);
    }
  });
});

// ── K and W_cubic against the RFC formulas, by hand ───────────────────────────
describe("K and W_cubic (RFC 9438 §4.2)", () => {
  test("K = ∛(W_max(1−β)/C) when cwnd_epoch = β·W_max", () => {
    // W_max 100 segments of 1000 B, cwnd_epoch 70: K = ∛(30/0.4) = ∛75 = 4.21716 s.
    expect(cubicK(100000, 70000, 1000)).toBe(4217);
    // W_max 10 segments of 1460 B, cwnd_epoch 7: K = ∛(3/0.4) = ∛7.5 = 1.95743 s.
    expect(cubicK(14600, 10220, 1460)).toBe(1957);
    // W_max 1000 segments of 1448 B, epoch 700: ∛750 = 9.08560 s.
    expect(cubicK(1448000, 1013600, 1448)).toBe(9085);
    // RFC 9438 eq. 2 with any cwnd_epoch: W_max 100, epoch 90 → ∛(10/0.4) = ∛25 = 2.92401 s.
    expect(cubicK(100000, 90000, 1000)).toBe(2924);
    // cwnd_epoch at or above W_max: K = 0.
    expect(cubicK(100000, 100000, 1000)).toBe(0);
    expect(cubicK(100000, 150000, 1000)).toBe(0);
  });
  test("W_cubic: W_max at t = K, ±C·SMSS one second either side, cwnd_epoch at t = 0", () => {
    expect(cubicW(4217.0, 4217, 100000, 1000)).toBe(100000);
    expect(cubicW(5217.0, 4217, 100000, 1000)).toBe(100400); // 0.4·1000·1³
    expect(cubicW(3217.0, 4217, 100000, 1000)).toBe(99600);
    expect(cubicW(6217.0, 4217, 100000, 1000)).toBe(103200); // 0.4·1000·2³
    // t = 0: W_max − C·K³·SMSS = 100000 − 0.4·1000·4.217³ = 70003.3 (K floored to the ms)
    expect(cubicW(0.0, 4217, 100000, 1000)).toBe(70003);
    // never negative
    expect(cubicW(0.0, 100000, 1000, 1000)).toBe(0);
  });
});

// ── the window over virtual time ──────────────────────────────────────────────
let maxErr: f64 = 0;
let renoRtts: i32 = 0;
let growthLog = new StaticArray<u32>(200);
let growthN: i32 = 0;

describe("congestion avoidance over virtual time (RFC 9438 §4.4, §4.5)", () => {
  test("cwnd follows max(W_cubic, W_est): concave up to W_max, flat near K, convex, then Reno-friendly", () => {
    // A loss at cwnd 100 segments (1000 B), RTT 100 ms; then the stage starts at 70.
    const t = bare(1000, 100000, 100);
    cubicOnLoss(t, 100000);
    expect(t.ssthresh).toBe(70000);
    expect(t.cubicWmax).toBe(100000);
    t.cwnd = t.ssthresh; // NewReno full ACK leaves cwnd = ssthresh
    maxErr = 0; growthN = 0; renoRtts = 0;
    ackClock(t, 50000, 8000, 100, (tMs: u32, cwnd: u32): void => {
      // The RFC curve: W_cubic(t) (K = 4.217 s, W_max = 100 segments) or, where larger,
      // the Reno-friendly W_est (§4.3). cwnd aims at W_cubic one RTT ahead and gets
      // there about one RTT later, so it stays close to W_cubic(t).
      const w = <f64>cubicW(<f64>tMs, 4217, 100000, 1000);
      const west = changetype<Tcb>(rec).cubicWest;
      if (tMs > 0 && west > w) {
        renoRtts++;
        expect(cwnd).toBe(<u32>west); // Reno-friendly region: cwnd = W_est exactly
      } else {
        const e = Math.abs(<f64>cwnd - w) / 100000.0;
        if (e > maxErr) maxErr = e;
      }
      if (tMs % 500 == 0) log<string>("t=" + tMs.toString() + " cwnd " + cwnd.toString() +
        " W_cubic " + w.toString() + " W_est " + west.toString());
      growthLog[growthN++] = cwnd;
    });
    expect((t.ccFlags & CCF_EPOCH) != 0).toBe(true);
    expect(t.cubicK).toBe(4217);
    log<string>("max |cwnd − W_cubic(t)| / W_max = " + maxErr.toString() + ", Reno-friendly RTTs " + renoRtts.toString());
    expect(maxErr < 0.005).toBe(true); // within 0.5 % of W_max on the cubic part
    // W_est reaches cwnd_prior (100) after ≈ 57 RTTs at α = 9/17, then +1 segment/RTT,
    // overtaking the flat cubic curve shortly after: the last ~20 RTTs are Reno-friendly.
    expect(renoRtts >= 10 && renoRtts <= 30).toBe(true);
    // Increments per RTT (RTT i covers t = 100·i ms; K = 4.2 s is RTT 42): shrinking
    // before K (concave), growing after it (convex, before W_est takes over at ≈ 5.8 s).
    const inc1s = <i64>growthLog[11] - <i64>growthLog[10];
    const inc3s = <i64>growthLog[31] - <i64>growthLog[30];
    const incK = <i64>growthLog[42] - <i64>growthLog[41];
    const inc5s = <i64>growthLog[51] - <i64>growthLog[50];
    const inc56 = <i64>growthLog[57] - <i64>growthLog[56];
    log<string>("increments/RTT: t=1s " + inc1s.toString() + " 3s " + inc3s.toString() + " 4.2s " +
      incK.toString() + " 5s " + inc5s.toString() + " 5.6s " + inc56.toString());
    expect(inc1s > inc3s).toBe(true);
    expect(inc3s > incK).toBe(true);
    expect(incK < 50).toBe(true); // < 0.05 segment per RTT on the plateau
    expect(inc5s > incK).toBe(true);
    expect(inc56 > inc5s).toBe(true);
    const atK = growthLog[42];
    expect(atK >= 99900 && atK <= 100100).toBe(true);
    // cwnd never decreases during the stage
    for (let i = 1; i < growthN; i++) expect(growthLog[i] >= growthLog[i - 1]).toBe(true);
  });
  test("the target is clamped to 1.5·cwnd per round trip", () => {
    // Far in the convex region the curve is steep: cwnd may at most grow by half per RTT.
    const t = bare(1000, 10000, 100);
    t.cubicWmax = 10000; t.cubicCwndPrior = 10000;
    cubicOnAck(t, 1000, 0); // epoch at t = 0, K = 0 (cwnd_epoch = W_max)
    expect(t.cubicK).toBe(0);
    // 60 s later W_cubic is enormous; one window of ACKs adds at most 0.5·cwnd.
    const before = t.cwnd;
    for (let i = 0; i < 10; i++) cubicOnAck(t, 1000, 60000);
    expect(t.cwnd <= before + (before >> 1) + 1000).toBe(true);
    expect(t.cwnd > before + (before >> 2)).toBe(true);
  });
});

// ── Reno-friendly region ─────────────────────────────────────────────────────
describe("Reno-friendly region (RFC 9438 §4.3)", () => {
  test("first ACK: W_est = cwnd_epoch + α·SMSS·acked/cwnd with α = 9/17", () => {
    const t = bare(1000, 100000, 100);
    cubicOnLoss(t, 100000);
    t.cwnd = 70000;
    cubicOnAck(t, 1000, 1000);
    const want = 70000.0 + (9.0 / 17.0) * 1000.0 * 1000.0 / 70000.0;
    expect(Math.abs(t.cubicWest - want) < 1e-9).toBe(true);
  });
  test("with a 2 ms RTT the window is W_est, above W_cubic, and α turns 1 at cwnd_prior", () => {
    const t = bare(1000, 100000, 2);
    cubicOnLoss(t, 100000);
    t.cwnd = 70000;
    let west0: f64 = 0;
    ackClock(t, 1000, 800, 2, (tMs: u32, cwnd: u32): void => {});
    // 400 round trips in 0.8 s: W_cubic(0.8 s) ≈ 100000 − 400·(4.217 − 0.8)³ ≈ 84 000
    const wc = cubicW(800.0, t.cubicK, t.cubicWmax, 1000);
    log<string>("2 ms RTT after 0.8 s: cwnd " + t.cwnd.toString() + " W_est " + t.cubicWest.toString() +
      " W_cubic " + wc.toString());
    expect(t.cwnd).toBe(<u32>t.cubicWest);
    expect(t.cwnd > wc).toBe(true);
    // Reno-like growth: ≈ 30 segments at α = 9/17 to reach cwnd_prior (≈ 57 RTTs),
    // then 1 segment per RTT: far beyond W_max after 400 RTTs.
    expect(t.cwnd > 300000).toBe(true);
    expect(t.cwnd < 470000).toBe(true);
    // α = 1 now: one window of ACKs adds one SMSS (±1 byte).
    west0 = t.cubicWest;
    const n = t.cwnd / 1000;
    const cw = <f64>t.cwnd;
    for (let i: u32 = 0; i < n; i++) cubicOnAck(t, 1000, 1800);
    expect(Math.abs(t.cubicWest - west0 - 1000.0 * <f64>n * 1000.0 / cw) < 2000.0).toBe(true);
    expect(t.cubicWest - west0 > 950.0).toBe(true);
  });
});

// ── reduction, fast convergence, timeout: unit rules ──────────────────────────
describe("multiplicative decrease and fast convergence (RFC 9438 §4.6, §4.7)", () => {
  test("ssthresh = flight·0.7 (≥ 2 SMSS); W_max = cwnd when not shrinking", () => {
    const t = bare(1460, 146000, 50);
    cubicOnLoss(t, 100000);
    expect(t.ssthresh).toBe(70000);
    expect(t.cubicWmax).toBe(146000);
    expect(t.cubicCwndPrior).toBe(146000);
    const u = bare(1460, 2920, 50);
    cubicOnLoss(u, 2920);
    expect(u.ssthresh).toBe(2920); // 0.7·2 segments < 2 SMSS
  });
  test("fast convergence: a loss below the previous W_max sets W_max = cwnd·(1+β)/2", () => {
    const t = bare(1000, 80000, 50);
    t.cubicWmax = 100000;
    cubicOnLoss(t, 80000);
    expect(t.cubicWmax).toBe(68000); // 80000 · 0.85
    expect(t.cubicCwndPrior).toBe(80000);
    expect(t.ssthresh).toBe(56000);
    // and the next stage aims at the lowered W_max: K = ∛((68 − 56)/0.4) = ∛30 = 3.10723 s
    t.cwnd = 56000;
    cubicOnAck(t, 1000, 0);
    expect(t.cubicK).toBe(3107);
    // a loss above W_max: no fast convergence
    const u = bare(1000, 120000, 50);
    u.cubicWmax = 100000;
    cubicOnLoss(u, 120000);
    expect(u.cubicWmax).toBe(120000);
  });
  test("a loss ends the epoch; the next avoidance ACK starts a new one", () => {
    const t = bare(1000, 100000, 50);
    cubicOnAck(t, 1000, 10);
    expect((t.ccFlags & CCF_EPOCH) != 0).toBe(true);
    cubicOnLoss(t, 100000);
    expect((t.ccFlags & CCF_EPOCH) != 0).toBe(false);
    t.cwnd = 70000;
    cubicOnAck(t, 1000, 500);
    expect(t.cubicEpochMs).toBe(500);
    expect(t.cubicK).toBe(4217);
  });
  test("timeout: first stage afterwards has K = 0, W_max = W_est = cwnd_epoch (§4.8)", () => {
    const t = bare(1000, 100000, 50);
    cubicOnTimeout(t, 100000);
    expect(t.ssthresh).toBe(70000);
    expect((t.ccFlags & CCF_AFTER_RTO) != 0).toBe(true);
    // slow start from 1 SMSS (snd.ts) ends at ssthresh = 70000: the stage begins there
    t.cwnd = 70000;
    cubicOnAck(t, 1000, 3000);
    expect(t.cubicK).toBe(0);
    expect(t.cubicWmax).toBe(70000);
    expect((t.ccFlags & CCF_AFTER_RTO) != 0).toBe(false);
    expect(t.cubicWest > 70000.0 && t.cubicWest < 70010.0).toBe(true);
    // from K = 0 the curve is convex at once: W_cubic(1 s) = 70000 + 400
    expect(cubicW(1000.0, t.cubicK, t.cubicWmax, 1000)).toBe(70400);
  });
});

// ── through the engine: dialogues ────────────────────────────────────────────
describe("CUBIC in the engine (default)", () => {
  test("CUBIC is the default and new endpoints latch it", () => {
    expect(congestionControl).toBe(CC_CUBIC);
    const c = established();
    expect(k.tcbOf(c).ccAlgo).toBe(CC_CUBIC);
    expect(setCongestionControl(7)).toBe(false);
    expect(congestionControl).toBe(CC_CUBIC);
  });
  test("fast retransmit reduces by β: ssthresh = 0.7·FlightSize, W_max = cwnd before", () => {
    const c = established();
    const iss = k.lastIss;
    tcpSend(c, src, 1460 * 6);
    drain();
    const t = k.tcbOf(c);
    expect(t.cwnd).toBe(14600); // IW10
    for (let i = 0; i < 3; i++) { tmpl(TCP_FLAG_ACK, 1001, iss + 1); inject(); }
    expect(next()).toBe(true);
    expect(rout_seq()).toBe(iss + 1);
    expect(statFastRetransmits).toBe(1);
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(true);
    expect(t.ssthresh).toBe(6132); // 8760 · 0.7
    expect(t.cwnd).toBe(6132 + 3 * 1460); // NewReno recovery inflation (RFC 5681 §3.2 step 3)
    expect(t.cubicWmax).toBe(14600);
    expect(t.cubicCwndPrior).toBe(14600);
    drain();
    // partial ACK keeps NewReno's recovery (RFC 6582 §3.2 step 4) ...
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 2 * 1460); inject();
    expect(next()).toBe(true);
    expect(rout_seq()).toBe(iss + 1 + 2 * 1460);
    drain();
    // ... and the full ACK leaves cwnd ≤ ssthresh; the next ACK starts a CUBIC epoch.
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 6 * 1460); inject();
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(false);
    expect(t.cwnd <= t.ssthresh).toBe(true);
  });
  test("congestion avoidance ACKs grow cwnd by the cubic rule, not by SMSS²/cwnd", () => {
    const c = established();
    const iss = k.lastIss;
    const t = k.tcbOf(c);
    t.ssthresh = 2920; // force congestion avoidance from the first ACK
    t.cubicWmax = 30000; t.cubicCwndPrior = 30000;
    tcpSend(c, src, 1460 * 4);
    drain();
    advance(100);
    // First avoidance ACK: the epoch starts (t = 0, where W_cubic(0) ≈ cwnd_epoch ≤ W_est).
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 1460); inject();
    expect((t.ccFlags & CCF_EPOCH) != 0).toBe(true);
    // K = ∛((30000 − 14600)/(0.4·1460)) = ∛26.3699 = 2.97683 s
    expect(t.cubicK).toBe(2976);
    expect(t.srtt >> 3).toBe(100);
    // 250 ms later: W_cubic(0.25 s) = 30000 − 584·2.7268³ ≈ 18160 > W_est, the concave
    // region: target = W_cubic(0.25 + 0.1 s) = 30000 − 584·2.6268³ ≈ 19415,
    // and cwnd += (target − cwnd)·1460/cwnd.
    advance(250);
    const before = t.cwnd;
    const target = cubicW(350.0, 2976, 30000, 1460);
    expect(target > 19405 && target < 19425).toBe(true);
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 2 * 1460); inject();
    const want = before + <u32>((<u64>(target - before) * 1460) / <u64>before);
    log<string>("cwnd " + before.toString() + " → " + t.cwnd.toString() + " (target " + target.toString() + ")");
    expect(t.cwnd).toBe(want);
    expect(t.cwnd - before).not.toBe(1460 * 1460 / before); // not the Reno increment
  });
  test("RTO: ssthresh 0.7·flight, cwnd 1 SMSS; a second RTO holds ssthresh and W_max", () => {
    const c = established();
    tcpSend(c, src, 1460 * 6);
    drain();
    const t = k.tcbOf(c);
    advance(1000);
    expect(t.ssthresh).toBe(6132);
    expect(t.cwnd).toBe(1460);
    expect(t.cubicWmax).toBe(14600);
    expect((t.ccFlags & CCF_AFTER_RTO) != 0).toBe(true);
    drain();
    advance(2000);
    expect(t.retries).toBe(2);
    expect(t.ssthresh).toBe(6132);
    expect(t.cubicWmax).toBe(14600); // not 1460·0.85: RFC 5681 §3.1 holds it
    expect(t.cwnd).toBe(1460);
  });
});

describe("NewReno still selectable", () => {
  test("CC_NEWRENO: ssthresh = FlightSize/2, cwnd += SMSS²/cwnd, CUBIC state untouched", () => {
    expect(setCongestionControl(CC_NEWRENO)).toBe(true);
    const c = established();
    const iss = k.lastIss;
    const t = k.tcbOf(c);
    expect(t.ccAlgo).toBe(CC_NEWRENO);
    tcpSend(c, src, 1460 * 6);
    drain();
    for (let i = 0; i < 3; i++) { tmpl(TCP_FLAG_ACK, 1001, iss + 1); inject(); }
    expect(t.ssthresh).toBe(1460 * 3);
    expect(t.cwnd).toBe(1460 * 6);
    expect(t.cubicWmax).toBe(0);
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 6 * 1460); inject();
    expect((t.flags & TF_IN_RECOVERY) != 0).toBe(false);
    expect(t.cwnd).toBe(2920); // RFC 6582 full ACK: min(ssthresh, max(FlightSize, SMSS) + SMSS)
    // congestion avoidance: the RFC 5681 eq. (3) increment
    t.ssthresh = 2920;
    tcpSend(c, src, 1460 * 2);
    drain();
    const before = t.cwnd;
    tmpl(TCP_FLAG_ACK, 1001, iss + 1 + 7 * 1460); inject();
    expect(t.cwnd).toBe(before + 1460 * 1460 / before);
    expect(t.ccFlags).toBe(0);
    // RTO under NewReno: FlightSize/2
    advance(1000);
    expect(t.ssthresh).toBe(2920); // max(FlightSize/2 = 730, 2·SMSS)
    expect(t.cwnd).toBe(1460);
    expect(setCongestionControl(CC_CUBIC)).toBe(true);
    const d = established();
    expect(k.tcbOf(d).ccAlgo).toBe(CC_CUBIC);
  });
});

import { rout } from "./tcp-kit";
function rout_seq(): u32 { return rout.seq; }
