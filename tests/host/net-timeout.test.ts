// socket.setTimeout() as node:net has it (Node 20, lib/internal/stream_base_commons.js
// setStreamTimeout + lib/internal/timers.js): 'timeout' once per idle period — after
// it fires the timer stays quiet until activity (data read, a write, connect) starts
// a new period; durations validated like Node's (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE,
// TimeoutOverflowWarning) and below 1 ms run as 1 ms. ustack used to re-emit 'timeout'
// every period (10 a second with setTimeout(100)) and ran setTimeout(0.001) as a 1 µs
// period (100 000 events a virtual second). All on virtual time; node:net itself is
// only the oracle for the error messages (an unconnected socket, no network).

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { coreSkipReason, duo, ADDR_B, type Duo } from "./stack-kit.ts";
import type { Socket } from "../../host/net/socket.ts";

async function connected(t: { skip(msg: string): void }): Promise<{ d: Duo; c: Socket } | null> {
  const skip = await coreSkipReason();
  if (skip) {
    t.skip(skip);
    return null;
  }
  const d = await duo();
  d.b.net.createServer((s) => s.resume()).listen(7);
  const c = d.a.net.connect(7, ADDR_B);
  await d.pump.run({ until: () => !c.connecting, maxMs: 5000 });
  assert.equal(c.connecting, false);
  return { d, c };
}

test("setTimeout(100): one 'timeout' per idle period, not one every 100 ms; activity re-arms it", async (t) => {
  const r = await connected(t);
  if (!r) return;
  const { d, c } = r;
  const at: number[] = [];
  const t0 = d.clock.nowUs();
  c.setTimeout(100);
  c.on("timeout", () => at.push((d.clock.nowUs() - t0) / 1000));
  await d.pump.run({ maxMs: 1000 });
  assert.deepEqual(at, [100], "once in 1 s of idle time (node:net: 1)");
  const t1 = (d.clock.nowUs() - t0) / 1000;
  c.write("x"); // activity: a new idle period starts
  await d.pump.run({ maxMs: 1000 });
  assert.equal(at.length, 2, `after the write: ${at.join(", ")}`);
  assert.ok(at[1] >= t1 + 100 && at[1] < t1 + 110, `the second one 100 ms after the write (at ${at[1]}, write at ${t1})`);
  assert.equal(c.timeout, 100);
  c.destroy();
  await d.close();
});

test("setTimeout(0.001) runs as 1 ms (Node's Timeout minimum) and fires once", async (t) => {
  const r = await connected(t);
  if (!r) return;
  const { d, c } = r;
  const at: number[] = [];
  const t0 = d.clock.nowUs();
  c.setTimeout(0.001);
  c.on("timeout", () => at.push(d.clock.nowUs() - t0));
  const run = await d.pump.run({ maxMs: 1000 });
  assert.deepEqual(at, [1000], "one event, 1 ms (1000 µs) after setTimeout");
  assert.ok(run.rounds < 50, `${run.rounds} pump rounds in a virtual second (used to be 200 000)`);
  assert.equal(c.timeout, 0.001, "socket.timeout keeps the value given, as node:net");
  // 1.5 ms stays 1.5 ms
  at.length = 0;
  const t1 = d.clock.nowUs();
  c.setTimeout(1.5);
  c.removeAllListeners("timeout");
  c.on("timeout", () => at.push(d.clock.nowUs() - t1));
  await d.pump.run({ maxMs: 100 });
  assert.deepEqual(at, [1500]);
  c.destroy();
  await d.close();
});

test("setTimeout(0) disables the timer and removes the callback; a later setTimeout arms it again", async (t) => {
  const r = await connected(t);
  if (!r) return;
  const { d, c } = r;
  let n = 0;
  const cb = () => { n++; };
  c.setTimeout(50, cb);
  c.setTimeout(0, cb);
  assert.equal(c.listenerCount("timeout"), 0, "callback removed");
  assert.equal(c.timeout, 0, "node:net reports 0");
  let m = 0;
  c.on("timeout", () => { m++; });
  await d.pump.run({ maxMs: 500 });
  assert.deepEqual([n, m], [0, 0]);
  c.setTimeout(50);
  await d.pump.run({ maxMs: 500 });
  assert.equal(m, 1);
  c.destroy();
  assert.doesNotThrow(() => c.setTimeout(-5), "a destroyed socket ignores setTimeout, as node:net");
  await d.close();
});

test("setTimeout validates like node:net: same error classes, codes and messages", async (t) => {
  const r = await connected(t);
  if (!r) return;
  const { d, c } = r;
  const node = new net.Socket();
  const catchOf = (fn: () => void): { name: string; code?: string; message: string } | null => {
    try {
      fn();
      return null;
    } catch (e) {
      const err = e as Error & { code?: string };
      return { name: err.constructor.name, code: err.code, message: err.message };
    }
  };
  const values: unknown[] = [-1, -0.5, NaN, Infinity, -Infinity, -1e10, "100", null, undefined, 1n, true, {}, [], () => 1, Symbol("s")];
  for (const v of values) {
    const want = catchOf(() => node.setTimeout(v as number));
    assert.ok(want, `node:net rejects ${String(v)}`);
    assert.deepEqual(catchOf(() => c.setTimeout(v as number)), want, `setTimeout(${String(v)})`);
  }
  for (const cb of ["notfn", 5, {}]) {
    const want = catchOf(() => node.setTimeout(0, cb as never));
    assert.deepEqual(catchOf(() => c.setTimeout(0, cb as never)), want, `callback ${String(cb)}`);
  }
  node.destroy();
  c.destroy();
  await d.close();
});

test("setTimeout above 2^31 − 1 ms: TimeoutOverflowWarning and 2^31 − 1, as Node", async (t) => {
  const r = await connected(t);
  if (!r) return;
  const { d, c } = r;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    c.setTimeout(2 ** 31 + 5);
    await new Promise((res) => setImmediate(res));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].name, "TimeoutOverflowWarning");
    assert.equal(warnings[0].message, "2147483653 does not fit into a 32-bit signed integer.\nTimer duration was truncated to 2147483647.");
    assert.equal(c.timeout, 2 ** 31 + 5);
    const at = d.a.driver.nextDueUs();
    assert.ok(at <= d.clock.nowUs() + 2147483647 * 1000, "the timer runs at 2^31 − 1 ms");
  } finally {
    process.off("warning", onWarning);
    c.destroy();
    await d.close();
  }
});
