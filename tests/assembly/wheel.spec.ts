// Unit specs of the timer wheel V2 (and, where marked, the V1 list through the same
// facade). Test ids from the mission (SPEC §3) are kept in the names.

import { TimerWheel, WHEEL_SLOTS } from "../../assembly/time/wheel";
import { Timers } from "../../assembly/time/timers";
import {
  TimerNode, TIMER_NODE_SIZE, timerInit, timerIsActive, TIMER_KIND_TEST, NO_TIMER, LEVEL_IDLE,
} from "../../assembly/time/timer";

const N: i32 = 20000;
const NODES: usize = heap.alloc(<usize>N * TIMER_NODE_SIZE);
const firedAt = new StaticArray<u64>(N);
const fireCount = new StaticArray<u32>(N);
let totalFired: u32 = 0;

// What the handler does besides recording (set per test).
const ACT_NONE = 0;
const ACT_RESCHEDULE_SELF = 1; // periodic: reschedule self with `actArg` until actLimit fires
const ACT_CANCEL_PARTNER = 2; // cancel node (idx ^ 1)
const ACT_SCHEDULE_ZERO = 3; // schedule node actArg with delay 0
let action = ACT_NONE;
let actArg: u64 = 0;
let actLimit: u32 = 0;

let W: TimerWheel = changetype<TimerWheel>(0);
let T: Timers = changetype<Timers>(0);
let usingFacade = false;

@inline function node(i: i32): usize {
  return NODES + <usize>i * TIMER_NODE_SIZE;
}
@inline function idx(p: usize): i32 {
  return <i32>((p - NODES) / TIMER_NODE_SIZE);
}
function now(): u64 {
  return usingFacade ? T.now : W.elapsed;
}
function sched(p: usize, d: u64): void {
  if (usingFacade) T.schedule(p, d); else W.schedule(p, d);
}
function cancel(p: usize): void {
  if (usingFacade) T.cancel(p); else W.cancel(p);
}

function onFire(p: usize): void {
  const i = idx(p);
  firedAt[i] = now();
  fireCount[i]++;
  totalFired++;
  if (action == ACT_RESCHEDULE_SELF && fireCount[i] < actLimit) sched(p, actArg);
  else if (action == ACT_CANCEL_PARTNER) cancel(node(i ^ 1));
  else if (action == ACT_SCHEDULE_ZERO && i != <i32>actArg) sched(node(<i32>actArg), 0);
}

function reset(start: u64): void {
  for (let i = 0; i < N; i++) {
    timerInit(node(i), TIMER_KIND_TEST, <u32>i);
    firedAt[i] = u64.MAX_VALUE;
    fireCount[i] = 0;
  }
  totalFired = 0;
  action = ACT_NONE;
  usingFacade = false;
  W = new TimerWheel(start, onFire);
}

function resetFacade(useWheel: bool, start: u64): void {
  reset(start);
  usingFacade = true;
  T = new Timers(useWheel, start, onFire);
}

describe("TimerNode", () => {
  test("layout is 24 bytes with fields at the documented offsets", () => {
    expect(TIMER_NODE_SIZE).toBe(24);
    expect(offsetof<TimerNode>("next")).toBe(0);
    expect(offsetof<TimerNode>("prev")).toBe(4);
    expect(offsetof<TimerNode>("expiresAt")).toBe(8);
    expect(offsetof<TimerNode>("owner")).toBe(16);
    expect(offsetof<TimerNode>("kind")).toBe(20);
    expect(offsetof<TimerNode>("level")).toBe(21);
    expect(offsetof<TimerNode>("slot")).toBe(22);
  });
});

