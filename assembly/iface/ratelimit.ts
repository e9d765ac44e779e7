// Token buckets for ICMP errors and ARP requests, on the module clock (nowMs).
//
//   RateLimiter (@unmanaged, 32 bytes)
//   ┌──────────────────────┬──────────────────────┬───────────┬───────────┐
//   │ milliTokens u64      │ lastMs u64           │ perSec u32│ burst u32 │
//   └──────────────────────┴──────────────────────┴───────────┴───────────┘
//   0                      8                      16          20          24
//
// One token = 1000 milli-tokens; the bucket gains `perSec` milli-tokens per ms
// (= perSec tokens per second) up to `burst` tokens. perSec == 0 disables the limit
// (like Linux icmp_ratelimit = 0).

import { nowMs } from "../time/clock";

@unmanaged
export class RateLimiter {
  /** Tokens × 1000 available now (≤ burst × 1000). */
  milliTokens: u64;
  /** Time of the last refill, in ms. */
  lastMs: u64;
  /** Refill rate in tokens per second; 0 = unlimited. */
  perSec: u32;
  /** Bucket depth in tokens. */
  burst: u32;
}

export function rateInit(r: RateLimiter, perSec: u32, burst: u32): void {
  r.perSec = perSec;
  r.burst = burst;
  r.milliTokens = <u64>burst * 1000;
  r.lastMs = nowMs();
}

/** Takes one token if available. */
export function rateTake(r: RateLimiter): bool {
  if (r.perSec == 0) return true;
  const now = nowMs();
  const cap = <u64>r.burst * 1000;
  if (now > r.lastMs) {
    const dt = now - r.lastMs;
    // dt · perSec cannot overflow for any dt below ~1.8e10 s; clamp anyway.
    const add = dt > cap ? cap * <u64>r.perSec : dt * <u64>r.perSec;
    const t = r.milliTokens + add;
    r.milliTokens = t > cap ? cap : t;
  }
  r.lastMs = now;
  if (r.milliTokens >= 1000) {
    r.milliTokens -= 1000;
    return true;
  }
  return false;
}
