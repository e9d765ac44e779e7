// CUBIC congestion control (RFC 9438): the window growth in congestion avoidance
// and the window reduction on a congestion event. Slow start (RFC 5681 §3.1), fast
// retransmit and NewReno recovery (RFC 6582) stay in snd.ts; CUBIC only decides
// ssthresh on a loss and how cwnd grows once cwnd ≥ ssthresh. No HyStart.
//
// Units: the RFC counts windows in segments and time in seconds; here windows are
// bytes (as cwnd in snd.ts), so every "segment" term is multiplied by SMSS, and time
// is ms of the module clock (nowMs, never the wall clock):
//
//   W_cubic(t) = C·SMSS·(t − K)³ + W_max              bytes, t and K in s   (RFC 9438 §4.2 eq. 1)
//   K          = ∛((W_max − cwnd_epoch) / (C·SMSS))    s                     (§4.2 eq. 2)
//   W_est     += α_cubic·SMSS·acked / cwnd             bytes                 (§4.3 eq. 4)
//   α_cubic    = 3(1 − β)/(1 + β) = 9/17 for β = 0.7, 1 once W_est ≥ cwnd_prior
//   target     = W_cubic(t + RTT) clamped to [cwnd, 1.5·cwnd]                (§4.4, §4.5)
//   cwnd      += (target − cwnd)·acked / cwnd           per ACK              (§4.4, §4.5)
//
// K is kept in ms (integer cube root, floor), W_cubic is evaluated in f64 (no
// allocation), W_est is an f64 in bytes and the integer growth keeps its remainder
// (cubicRem) so nothing is lost to truncation over many ACKs.
//
// Per-connection state: the Tcb fields appended for CUBIC (tcb.ts, "congestion
// control (RFC 9438)"): ccAlgo, ccFlags, cubicEpochMs, cubicK, cubicWmax,
// cubicCwndPrior, cubicRem, cubicWest.

import { Tcb, CCF_EPOCH, CCF_AFTER_RTO } from "./tcb";

/** C = 0.4 segments/s³ (RFC 9438 §5.1 / §4.2). */
export const CUBIC_C: f64 = 0.4;
/** β_cubic = 0.7 as the ratio 7/10 (RFC 9438 §4.6). */
export const CUBIC_BETA_NUM: u32 = 7;
export const CUBIC_BETA_DEN: u32 = 10;
/** α_cubic = 3(1 − β)/(1 + β) = 0.9/1.7 = 9/17 (RFC 9438 §4.3 eq. 3). */
export const CUBIC_ALPHA_NUM: f64 = 9.0;
export const CUBIC_ALPHA_DEN: f64 = 17.0;

/**
 * Floor of the cube root of a u64: the largest r with r³ ≤ x. Bit-by-bit (three
 * bits of x per result bit, 22 steps, integer only): cheap and exact, so K needs no
 * floating-point cube root.
 */
export function icbrt64(x: u64): u64 {
  let y: u64 = 0;
  // s walks 63, 60, ..., 0: each step decides one bit of the root.
  for (let s: i32 = 63; s >= 0; s -= 3) {
    y <<= 1;
    // Setting the new low bit adds (y+1)³ − y³ = 3y(y+1) + 1 to the cube, at scale 2^s
    // (x holds what is left of the input; (x >> s) ≥ b also keeps b << s from overflowing).
    const b: u64 = 3 * y * (y + 1) + 1;
    if ((x >> <u64>s) >= b) {
      x -= b << <u64>s;
      y++;
    }
  }
  return y;
}

/**
 * K in ms (RFC 9438 §4.2 eq. 2): ∛((W_max − cwnd_epoch)/(C·SMSS)) s, with W_max and
 * cwnd_epoch in bytes. 0 when cwnd_epoch ≥ W_max. ms³ = s³·10⁹, so
 * K_ms = ∛(ΔW·10⁹ / (0.4·SMSS)) = ∛(ΔW·2.5·10⁹ / SMSS); ΔW < 2³² keeps the product < 2⁶⁴.
 */
export function cubicK(wmax: u32, cwndEpoch: u32, mss: u32): u32 {
  if (cwndEpoch >= wmax || mss == 0) return 0;
  const d = <u64>(wmax - cwndEpoch);
  return <u32>icbrt64(d * 2500000000 / <u64>mss);
}

/**
 * W_cubic(t) in bytes (RFC 9438 §4.2 eq. 1), t and K in ms, clamped to [0, 2³²−1].
 */
export function cubicW(tMs: f64, kMs: u32, wmax: u32, mss: u32): u32 {
  const d = (tMs - <f64>kMs) / 1000.0;
  const w = CUBIC_C * <f64>mss * d * d * d + <f64>wmax;
  if (w <= 0.0) return 0;
  if (w >= 4294967295.0) return u32.MAX_VALUE;
  return <u32>w;
}