describe("TimerWheel V2", () => {
  test("UT-WHEEL-1 schedule/fire/cancel: a +10 ms timer fires exactly at +10", () => {
    reset(1000);
    W.schedule(node(0), 10);
    expect(W.nextExpiration()).toBe(10);
    for (let i = 0; i < 9; i++) W.tick();
    expect(fireCount[0]).toBe(0, "fired early");
    expect(W.nextExpiration()).toBe(1);
    expect(W.tick()).toBe(1);
    expect(firedAt[0]).toBe(1010);
    expect(fireCount[0]).toBe(1);
    expect(timerIsActive(node(0))).toBe(false);
    expect(W.active).toBe(0);
    expect(W.nextExpiration()).toBe(NO_TIMER);
    // cancel: never fires; cancel of an idle node is a no-op
    W.schedule(node(1), 10);
    W.cancel(node(1));
    W.cancel(node(1));
    W.cancel(node(2));
    expect(W.active).toBe(0);
    W.tickTo(2000);
    expect(fireCount[1]).toBe(0);
    expect(totalFired).toBe(1);
  });

  test("UT-WHEEL-2 bitmask search skips 200 empty level-0 slots without scanning", () => {
    reset(0);
    W.schedule(node(0), 201);
    expect(W.findNext(0, 1)).toBe(201);
    expect(W.findNext(0, 202)).toBe(201, "wraps around to slot 201");
    const visitedBefore = W.visited;
    W.tickTo(300);
    expect(W.visited - visitedBefore).toBe(1, "exactly one tick processed for one occupied slot");
    expect(firedAt[0]).toBe(201);
    // findNext in every mask word, including wrap from the last word
    reset(0);
    for (let s = 1; s < 256; s += 63) {
      W.schedule(node(s), <u64>s);
    }
    expect(W.findNext(0, 2)).toBe(64);
    expect(W.findNext(0, 65)).toBe(127);
    expect(W.findNext(0, 128)).toBe(190);
    expect(W.findNext(0, 191)).toBe(253);
    expect(W.findNext(0, 254)).toBe(1);
    expect(W.findNext(0, 256)).toBe(1);
    expect(W.findNext(1, 0)).toBe(-1);
  });

  test("UT-WHEEL-3 cascading: +1000 ms moves L1 → L0 and fires on time; L2 and L3 too", () => {
    reset(0);
    W.schedule(node(0), 1000);
    expect(W.levelOf(node(0))).toBe(1);
    W.tickTo(767);
    expect(W.levelOf(node(0))).toBe(1);
    W.tick(); // 768 = 3·256: slot boundary of level 1 holding 1000
    expect(W.levelOf(node(0))).toBe(0);
    expect(W.last.cascaded).toBe(1);
    W.tickTo(999);
    expect(fireCount[0]).toBe(0);
    W.tick();
    expect(firedAt[0]).toBe(1000);

    reset(7);
    W.schedule(node(1), 100000); // level 2
    W.schedule(node(2), 20000000); // level 3
    W.schedule(node(3), 4294967295); // level 3, the largest delay
    expect(W.levelOf(node(1))).toBe(2);
    expect(W.levelOf(node(2))).toBe(3);
    expect(W.levelOf(node(3))).toBe(3);
    W.tickTo(100006);
    expect(fireCount[1]).toBe(0);
    W.tick();
    expect(firedAt[1]).toBe(100007);
    W.tickTo(20000006);
    expect(fireCount[2]).toBe(0);
    W.tickTo(20000007);
    expect(firedAt[2]).toBe(20000007);
    W.tickTo(4294967301);
    expect(fireCount[3]).toBe(0);
    W.tickTo(4294967302);
    expect(firedAt[3]).toBe(4294967302);
    expect(W.totalCascaded).toBeGreaterThanOrEqual(5);
  });

  test("UT-WHEEL-4 zero delay is clamped to 1 and never fires in the slot being processed", () => {
    reset(50);
    W.schedule(node(0), 0);
    expect(W.nextExpiration()).toBe(1);
    W.tick();
    expect(firedAt[0]).toBe(51);
    // from inside a handler: node 0 fires at 52 and schedules node 5 with delay 0
    action = ACT_SCHEDULE_ZERO;
    actArg = 5;
    W.schedule(node(0), 1);
    expect(W.tick()).toBe(1, "only node 0 fires in this tick");
    expect(fireCount[5]).toBe(0);
    expect(W.tick()).toBe(1);
    expect(firedAt[5]).toBe(53);
  });

  test("UT-WHEEL-5 tickTo bulk advance over many expired slots fires each timer at its tick", () => {
    reset(3);
    for (let i = 0; i < 10000; i++) W.schedule(node(i), <u64>(1 + (i * 7919) % 70000));
    expect(W.tickTo(3 + 70000)).toBe(10000);
    let wrong = 0;
    for (let i = 0; i < 10000; i++) {
      if (firedAt[i] != <u64>(3 + 1 + (i * 7919) % 70000) || fireCount[i] != 1) wrong++;
    }
    expect(wrong).toBe(0);
    expect(W.active).toBe(0);
    expect(W.nextExpiration()).toBe(NO_TIMER);
  });

  test("UT-WHEEL-6 wraparound across the 2^64 tick boundary", () => {
    const start: u64 = u64.MAX_VALUE - 99; // 2^64 − 100
    reset(start);
    const delays: u64[] = [1, 99, 100, 101, 150, 255, 256, 70000, 20000000, 4294967295];
    for (let i = 0; i < delays.length; i++) W.schedule(node(i), delays[i]);
    expect(W.nextExpiration()).toBe(1);
    W.tickTo(start + 100); // = 0
    expect(W.elapsed).toBe(0);
    expect(fireCount[2]).toBe(1);
    expect(firedAt[1]).toBe(u64.MAX_VALUE);
    expect(W.nextExpiration()).toBe(1);
    W.tickTo(start + 4294967295);
    let wrong = 0;
    for (let i = 0; i < delays.length; i++) if (firedAt[i] != start + delays[i] || fireCount[i] != 1) wrong++;
    expect(wrong).toBe(0);
  });

  test("cascade boundaries 255/256, 65535/65536 and 2^24 ± 1 fire exactly, from many start ticks", () => {
    const starts: u64[] = [0, 1, 255, 256, 257, 65535, 65536, 16777215, 16777216, 123456789, 4294967295, 4294967296];
    const delays: u64[] = [1, 254, 255, 256, 257, 511, 512, 65535, 65536, 65537, 16777215, 16777216, 16777217, 4294967294, 4294967295];
    let wrong = 0;
    for (let a = 0; a < starts.length; a++) {
      reset(starts[a]);
      for (let i = 0; i < delays.length; i++) W.schedule(node(i), delays[i]);
      // the level chosen is the lowest whose range holds the delay
      for (let i = 0; i < delays.length; i++) {
        const d = delays[i];
        const want: u8 = d < 256 ? 0 : d < 65536 ? 1 : d < 16777216 ? 2 : 3;
        if (W.levelOf(node(i)) != want) wrong++;
      }
      // step to each expiry − 1 and to each expiry exactly
      for (let i = 0; i < delays.length; i++) {
        const e = starts[a] + delays[i];
        W.tickTo(e - 1);
        if (fireCount[i] != 0) wrong++;
        if (W.nextExpiration() != 1) wrong++;
        W.tick();
        if (fireCount[i] != 1 || firedAt[i] != e) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });

  test("delays above u32 max are clamped; rescheduling an active timer cancels it first", () => {
    reset(10);
    W.schedule(node(0), u64.MAX_VALUE);
    expect(changetype<TimerNode>(node(0)).expiresAt).toBe(10 + <u64>u32.MAX_VALUE);
    W.schedule(node(1), 500);
    W.schedule(node(1), 20);
    expect(W.active).toBe(2);
    W.tickTo(1000);
    expect(fireCount[1]).toBe(1);
    expect(firedAt[1]).toBe(30);
  });

  test("tickTo to the past or to now is a no-op", () => {
    reset(5000);
    W.schedule(node(0), 3);
    expect(W.tickTo(4000)).toBe(0);
    expect(W.tickTo(5000)).toBe(0);
    expect(W.elapsed).toBe(5000);
    expect(W.nextExpiration()).toBe(3);
  });

  test("a handler may reschedule its own timer (periodic)", () => {
    reset(0);
    action = ACT_RESCHEDULE_SELF;
    actArg = 300; // crosses the level-0/1 boundary each round
    actLimit = 10;
    W.schedule(node(0), 300);
    W.tickTo(2999);
    expect(fireCount[0]).toBe(9);
    W.tickTo(3000);
    expect(fireCount[0]).toBe(10);
    expect(firedAt[0]).toBe(3000);
    expect(W.active).toBe(0);
  });

  test("a handler may cancel another timer of the slot being processed", () => {
    reset(0);
    action = ACT_CANCEL_PARTNER;
    for (let i = 0; i < 8; i++) W.schedule(node(i), 40); // 4 pairs, same slot
    W.tickTo(40);
    expect(totalFired).toBe(4, "exactly one of each pair fires");
    for (let i = 0; i < 8; i += 2) expect(fireCount[i] + fireCount[i + 1]).toBe(1);
    expect(W.active).toBe(0);
    // same through a cascade: partners land together in level 0 at the boundary
    reset(0);
    action = ACT_CANCEL_PARTNER;
    W.schedule(node(0), 1000);
    W.schedule(node(1), 1000);
    W.tickTo(5000);
    expect(totalFired).toBe(1);
  });

  test("nextExpiration is exact when the earliest timer sits in a higher level", () => {
    reset(250);
    W.schedule(node(0), 300); // e = 550 → level 1
    W.schedule(node(1), 200); // e = 450 → level 0
    expect(W.nextExpiration()).toBe(200);
    reset(0);
    W.schedule(node(0), 70000); // level 2, e = 70000
    // Both in level-1 slot 253 (64 768 ≤ e < 65 024), so the slot's cached minimum is
    // the one the cancel has to invalidate (a different slot would not exercise it).
    W.schedule(node(1), 65000); // level 1, e = 65000
    W.schedule(node(2), 65010);
    expect(<u32>changetype<TimerNode>(node(1)).slot).toBe(<u32>changetype<TimerNode>(node(2)).slot);
    expect(W.nextExpiration()).toBe(65000);
    W.cancel(node(1));
    expect(W.nextExpiration()).toBe(65010, "cached minimum invalidated by cancel");
    W.schedule(node(3), 65005);
    expect(<u32>changetype<TimerNode>(node(3)).slot).toBe(<u32>changetype<TimerNode>(node(2)).slot);
    expect(W.nextExpiration()).toBe(65005, "cached minimum lowered by insert");
    W.tickTo(60000);
    expect(W.nextExpiration()).toBe(5005);
    expect(W.nextEventDistance()).toBeLessThanOrEqual(5005);
  });

  test("cancel leaves no trace: idle level, no mask bit, slot empty", () => {
    reset(0);
    W.schedule(node(0), 77);
    W.cancel(node(0));
    expect(changetype<TimerNode>(node(0)).level).toBe(LEVEL_IDLE);
    expect(W.findNext(0, 0)).toBe(-1);
    expect(W.nextExpiration()).toBe(NO_TIMER);
    expect(W.nextEventDistance()).toBe(NO_TIMER);
  });
});

describe("Timers facade (V1 list and V2 wheel behave the same)", () => {
  test("same firing ticks for the same schedule on V1 and V2", () => {
    const fired1 = new StaticArray<u64>(2000);
    for (let mode = 0; mode < 2; mode++) {
      resetFacade(mode == 1, 100);
      for (let i = 0; i < 2000; i++) T.schedule(node(i), <u64>((i * 104729) % 300000));
      T.tickTo(100 + 300001);
      let wrong = 0;
      for (let i = 0; i < 2000; i++) {
        if (mode == 0) fired1[i] = firedAt[i];
        else if (fired1[i] != firedAt[i]) wrong++;
        const d = <u64>((i * 104729) % 300000);
        if (firedAt[i] != 100 + (d == 0 ? 1 : d)) wrong++;
      }
      expect(wrong).toBe(0);
      expect(T.active).toBe(0);
      expect(T.useWheel).toBe(mode == 1);
    }
  });
});

describe("TimerWheel V2 idle jumps", () => {
  test("tickTo across an idle hour visits no tick when every timer is beyond it", () => {
    reset(0);
    for (let i = 0; i < 1000; i++) W.schedule(node(i), <u64>16777216 + <u64>i * 1000003);
    const before = W.visited;
    W.tickTo(3600000);
    expect(W.visited - before).toBe(0);
    expect(totalFired).toBe(0);
    expect(W.active).toBe(1000);
  });
  test("tickTo across an hour visits one tick per occupied slot, not per elapsed tick", () => {
    reset(0);
    // 10 timers in 10 distinct level-0/1/2 slots within the hour
    const delays: u64[] = [5, 100, 300, 1000, 70000, 100000, 500000, 1000000, 2000000, 3599999];
    for (let i = 0; i < delays.length; i++) W.schedule(node(i), delays[i]);
    const before = W.visited;
    W.tickTo(3600000);
    expect(totalFired).toBe(10);
    // each timer: its firing tick plus at most one cascade visit per level above 0
    expect(W.visited - before).toBeLessThanOrEqual(10 * 3);
    expect(W.visited - before).toBeGreaterThanOrEqual(10);
  });
});

describe("Timers facade counters", () => {
  test("schedule() calls and cancels of active timers are counted on V1 and V2 (idle cancels and expiries are not)", () => {
    for (let mode = 0; mode < 2; mode++) {
      resetFacade(mode == 1, 0);
      T.schedule(node(0), 10);
      T.schedule(node(1), 20);
      T.schedule(node(2), 30);
      T.schedule(node(1), 40); // reschedule: one cancel + one schedule
      T.cancel(node(2));
      T.cancel(node(2)); // idle: free, not counted
      T.tickTo(100); // expiries are counted apart
      expect(T.totalScheduled).toBe(4);
      expect(T.totalCancelled).toBe(2);
      expect(T.totalExpired).toBe(2);
    }
  });
});
