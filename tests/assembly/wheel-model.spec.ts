// Randomized model test of both timer queues (V2 wheel and V1 list) against a simple
// reference model: an array of (active, expiry) per node. Over ≥ 1 000 000 operations
// (schedule, cancel, reschedule, tick, tickTo with jumps of up to hours and beyond,
// tickTo into the past, handlers that reschedule/schedule/cancel) it checks that
//   - every live timer fires exactly once, exactly at its expiry tick;
//   - a cancelled (or rescheduled-away) timer never fires;
//   - nextExpiration() always equals the model's answer;
//   - the active count equals the model's.
// Seeds are fixed and printed. To see it catch a bug, break wheel.ts's cascade (e.g.
// link(p, e + 1)) and run: it reports early/late firings at the first cascade.

import { Timers } from "../../assembly/time/timers";
import { TIMER_NODE_SIZE, timerInit, TIMER_KIND_TEST, NO_TIMER } from "../../assembly/time/timer";

const N: i32 = 256;
const NODES: usize = heap.alloc(<usize>N * TIMER_NODE_SIZE);
const mActive = new StaticArray<bool>(N);
const mExpiry = new StaticArray<u64>(N);
let T: Timers = changetype<Timers>(0);
let rng: u64 = 1;
let errors: u32 = 0;
let firstError: string = "";
let fires: u64 = 0;
let mCount: u32 = 0;
let tickTarget: u64 = 0;
let tickFrom: u64 = 0;

function rand(): u64 {
  // xorshift64*
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545f4914f6cdd1d;
}
@inline function below(n: u64): u64 {
  return rand() % n;
}
@inline function node(i: i32): usize {
  return NODES + <usize>i * TIMER_NODE_SIZE;
}
function fail(msg: string): void {
  if (errors == 0) firstError = msg;
  errors++;
}

function randomDelay(): u64 {
  const r = below(100);
  if (r < 3) return 0; // clamped to 1
  if (r < 40) return 1 + below(300); // level 0 and the 0/1 boundary
  if (r < 70) return below(70000); // level 1 and the 1/2 boundary
  if (r < 85) return below(20000000); // level 2 and the 2/3 boundary
  if (r < 95) return below(4294967296); // anywhere up to u32 max
  if (r < 97) return 4294967295 + below(1000); // clamped to u32 max
  const b: u64[] = [255, 256, 257, 65535, 65536, 65537, 16777215, 16777216, 16777217];
  return b[<i32>below(9)];
}

function modelSchedule(i: i32, d: u64): void {
  if (d == 0) d = 1;
  if (d > 4294967295) d = 4294967295;
  if (!mActive[i]) mCount++;
  mActive[i] = true;
  mExpiry[i] = T.now + d;
}

function onFire(p: usize): void {
  const i = <i32>((p - NODES) / TIMER_NODE_SIZE);
  const now = T.now;
  fires++;
  if (!mActive[i]) { fail("fired a timer the model says is not active, node " + i.toString()); return; }
  if (mExpiry[i] != now) fail("fired at " + now.toString() + " but expires at " + mExpiry[i].toString());
  if (now - tickFrom > tickTarget - tickFrom) fail("fired beyond the tickTo target");
  mActive[i] = false;
  mCount--;
  // Handlers act on the queue too.
  const r = below(100);
  if (r < 20) {
    const d = randomDelay();
    T.schedule(p, d);
    modelSchedule(i, d);
  } else if (r < 30) {
    const j = <i32>below(N);
    const d = randomDelay();
    T.schedule(node(j), d);
    modelSchedule(j, d);
  } else if (r < 40) {
    const j = <i32>below(N);
    T.cancel(node(j));
    if (mActive[j]) mCount--;
    mActive[j] = false;
  }
}

function modelNext(): u64 {
  let best = NO_TIMER;
  const now = T.now;
  for (let i = 0; i < N; i++) {
    if (mActive[i] && mExpiry[i] - now < best) best = mExpiry[i] - now;
  }
  return best;
}

function advance(t: u64): void {
  tickFrom = T.now;
  tickTarget = t;
  T.tickTo(t);
  const span = t - tickFrom;
  if (<i64>span > 0) {
    if (T.now != t) fail("now != target after tickTo");
    // nothing due by t may remain
    for (let i = 0; i < N; i++) {
      if (mActive[i] && mExpiry[i] - tickFrom <= span) { fail("missed timer, node " + i.toString()); break; }
    }
  } else if (T.now != tickFrom) fail("tickTo into the past moved time");
}

function run(useWheel: bool, seed: u64, start: u64, ops: i32): void {
  rng = seed;
  errors = 0;
  fires = 0;
  mCount = 0;
  firstError = "";
  for (let i = 0; i < N; i++) {
    timerInit(node(i), TIMER_KIND_TEST, <u32>i);
    mActive[i] = false;
  }
  T = new Timers(useWheel, start, onFire);
  for (let op = 0; op < ops && errors == 0; op++) {
    const r = below(100);
    if (r < 35) {
      const i = <i32>below(N);
      const d = randomDelay();
      T.schedule(node(i), d); // reschedules when active
      modelSchedule(i, d);
    } else if (r < 50) {
      const i = <i32>below(N);
      T.cancel(node(i));
      if (mActive[i]) mCount--;
      mActive[i] = false;
    } else if (r < 70) {
      advance(T.now + 1);
    } else if (r < 97) {
      const k = below(100);
      let jump: u64;
      if (k < 60) jump = 1 + below(300);
      else if (k < 85) jump = below(70000);
      else if (k < 97) jump = below(3600000); // up to an hour
      else jump = below(1 << 33); // days
      advance(T.now + jump);
    } else {
      advance(T.now - below(1000)); // into the past (or now): no-op
    }
    // after every operation: exact nextExpiration and active count
    const want = modelNext();
    const got = T.nextExpiration();
    if (got != want) fail("op " + op.toString() + ": nextExpiration " + got.toString() + " != model " + want.toString());
    if (T.active != mCount) fail("active " + T.active.toString() + " != model " + mCount.toString());
  }
  log<string>((useWheel ? "V2 wheel" : "V1 list") + " seed=0x" + seed.toString(16) + " start=" + start.toString()
    + " ops=" + ops.toString() + " fires=" + fires.toString() + " errors=" + errors.toString()
    + (errors > 0 ? " first: " + firstError : ""));
}

describe("timer queue model test", () => {
  test("V2 wheel: 1 000 000 random operations match the model (seed 0x9e3779b97f4a7c15)", () => {
    run(true, 0x9e3779b97f4a7c15, 0, 1000000);
    expect(errors).toBe(0);
    expect(fires).toBeGreaterThan(100000);
  });
  test("V2 wheel: 300 000 operations starting just below 2^64 (seed 0xd1b54a32d192ed03)", () => {
    run(true, 0xd1b54a32d192ed03, u64.MAX_VALUE - 5000000, 300000);
    expect(errors).toBe(0);
  });
  test("V2 wheel: 300 000 operations from an unaligned start (seed 0x2545f4914f6cdd1d)", () => {
    run(true, 0x2545f4914f6cdd1d, 0x123456789ab, 300000);
    expect(errors).toBe(0);
  });
  test("V1 list: 1 000 000 random operations match the model (seed 0x9e3779b97f4a7c15)", () => {
    run(false, 0x9e3779b97f4a7c15, 0, 1000000);
    expect(errors).toBe(0);
    expect(fires).toBeGreaterThan(100000);
  });
});
