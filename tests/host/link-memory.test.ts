// In-memory link: FIFO behaviour, seeded determinism, each fault kind, bandwidth limit,
// batch reads into WebAssembly.Memory views, waits, close. Virtual time throughout;
// every faulty run logs its seed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../host/link/clock.ts";
import { createMemoryPair, type FaultOptions, type MemoryLink, type MemoryPair, Prng } from "../../host/link/memory.ts";

/** A 64-byte frame a -> b carrying `id` at bytes 14..17 (after the MACs and type). */
function frame(id: number, len = 64): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]); // local experimental EtherType
  new DataView(f.buffer).setUint32(14, id);
  for (let i = 18; i < len; i++) f[i] = (id * 7 + i) & 255;
  return f;
}
const idOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset).getUint32(14);

const mem = new WebAssembly.Memory({ initial: 2 });
/** A receive slot inside WebAssembly.Memory, as the tick loop will pass. */
const slotAt = (offset: number, len = 1518): Uint8Array => new Uint8Array(mem.buffer, offset, len);

interface Delivery {
  id: number;
  atUs: number;
  bytes: string;
}

/** Drains everything `link` can deliver now. */
function drain(link: MemoryLink, clock: VirtualClock, out: Delivery[]): void {
  const slot = slotAt(4096);
  for (let n = link.receiveInto(slot); n > 0; n = link.receiveInto(slot)) {
    out.push({ id: idOf(slot), atUs: clock.nowUs(), bytes: Buffer.from(slot.subarray(0, n)).toString("hex") });
  }
}

/**
 * Sends `count` frames a -> b, one every `gapUs` of virtual time, delivering as it goes,
 * then runs the clock until the wire is empty (bounded). Returns what b received.
 */
function run(pair: MemoryPair, count: number, gapUs = 100, len = 64): Delivery[] {
  const clock = pair.clock as VirtualClock;
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(pair.a.send(frame(i, len)), true, `send ${i}`);
    drain(pair.b, clock, out);
    // Visit every delivery time before the next send, so each frame is seen exactly when due.
    const nextSend = clock.nowUs() + gapUs;
    for (let next = pair.b.nextDeliveryAt(); next >= 0 && next < nextSend; next = pair.b.nextDeliveryAt()) {
      clock.setUs(next);
      drain(pair.b, clock, out);
    }
    clock.setUs(nextSend);
  }
  for (let guard = 0; guard < 100_000 && pair.b.nextDeliveryAt() >= 0; guard++) {
    clock.setUs(pair.b.nextDeliveryAt());
    drain(pair.b, clock, out);
  }
  assert.equal(pair.b.nextDeliveryAt(), -1, "wire drained");
  return out;
}

function faulty(seed: number, faults: FaultOptions, t: { diagnostic(m: string): void }): MemoryPair {
  const pair = createMemoryPair({ clock: new VirtualClock(), seed, faults });
  t.diagnostic(pair.describe());
  return pair;
}

test("link-memory: without faults the wire is FIFO, zero-latency, byte-exact, both ways", () => {
  const pair = createMemoryPair();
  const out = run(pair, 50);
  assert.deepEqual(out.map((d) => d.id), [...Array(50).keys()]);
  for (const d of out) assert.equal(d.bytes, Buffer.from(frame(d.id)).toString("hex"));
  assert.ok(out.every((d, i) => d.atUs === i * 100), "each frame is received at its send time");
  // b -> a
  assert.equal(pair.b.send(frame(7)), true);
  const slot = slotAt(8192);
  assert.equal(pair.a.receiveInto(slot), 64);
  assert.equal(idOf(slot), 7);
  assert.equal(pair.a.receiveInto(slot), 0, "nothing else pending");
  const s = pair.b.stats();
  assert.equal(s.rxFrames, 50);
  assert.equal(s.rxBytes, 50 * 64);
  assert.equal(s.txFrames, 1);
  assert.equal(pair.a.stats().txFrames, 50);
  assert.equal(pair.a.mtu, 1500);
  assert.equal(pair.a.maxFrameLen, 1518);
  assert.equal(pair.a.mac.length, 6);
});