/**
 * A congestion event detected by three duplicate ACKs (RFC 9438 §4.6, §4.7), called
 * before NewReno's recovery sets cwnd = ssthresh + 3·SMSS:
 *   fast convergence: W_max = cwnd·(1 + β)/2 when cwnd < W_max, else W_max = cwnd;
 *   cwnd_prior = cwnd; ssthresh = max(flight_size·β, 2·SMSS); the epoch ends.
 */
export function cubicOnLoss(t: Tcb, flight: u32): void {
  const prior = t.cwnd;
  // §4.7 fast convergence: release bandwidth to newer flows when the window shrank.
  if (prior < t.cubicWmax) t.cubicWmax = <u32>(<u64>prior * 17 / 20); // (1 + 0.7) / 2 = 17/20
  else t.cubicWmax = prior;
  t.cubicCwndPrior = prior;
  // §4.6 Figure 5: ssthresh = flight_size · β_cubic, at least 2 SMSS.
  const two = <u32>t.sndMss << 1;
  const s = <u32>(<u64>flight * <u64>CUBIC_BETA_NUM / <u64>CUBIC_BETA_DEN);
  t.ssthresh = s > two ? s : two;
  t.ccFlags &= ~CCF_EPOCH;
}

/**
 * Retransmission timeout (RFC 9438 §4.8): ssthresh set with β_cubic as on a loss (and
 * W_max / cwnd_prior recorded), cwnd to the loss window by the caller (RFC 5681).
 * The first congestion-avoidance stage afterwards starts with K = 0 and
 * W_max = W_est = cwnd at its beginning (CCF_AFTER_RTO, see cubicOnAck).
 */
export function cubicOnTimeout(t: Tcb, flight: u32): void {
  cubicOnLoss(t, flight);
  t.ccFlags |= CCF_AFTER_RTO;
}

/**
 * Congestion avoidance on an ACK of `acked` new bytes (cwnd ≥ ssthresh, not in
 * recovery), at module time `nowMs`. Starts an epoch on the first such ACK after a
 * congestion event or after slow start (§4.2), then grows cwnd by the larger of the
 * Reno-friendly estimate (§4.3) and the cubic curve one RTT ahead (§4.4 concave
 * below W_max, §4.5 convex above it). cwnd never shrinks here.
 */
export function cubicOnAck(t: Tcb, acked: u32, nowMs: u32): void {
  const mss = <u32>t.sndMss;
  if (t.cwnd == 0) t.cwnd = mss;
  if ((t.ccFlags & CCF_EPOCH) == 0) {
    t.ccFlags |= CCF_EPOCH;
    t.cubicEpochMs = nowMs;
    if ((t.ccFlags & CCF_AFTER_RTO) != 0 || t.cwnd >= t.cubicWmax) {
      // §4.8 (first stage after an RTO), and a stage that starts at or above W_max:
      // the curve starts flat at the current window (K = 0, W_max = cwnd_epoch).
      t.cubicWmax = t.cwnd;
      t.cubicK = 0;
      t.ccFlags &= ~CCF_AFTER_RTO;
    } else {
      t.cubicK = cubicK(t.cubicWmax, t.cwnd, mss);
    }
    t.cubicWest = <f64>t.cwnd; // §4.3: W_est = cwnd_epoch
    t.cubicRem = 0;
  }
  const tMs = <f64>(nowMs - t.cubicEpochMs); // modulo 2³² ms: epochs under 49 days
  // §4.3 Reno-friendly estimate; α_cubic becomes 1 once W_est reached cwnd_prior.
  const alpha = t.cubicWest >= <f64>t.cubicCwndPrior ? 1.0 : CUBIC_ALPHA_NUM / CUBIC_ALPHA_DEN;
  t.cubicWest += alpha * <f64>mss * <f64>acked / <f64>t.cwnd;
  const wc = cubicW(tMs, t.cubicK, t.cubicWmax, mss);
  if (<f64>wc < t.cubicWest) {
    // Reno-friendly region: cwnd = W_est.
    const w = t.cubicWest >= 4294967295.0 ? u32.MAX_VALUE : <u32>t.cubicWest;
    if (w > t.cwnd) t.cwnd = w;
    return;
  }
  // §4.4 / §4.5: target = W_cubic(t + RTT), RTT = SRTT (ms), within [cwnd, 1.5·cwnd].
  const rttMs = <f64>(t.srtt >> 3);
  let target = <u64>cubicW(tMs + rttMs, t.cubicK, t.cubicWmax, mss);
  const cw = <u64>t.cwnd;
  const hi = cw + (cw >> 1);
  if (target < cw) target = cw;
  if (target > hi) target = hi;
  // cwnd += (target − cwnd)/cwnd per SMSS acknowledged, in bytes, keeping the remainder.
  const num = (target - cw) * <u64>acked + <u64>t.cubicRem;
  const inc = num / cw;
  t.cubicRem = <u32>(num % cw);
  const n = cw + inc;
  t.cwnd = n > <u64>u32.MAX_VALUE ? u32.MAX_VALUE : <u32>n;
}
