// The tick loop's ring handling against the core module's real rings (no TCP needed):
// RX frames land in the slots with their length and receive time and wrap around
// the ring; TX slots go to the link in order (bad lengths skipped); event records are
// dispatched in order across the ring's end; loop mode sleeps when idle (counted
// steps, not timings) and wakes on a frame or on wake().

import { test } from "node:test";
import assert from "node:assert/strict";
import { StackCore } from "../../host/stack-core.ts";
import { Driver } from "../../host/driver.ts";
import { ABI } from "../../host/abi.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { VirtualClock, realClock } from "../../host/link/clock.ts";

const SLOTS = 8;

async function core(): Promise<StackCore> {
  return StackCore.create({ rxSlots: SLOTS, txSlots: SLOTS, eventRingSize: SLOTS, maxConnections: 4, chunkCount: 16 }, 0n);
}

function frame(id: number, len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]);
  new DataView(f.buffer).setUint32(14, id);
  return f;
}

test("RX: 20 frames through an 8-slot ring in 3 steps, each slot stamped with its length and receive time", async () => {
  const c = await core();
  const clock = new VirtualClock(5_000_000);
  const pair = createMemoryPair({ clock });
  const d = new Driver(c, pair.b, clock, () => undefined, "manual");
  for (let i = 0; i < 20; i++) assert.equal(pair.a.send(frame(i, 60 + i)), true);
  const steps: number[] = [];
  for (let s = 0; s < 5 && d.stats().rxFrames < 20; s++) {
    clock.advanceUs(1000);
    const before = d.stats().rxFrames;
    d.step();
    steps.push(d.stats().rxFrames - before);
  }
  assert.deepEqual(steps, [8, 8, 4], "one ring lap per step");
  assert.equal(Number(c.counters().rxFrames), 20, "the module consumed every frame");
  assert.equal(c.rx.head, 20);
  assert.equal(c.rx.tail, 20);
  // The last lap (frames 16..19) sits in slots 0..3: length and time of its step.
  const v = new DataView(c.memory.buffer);
  for (let i = 16; i < 20; i++) {
    const slot = c.rx.slotAddr(i);
    assert.equal(v.getUint32(slot + ABI.SLOT_LEN_OFF, true), 60 + i);
    assert.equal(v.getBigUint64(slot + ABI.SLOT_TIME_OFF, true), BigInt(clock.nowUs()));
    assert.equal(v.getUint32(slot + ABI.SLOT_HDR_SIZE + 14), i, "frame bytes written straight into the slot");
  }
  await d.close();
});

test("TX: frames the module commits go to the link in order; zero or oversized lengths are skipped", async () => {
  const c = await core();
  const clock = new VirtualClock(0);
  const pair = createMemoryPair({ clock });
  const d = new Driver(c, pair.b, clock, () => undefined, "manual");
  const v = new DataView(c.memory.buffer);
  const cap = c.tx.slotSize - ABI.SLOT_HDR_SIZE;
  const lens = [60, 0, 100, cap + 1, 1514, 64, 70, 80, 90, 61, 62]; // 11 > 8 slots: two laps
  let head = c.tx.head;
  let sent = 0;
  const got: number[] = [];
  const rx = new Uint8Array(2048);
  for (let lap = 0; lap < 2; lap++) {
    const batch = lens.slice(lap * SLOTS, (lap + 1) * SLOTS);
    for (const len of batch) {
      const a = c.tx.slotAddr(head);
      v.setUint32(a + ABI.SLOT_LEN_OFF, len, true);
      if (len > 0 && len <= cap) {
        new Uint8Array(c.memory.buffer, a + ABI.SLOT_HDR_SIZE, len).set(frame(1000 + sent, len));
      }
      head = (head + 1) >>> 0;
      sent++;
    }
    new DataView(c.memory.buffer).setUint32(c.abiBase + ABI.ABI_TX_RING_OFF + ABI.RING_HEAD_OFF, head, true);
    assert.equal(d.flushTx(), batch.length);
    for (let n = pair.a.receiveInto(rx); n > 0; n = pair.a.receiveInto(rx)) got.push(n);
  }
  assert.deepEqual(got, lens.filter((l) => l > 0 && l <= cap));
  assert.equal(c.tx.tail, head, "every slot was given back");
  assert.equal(d.stats().txFrames, got.length);
  await d.close();
});

test("events: records dispatched in order across the ring's end", async () => {
  const c = await core();
  const clock = new VirtualClock(0);
  const pair = createMemoryPair({ clock });
  const seen: number[][] = [];
  const d = new Driver(c, pair.b, clock, (type, h, a0, a1) => seen.push([type, h, a0, a1]), "manual");
  const v = new DataView(c.memory.buffer);
  const evBase = c.events.base;
  let head = c.events.head;
  const want: number[][] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5; i++) {
      const a = evBase + (head & (SLOTS - 1)) * ABI.EVENT_SIZE;
      const rec = [1 + ((round * 5 + i) % 7), 0x80000000 + round * 16 + i, round, 0xfffffff0 + i];
      v.setUint16(a + ABI.EVENT_TYPE_OFF, rec[0], true);
      v.setUint16(a + ABI.EVENT_FLAGS_OFF, 0, true);
      v.setUint32(a + ABI.EVENT_HANDLE_OFF, rec[1], true);
      v.setUint32(a + ABI.EVENT_ARG0_OFF, rec[2], true);
      v.setUint32(a + ABI.EVENT_ARG1_OFF, rec[3], true);
      want.push(rec);
      head = (head + 1) >>> 0;
    }
    v.setUint32(c.abiBase + ABI.ABI_EVENT_RING_OFF + ABI.RING_HEAD_OFF, head, true);
    d.step(0);
  }
  assert.deepEqual(seen, want, "u32 handles and args come through unsigned");
  assert.equal(c.events.tail, head);
  await d.close();
});

test("loop mode: an idle stack sleeps (few steps), wakes for a frame and for wake(); close ends the loop", async () => {
  const c = await core();
  const pair = createMemoryPair({ clock: realClock });
  const d = new Driver(c, pair.b, realClock, () => undefined, "loop");
  d.start();
  const idle = async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); };
  await idle(300);
  const s1 = d.stats();
  // A busy-polling loop would have stepped thousands of times in 300 ms.
  assert.ok(s1.steps <= 10, `idle for 300 ms: ${s1.steps} steps, ${s1.waits} waits`);
  assert.ok(s1.waits >= 1, "the loop waits on the link");
  pair.a.send(frame(1));
  // Bounded wait for the frame to be consumed (generous: shared CI machines).
  for (let i = 0; i < 100 && Number(c.counters().rxFrames) < 1; i++) await idle(20);
  assert.equal(Number(c.counters().rxFrames), 1, "the frame woke the loop and was ticked in");
  const s2 = d.stats();
  d.wake();
  for (let i = 0; i < 100 && d.stats().steps === s2.steps; i++) await idle(20);
  assert.ok(d.stats().steps > s2.steps, "wake() ended the wait");
  await d.close();
  assert.equal(pair.b.closed, true);
  const s3 = d.stats().steps;
  await idle(50);
  assert.equal(d.stats().steps, s3, "no steps after close");
});
