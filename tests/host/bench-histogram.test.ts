// The host's log-linear histogram decodes the module's geometry: bucket edges, exact
// small values, relative error bound, quantiles against a sorted reference (seeded).

import { test } from "node:test";
import assert from "node:assert/strict";
import { LogLinearHistogram } from "../../host/bench/histogram.ts";

test("histogram: 896 buckets, exact below 32, edges contiguous, ≤ 1/32 relative width", () => {
  const h = new LogLinearHistogram();
  assert.equal(h.buckets, 896);
  for (let v = 0; v < 32; v++) assert.equal(h.bucketOf(v), v);
  for (let b = 0; b + 1 < h.buckets; b++) {
    assert.equal(h.highOf(b) + 1, h.lowOf(b + 1), `bucket ${b}`);
    assert.equal(h.bucketOf(h.lowOf(b)), b);
    assert.equal(h.bucketOf(h.highOf(b)), b);
    if (b >= 32) assert.ok((h.highOf(b) - h.lowOf(b) + 1) / h.lowOf(b) <= 1 / 32 + 1e-12);
  }
  assert.equal(h.bucketOf(0xffffffff), 895);
  assert.equal(h.bucketOf(1e12), 895); // clamped
});

test("histogram: quantiles within one bucket of the exact order statistic (seed 8)", () => {
  const seed = 8;
  let x = seed >>> 0; // xorshift32, seeded
  const rng = { next: () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x100000000; } };
  const h = new LogLinearHistogram();
  const vals: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const v = Math.floor(Math.exp(rng.next() * 12)); // 1 µs .. ~160 ms, log-uniform
    vals.push(v);
    h.record(v);
  }
  vals.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = vals[Math.ceil(q * vals.length) - 1];
    const got = h.quantile(q);
    assert.equal(h.bucketOf(got), h.bucketOf(exact), `seed ${seed} q=${q}: ${got} vs ${exact}`);
  }
  assert.equal(h.percentiles().min, vals[0]);
  assert.equal(h.percentiles().max, vals[vals.length - 1]);
  const m = new LogLinearHistogram();
  m.merge(h);
  assert.equal(m.quantile(0.99), h.quantile(0.99));
});

test("histogram: fromModule reads counts and the summary words", () => {
  const words = new BigUint64Array(896 + 4);
  words[5] = 3n;
  words[40] = 1n;
  words[896] = 4n;
  words[897] = 15n + 40n;
  words[898] = 5n;
  words[899] = 40n;
  const h = LogLinearHistogram.fromModule(words, 5, 896);
  assert.equal(h.total, 4);
  assert.equal(h.quantile(0.5), 5);
  assert.equal(h.percentiles().max, 40);
  assert.throws(() => LogLinearHistogram.fromModule(new BigUint64Array(10), 5, 896), RangeError);
});