const MIX: FaultOptions = { loss: 0.1, duplicate: 0.05, reorder: 0.1, reorderUs: 700, corrupt: 0.02, delayUs: 300, jitterUs: 250 };

test("link-memory: the same seed gives the same deliveries, another seed others", (t) => {
  const one = run(faulty(1234, MIX, t), 400);
  const again = run(faulty(1234, MIX, t), 400);
  const other = run(faulty(4321, MIX, t), 400);
  assert.deepEqual(again, one);
  assert.notDeepEqual(other.map((d) => `${d.id}@${d.atUs}`), one.map((d) => `${d.id}@${d.atUs}`));
  // Each direction has its own stream: faults on b->a do not shift a->b.
  const pair = faulty(1234, MIX, t);
  for (let i = 0; i < 50; i++) pair.b.send(frame(i));
  assert.deepEqual(run(pair, 400), one);
});

test("link-memory: loss drops the configured share and counts it", (t) => {
  const pair = faulty(7, { loss: 0.25 }, t);
  const out = run(pair, 2000);
  const w = pair.a.txWireStats();
  assert.equal(w.sent, 2000);
  assert.equal(w.lost + out.length, 2000);
  assert.ok(w.lost > 400 && w.lost < 600, `lost ${w.lost} of 2000 at p=0.25`);
  const ids = out.map((d) => d.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "loss alone does not reorder");
  assert.equal(run(faulty(7, { loss: 1 }, t), 100).length, 0, "loss 1 drops everything");
});

test("link-memory: duplication delivers a second copy right after the first", (t) => {
  const all = run(faulty(9, { duplicate: 1 }, t), 20);
  assert.deepEqual(all.map((d) => d.id), [...Array(20).keys()].flatMap((i) => [i, i]));
  assert.ok(all.every((d, i) => i % 2 === 0 || d.bytes === all[i - 1].bytes));
  const pair = faulty(9, { duplicate: 0.1 }, t);
  const some = run(pair, 1000);
  const dup = pair.a.txWireStats().duplicated;
  assert.equal(some.length, 1000 + dup);
  assert.ok(dup > 60 && dup < 140, `duplicated ${dup} of 1000 at p=0.1`);
});

test("link-memory: reordering holds frames back so later ones pass them; nothing is lost", (t) => {
  const pair = faulty(11, { reorder: 0.2, reorderUs: 450 }, t);
  const out = run(pair, 500);
  const ids = out.map((d) => d.id);
  assert.deepEqual([...ids].sort((x, y) => x - y), [...Array(500).keys()], "every frame exactly once");
  let inversions = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i] < ids[i - 1]) inversions++;
  const reordered = pair.a.txWireStats().reordered;
  assert.ok(reordered > 60 && reordered < 140, `reordered ${reordered} of 500 at p=0.2`);
  assert.ok(inversions > 0, "some frames arrive after later ones");
  for (const d of out) {
    const held = d.atUs - d.id * 100;
    assert.ok(held === 0 || held === 450, `frame ${d.id} held ${held} µs (0 or reorderUs)`);
  }
});

test("link-memory: delay and jitter set the delivery time on the virtual clock", (t) => {
  const clock = new VirtualClock(1_000_000);
  const pair = createMemoryPair({ clock, faults: { delayUs: 5000 } });
  pair.a.send(frame(1));
  const slot = slotAt(0);
  assert.equal(pair.b.nextDeliveryAt(), 1_005_000);
  clock.advanceUs(4999);
  assert.equal(pair.b.receiveInto(slot), 0, "not before the delay");
  clock.advanceUs(1);
  assert.equal(pair.b.receiveInto(slot), 64, "exactly at the delay");

  const jp = faulty(3, { delayUs: 1000, jitterUs: 500 }, t);
  const out = run(jp, 300, 1000);
  const lat = out.map((d) => d.atUs - d.id * 1000);
  assert.ok(lat.every((l) => l >= 1000 && l < 1500), "latency within [delay, delay + jitter)");
  assert.ok(new Set(lat).size > 50, "jitter varies the latency");
});

