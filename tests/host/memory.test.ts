// Zero allocation after init, on the real stub runtime (build/bench.wasm is built
// with the release flags and `--runtime stub`): 100 000 connection lifetimes of
// churn leave the heap top and the memory size where init left them. A control
// run shows the same probe catches a leak. Also: the memory accounting and the
// ≤ 1024 B per connection target.

import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate } from "../../host/loader.ts";
import { ABI, MEMSTAT_NAMES, writeConfig } from "../../host/abi.ts";

const CONFIG = {
  maxConnections: 1024, maxListeners: 16, syncacheEntries: 64, maxTimeWait: 256,
  chunkCount: 512, chunkSize: 2048, rxSlots: 64, txSlots: 64, slotSize: 2048, eventRingSize: 256, shards: 256,
  secret: new Uint8Array(16).fill(7),
};

async function initBench() {
  const { exports } = await instantiate("bench");
  writeConfig(exports.memory, exports.benchConfigAddr(), CONFIG, () => new Uint8Array(16));
  assert.equal(exports.benchStackInit(0n), 0);
  return exports;
}

test("100 000 connection lifetimes: heap top and memory size unchanged (stub runtime)", async () => {
  const ex = await initBench();
  const top = ex.benchHeapTop();
  const bytes = ex.memory.buffer.byteLength;
  assert.equal(ex.benchChurn(100_000), 0, "every acquire/insert/release succeeded, pools empty after");
  assert.equal(ex.benchHeapTop(), top, "heap top unchanged");
  assert.equal(ex.memory.buffer.byteLength, bytes, "memory size unchanged");
});

test("control: the heap-top probe sees a 32-byte leak", async () => {
  const ex = await initBench();
  const top = ex.benchHeapTop();
  ex.benchLeak(32);
  assert.ok(ex.benchHeapTop() >= top + 32, "the probe moved by at least the leaked bytes");
});

test("memory accounting: totals match what was carved; ≤ 1024 B per connection", async () => {
  const { exports: ex } = await instantiate("bench");
  writeConfig(ex.memory, ex.benchConfigAddr(), CONFIG, () => new Uint8Array(16));
  const before = ex.benchHeapTop();
  assert.equal(ex.benchStackInit(0n), 0);
  const carved = ex.benchHeapTop() - before;
  const m: Record<string, number> = {};
  MEMSTAT_NAMES.forEach((n, i) => { m[n] = Number(ex.benchMemstat(i)); });
  console.log("memory accounting:", JSON.stringify(m), "carved (heap top delta):", carved);
  assert.ok(m.bytesPerConnection > 0 && m.bytesPerConnection <= 1024, `bytes per connection ${m.bytesPerConnection}`);
  const parts = m.timers + m.endpointSlab + m.table + m.timeWaitSlab + m.chunkPool + m.rxRing + m.txRing + m.eventRing;
  assert.equal(parts, m.total);
  // The allocator adds a small header per block plus the timer-service objects.
  assert.ok(carved >= m.total, `carved ${carved} ≥ accounted ${m.total}`);
  assert.ok(carved - m.total < 4096, `unaccounted ${carved - m.total} B`);
  assert.equal(m.rxRing, CONFIG.rxSlots * CONFIG.slotSize);
  assert.ok(m.chunkPool >= CONFIG.chunkCount * CONFIG.chunkSize);
  assert.equal(ABI.MEMSTAT_COUNT >= MEMSTAT_NAMES.length, true);
});
