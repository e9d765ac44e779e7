// IT-SHARD-1: 4-tuples spread evenly over the 256 shards.
//
// Two workloads of 1 000 000 tuples each, under one secret:
//   (a) random tuples (xorshift64*, fixed seed, printed);
//   (b) one client IP talking to one server IP, sequential source ports
//       1024..65535 wrapping, the server port stepping by one at each wrap
//       (a port sweep cannot give 10^6 distinct tuples on a single server port).
// Each passes a chi-square goodness-of-fit test against the uniform distribution at
// p > 0.001 with 255 degrees of freedom: the statistic must stay below the critical
// value χ²(0.999; 255) ≈ 330.5 (tables give 330.52; computed here with the
// Wilson–Hilferty approximation, z(0.999) = 3.0902), and the largest shard may hold
// at most 1.25× the smallest. Then a different secret must give a different
// assignment (≈ 1/256 of tuples keep their shard by chance).

import { tableInit, shardOf } from "../../assembly/tcp/table";
import { hashSetSecret } from "../../assembly/util/hash";

const N: u32 = 1000000;
const SHARDS: u32 = 256;
const SEED: u64 = 0x5eed_1234_abcd_0001;
const counts = new StaticArray<u32>(256);

let rng: u64 = 0;
function next(): u64 {
  // xorshift64* (Vigna 2016)
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545f4914f6cdd1d;
}

/** χ²(1 − α; k) by Wilson–Hilferty: k·(1 − 2/(9k) + z·sqrt(2/(9k)))³. */
function chiSquareCritical(k: f64, z: f64): f64 {
  const a = 2.0 / (9.0 * k);
  const t = 1.0 - a + z * Math.sqrt(a);
  return k * t * t * t;
}

function clear(): void {
  for (let i = 0; i < 256; i++) counts[i] = 0;
}

function chiSquare(): f64 {
  const expected = <f64>N / <f64>SHARDS;
  let x: f64 = 0;
  for (let i = 0; i < 256; i++) {
    const d = <f64>counts[i] - expected;
    x += d * d / expected;
  }
  return x;
}

function maxOverMin(): f64 {
  let lo = u32.MAX_VALUE, hi: u32 = 0;
  for (let i = 0; i < 256; i++) {
    if (counts[i] < lo) lo = counts[i];
    if (counts[i] > hi) hi = counts[i];
  }
  return lo == 0 ? f64.MAX_VALUE : <f64>hi / <f64>lo;
}

const SECRET_K0: u64 = 0x243f6a8885a308d3; // digits of π: a fixed, documented test secret
const SECRET_K1: u64 = 0x13198a2e03707344;
hashSetSecret(SECRET_K0, SECRET_K1);
tableInit(1024, 1, SHARDS);
const CRIT = chiSquareCritical(255, 3.0902);

describe("IT-SHARD-1", () => {
  test("critical value of chi-square(0.999; 255) is about 330.5", () => {
    expect(CRIT).toBeGreaterThan(330.0);
    expect(CRIT).toBeLessThan(331.0);
  });

  test("IT-SHARD-1 (a): 1 000 000 random 4-tuples", () => {
    log<string>("IT-SHARD-1 random tuples seed 0x" + SEED.toString(16));
    rng = SEED;
    clear();
    for (let i: u32 = 0; i < N; i++) {
      const r = next();
      const s = shardOf(<u32>r, <u16>(r >> 32), <u32>next(), <u16>(r >> 48));
      counts[s]++;
    }
    const x = chiSquare();
    const ratio = maxOverMin();
    log<string>("IT-SHARD-1 (a) chi-square " + x.toString() + " (critical " + CRIT.toString() + "), max/min " + ratio.toString());
    expect(x).toBeLessThan(CRIT);
    expect(ratio).toBeLessThanOrEqual(1.25);
  });

  test("IT-SHARD-1 (b): 1 000 000 tuples, one client IP, sequential source ports", () => {
    clear();
    const client: u32 = 0xc6130001; // 198.19.0.1
    const server: u32 = 0xc6120001; // 198.18.0.1
    for (let i: u32 = 0; i < N; i++) {
      const srcPort = <u16>(1024 + i % 64512);
      const dstPort = <u16>(80 + i / 64512);
      // Table keys are from the stack's side: local = server, remote = client.
      counts[shardOf(server, dstPort, client, srcPort)]++;
    }
    const x = chiSquare();
    const ratio = maxOverMin();
    log<string>("IT-SHARD-1 (b) chi-square " + x.toString() + " (critical " + CRIT.toString() + "), max/min " + ratio.toString());
    expect(x).toBeLessThan(CRIT);
    expect(ratio).toBeLessThanOrEqual(1.25);
  });

  test("IT-SHARD-1 (c): a different secret gives a different assignment", () => {
    const M: u32 = 10000;
    const first = new StaticArray<u8>(<i32>M);
    hashSetSecret(SECRET_K0, SECRET_K1);
    for (let i: u32 = 0; i < M; i++) first[i] = <u8>shardOf(0xc6120001, 80, 0xc6130001, <u16>(1024 + i));
    hashSetSecret(SECRET_K0 ^ 1, SECRET_K1);
    let same: u32 = 0;
    for (let i: u32 = 0; i < M; i++) if (first[i] == <u8>shardOf(0xc6120001, 80, 0xc6130001, <u16>(1024 + i))) same++;
    log<string>("IT-SHARD-1 (c) tuples keeping their shard under a new secret: " + same.toString() + " of " + M.toString());
    // Chance alone keeps M/256 ≈ 39; allow a wide margin but far below "unchanged".
    expect(same).toBeLessThan(M / 50);
  });

  test("control: a bad hash (ports only, unkeyed) fails the same check", () => {
    // Proves the statistic can fail: shard = low byte of the source port.
    clear();
    for (let i: u32 = 0; i < N; i++) {
      const srcPort = <u16>(1024 + i % 64512);
      counts[(<u32>srcPort * 3) & 0xff]++;
    }
    // Port sweeps make this nearly uniform; skew it the way real traffic does:
    // add a burst of 20 000 connections from even ports only.
    for (let i: u32 = 0; i < 20000; i++) counts[(<u32>(2 * i) * 3) & 0xfe]++;
    expect(chiSquare()).toBeGreaterThan(CRIT);
  });
});