test("link-memory: bandwidth limit serialises frames at the configured rate", (t) => {
  // 1 Mbit/s, 1250-byte frames = 10 000 bits = 10 ms each, all sent at t = 0.
  const pair = faulty(1, { bandwidthBps: 1_000_000 }, t);
  const clock = pair.clock as VirtualClock;
  for (let i = 0; i < 10; i++) assert.ok(pair.a.send(frame(i, 1250)));
  const out: Delivery[] = [];
  for (let guard = 0; guard < 100 && pair.b.nextDeliveryAt() >= 0; guard++) {
    clock.setUs(pair.b.nextDeliveryAt());
    drain(pair.b, clock, out);
  }
  assert.deepEqual(out.map((d) => d.atUs), [...Array(10).keys()].map((k) => (k + 1) * 10_000));
  // Throughput of a long run stays at the limit: 200 frames of 1250 B offered every
  // 5 ms (2 Mbit/s offered) take 2 s to get through 1 Mbit/s.
  const slow = faulty(1, { bandwidthBps: 1_000_000 }, t);
  const got = run(slow, 200, 5000, 1250);
  assert.equal(got.length, 200);
  assert.equal(got[got.length - 1].atUs, 200 * 10_000);
  // Bandwidth plus delay: the delay adds to the serialisation time.
  const bd = faulty(1, { bandwidthBps: 8_000_000, delayUs: 2000 }, t);
  bd.a.send(frame(0, 1000)); // 8000 bits at 8 Mbit/s = 1 ms
  assert.equal(bd.b.nextDeliveryAt(), 3000);
});

test("link-memory: a full queue refuses sends and counts them", (t) => {
  const pair = faulty(1, { delayUs: 1000, queueFrames: 4 }, t);
  for (let i = 0; i < 4; i++) assert.equal(pair.a.send(frame(i)), true);
  assert.equal(pair.a.send(frame(4)), false);
  assert.equal(pair.a.stats().txDropped, 1);
  assert.equal(pair.a.txWireStats().queueFull, 1);
  assert.equal(pair.a.sendBatch([frame(5), frame(6)]), 0, "batch stops at the first refusal");
  (pair.clock as VirtualClock).advanceUs(1000);
  const out: Delivery[] = [];
  drain(pair.b, pair.clock as VirtualClock, out);
  assert.deepEqual(out.map((d) => d.id), [0, 1, 2, 3]);
  assert.equal(pair.a.send(frame(7)), true, "room again once delivered");
});

test("link-memory: corruption flips exactly one bit of a frame", (t) => {
  const pair = faulty(21, { corrupt: 1 }, t);
  const out = run(pair, 200);
  // Corruption alone neither drops nor reorders: out[i] is frame i with one bit flipped
  // (possibly in the id bytes, so compare by position, not by id).
  assert.equal(out.length, 200);
  const flipped = new Set<number>();
  out.forEach((d, i) => {
    const got = Buffer.from(d.bytes, "hex");
    const sent = frame(i);
    let bits = 0;
    for (let k = 0; k < got.length; k++) {
      for (let x = got[k] ^ sent[k]; x; x &= x - 1) bits++;
      if (got[k] !== sent[k]) flipped.add(k);
    }
    assert.equal(bits, 1, `frame ${i}: exactly one bit differs`);
  });
  assert.ok(flipped.size > 20, "the flipped bit lands all over the frame");
  assert.equal(pair.a.txWireStats().corrupted, 200);
});

test("link-memory: receiveBatch fills WebAssembly.Memory slots in place", () => {
  const pair = createMemoryPair();
  const slots = [0, 1, 2, 3, 4, 5].map((i) => slotAt(16384 + i * 2048));
  const lengths = new Uint32Array(6);
  for (let i = 0; i < 4; i++) pair.a.send(frame(i, 60 + i));
  assert.equal(pair.b.receiveBatch(slots, lengths, 1, 5), 4, "stops when the wire is empty");
  assert.deepEqual([...lengths], [0, 60, 61, 62, 63, 0]);
  assert.deepEqual([1, 2, 3, 4].map((i) => idOf(slots[i])), [0, 1, 2, 3]);
  // The bytes are in linear memory itself, at the slot's offset.
  assert.equal(new DataView(mem.buffer).getUint32(16384 + 2048 * 2 + 14), 1);
  for (let i = 0; i < 3; i++) pair.a.send(frame(10 + i));
  assert.equal(pair.b.receiveBatch(slots, lengths, 0, 2), 2, "count bounds the batch");
  assert.equal(pair.b.receiveBatch(slots, lengths), 1);
});

test("link-memory: bad sizes are refused and counted, never thrown from the wire side", () => {
  const pair = createMemoryPair();
  assert.throws(() => pair.b.receiveInto(new Uint8Array(100)), RangeError, "slot smaller than maxFrameLen");
  assert.equal(pair.a.send(new Uint8Array(13)), false, "shorter than an Ethernet header");
  assert.equal(pair.a.send(new Uint8Array(1519)), false, "longer than maxFrameLen");
  assert.equal(pair.a.stats().txDropped, 2);
  assert.throws(() => createMemoryPair({ faults: { loss: 1.5 } }), /loss must be a probability/);
  assert.throws(() => createMemoryPair({ faults: { delayUs: -1 } }), /delayUs/);
  assert.throws(() => createMemoryPair({ faults: { lossy: 1 } as FaultOptions }), /unknown fault option "lossy"/);
  assert.throws(() => createMemoryPair({ mtu: 10 }), /mtu/);
  assert.throws(() => createMemoryPair({ macA: "01:00:5e:00:00:01" }), /multicast/);
  assert.throws(() => createMemoryPair({ seed: 1.5 }), /seed/);
});

test("link-memory: waitReadable resolves on a send, on interrupt, and at once when a frame is due", async () => {
  const pair = createMemoryPair();
  assert.equal(await pair.b.waitReadable(0), false, "timeout 0 only checks");
  const w = pair.b.waitReadable(Infinity);
  pair.a.send(frame(1));
  assert.equal(await w, true, "a send wakes the waiting end");
  assert.equal(await pair.b.waitReadable(Infinity), true, "a due frame resolves at once");
  pair.b.receiveInto(slotAt(0));
  const w2 = pair.b.waitReadable(Infinity);
  pair.b.interrupt();
  assert.equal(await w2, false, "interrupt ends the wait");
  const w3 = pair.b.waitReadable(Infinity);
  const w4 = pair.b.waitReadable(Infinity);
  assert.equal(await w3, false, "a second wait ends the first");
  await pair.b.close();
  assert.equal(await w4, false, "close ends the wait");
});

test("link-memory: after close nothing is received and sends to the closed end vanish", async () => {
  const pair = createMemoryPair();
  pair.a.send(frame(1));
  await pair.b.close();
  await pair.b.close();
  assert.equal(pair.b.closed, true);
  assert.equal(pair.b.receiveInto(slotAt(0)), 0);
  assert.equal(pair.b.send(frame(2)), false);
  assert.equal(pair.a.send(frame(3)), true, "the wire takes it...");
  assert.equal(pair.a.txWireStats().lost, 1, "...and loses it");
  assert.equal(pair.a.txWireStats().inFlight, 0);
});

test("link-memory: the PRNG is deterministic per (seed, stream) and spread over [0, 1)", () => {
  const a = new Prng(42, 1), b = new Prng(42, 1), c = new Prng(42, 2);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(Array.from({ length: 1000 }, () => b.next()), xs);
  assert.notDeepEqual(Array.from({ length: 1000 }, () => c.next()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.notEqual(new Prng(0).nextU32(), 0, "seed 0 still gives a live stream");
});
