// Impairment wrapper (host/link/impair.ts): the userspace netem between the stack and a
// real device. Here the "device" is one end of a fault-free in-memory wire (or a fake
// device that records how it is waited on), so everything runs on virtual time without
// root; the TAP run against the kernel is in interop-kernel.test.ts. Every faulty run
// logs its seed.
//
//   stack side                     ImpairLink                  device (inner)        kernel side
//   impair.send ──► txq (faults) ──► inner.send ──► memory wire (clean) ──► kern.receiveInto
//   impair.receiveInto ◄── rxq (faults) ◄── inner.receiveInto ◄── memory wire ◄── kern.send

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { realClock, VirtualClock } from "../../host/link/clock.ts";
import { createMemoryPair, type MemoryLink } from "../../host/link/memory.ts";
import { type FaultOptions } from "../../host/link/faults.ts";
import { ImpairLink } from "../../host/link/impair.ts";
import { LinkBase, type Link } from "../../host/link/link.ts";
import { Stack, pumpStacks } from "../../host/stack.ts";
import { coreSkipReason, coreWasm, pattern } from "./stack-kit.ts";

/** A frame carrying `id` at bytes 14..17 (after the MACs and a local experimental EtherType). */
function frame(id: number, len = 64): Uint8Array {
  const f = new Uint8Array(len);
  f.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]);
  new DataView(f.buffer).setUint32(14, id);
  for (let i = 18; i < len; i++) f[i] = (id * 7 + i) & 255;
  return f;
}
const idOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset).getUint32(14);
const hex = (f: Uint8Array): string => Buffer.from(f).toString("hex");

const mem = new WebAssembly.Memory({ initial: 1 });
const slot = new Uint8Array(mem.buffer, 4096, 1518);

type Delivery = string; // "id@µs:hex"

function drainInto(link: Link, clock: VirtualClock, out: Delivery[]): void {
  for (let n = link.receiveInto(slot), guard = 0; n > 0 && guard < 10_000; n = link.receiveInto(slot), guard++) {
    out.push(`${idOf(slot)}@${clock.nowUs()}:${hex(slot.subarray(0, n))}`);
  }
}

const MIX: FaultOptions = { loss: 0.05, duplicate: 0.03, reorder: 0.1, reorderUs: 700, corrupt: 0.02, delayUs: 300, jitterUs: 250, bandwidthBps: 20_000_000 };

/**
 * Sends `count` frames with `send`, one every `gapUs`, visiting every due time of
 * `due()` in between and calling `service()` there; then runs the clock until `due()`
 * says nothing is held (bounded).
 */
function drive(clock: VirtualClock, count: number, gapUs: number, send: (i: number) => void, due: () => number, service: () => void): void {
  for (let i = 0; i < count; i++) {
    send(i);
    service();
    const nextSend = clock.nowUs() + gapUs;
    for (let next = due(), g = 0; next >= 0 && next < nextSend && g < 10_000; next = due(), g++) {
      clock.setUs(next);
      service();
    }
    clock.setUs(nextSend);
    service();
  }
  for (let g = 0; g < 100_000 && due() >= 0; g++) {
    clock.setUs(due());
    service();
  }
  assert.equal(due(), -1, "nothing left in flight");
}

/** The wrapper over a clean memory wire: [impair (stack side), kernel side]. */
function wrapped(clock: VirtualClock, seed: number, faults: FaultOptions, t?: { diagnostic(m: string): void }): { impair: ImpairLink; kern: MemoryLink; dev: MemoryLink } {
  const wire = createMemoryPair({ clock, names: ["dev", "kern"] });
  const impair = new ImpairLink(wire.a, { clock, seed, faults });
  t?.diagnostic(impair.describe());
  return { impair, kern: wire.b, dev: wire.a };
}

test("link-impair: same seed and faults as the in-memory wire give the same deliveries, in both directions (one fault model)", (t) => {
  for (const seed of [5, 77]) {
    // stack -> device: impair.send, seen by the kernel side.
    const c1 = new VirtualClock(1000);
    const w = wrapped(c1, seed, MIX, t);
    const got: Delivery[] = [];
    drive(c1, 600, 90, (i) => w.impair.send(frame(i, 60 + (i % 900))), () => w.impair.nextDeliveryAt(), () => {
      drainInto(w.impair, c1, []); // a tick: flushes the due TX frames
      drainInto(w.kern, c1, got);
    });
    const c2 = new VirtualClock(1000);
    const ref = createMemoryPair({ clock: c2, seed, faults: MIX });
    const want: Delivery[] = [];
    drive(c2, 600, 90, (i) => ref.a.send(frame(i, 60 + (i % 900))), () => ref.b.nextDeliveryAt(), () => drainInto(ref.b, c2, want));
    assert.ok(got.length > 500);
    assert.deepEqual(got, want, `seed ${seed}: stack -> device`);
    assert.deepEqual(w.impair.stats().wireTx, ref.a.txWireStats());

    // device -> stack: the kernel side sends, the stack reads through the wrapper.
    const c3 = new VirtualClock(1000);
    const w3 = wrapped(c3, seed, MIX);
    const got3: Delivery[] = [];
    drive(c3, 600, 90, (i) => w3.kern.send(frame(i, 60 + (i % 900))), () => w3.impair.nextDeliveryAt(), () => drainInto(w3.impair, c3, got3));
    const c4 = new VirtualClock(1000);
    const ref4 = createMemoryPair({ clock: c4, seed, faults: MIX });
    const want4: Delivery[] = [];
    drive(c4, 600, 90, (i) => ref4.b.send(frame(i, 60 + (i % 900))), () => ref4.a.nextDeliveryAt(), () => drainInto(ref4.a, c4, want4));
    assert.deepEqual(got3, want4, `seed ${seed}: device -> stack`);
    const s = w3.impair.stats();
    assert.deepEqual(s.wireRx, ref4.a.rxWireStats());
    assert.ok(s.wireRx.lost > 0 && s.wireRx.duplicated > 0 && s.wireRx.reordered > 0 && s.wireRx.corrupted > 0, `every fault happened: ${JSON.stringify(s.wireRx)}`);
    assert.equal(s.device.rxFrames, 600, "the wrapper read every frame from the device");
  }
});

test("link-impair: a delayed frame moves exactly at its due time, never earlier, in both directions", () => {
  const clock = new VirtualClock(2_000_000);
  const { impair, kern } = wrapped(clock, 1, { delayUs: 5000 });
  const s = new Uint8Array(1518);
  assert.equal(impair.send(frame(1)), true);
  assert.equal(kern.send(frame(2)), true);
  assert.equal(impair.nextDeliveryAt(), 2_000_000, "the kernel's frame reached the device; not pulled yet");
  assert.equal(impair.receiveInto(s), 0, "pulled, held 5 ms");
  assert.equal(impair.nextDeliveryAt(), 2_005_000);
  clock.advanceUs(4999);
  assert.equal(impair.receiveInto(s), 0, "not before the delay (stack side)");
  assert.equal(kern.receiveInto(s), 0, "not before the delay (kernel side)");
  clock.advanceUs(1);
  assert.equal(impair.receiveInto(s), 64, "exactly at the delay");
  assert.equal(idOf(s), 2);
  assert.equal(kern.receiveInto(s), 64, "the tick flushed the held TX frame at its due time");
  assert.equal(idOf(s), 1);
  assert.equal(impair.nextDeliveryAt(), -1);
  // Without delay a sent frame goes straight through, inside send().
  const z = wrapped(new VirtualClock(), 1, {});
  z.impair.send(frame(3));
  assert.equal(z.kern.receiveInto(s), 64);
  assert.equal(idOf(s), 3);
});

test("link-impair: faultsTx and faultsRx set each direction; bandwidth serialises", (t) => {
  const clock = new VirtualClock();
  const wire = createMemoryPair({ clock });
  const impair = new ImpairLink(wire.a, { clock, seed: 3, faults: { delayUs: 1000 }, faultsTx: { loss: 1 }, faultsRx: { bandwidthBps: 1_000_000 } });
  t.diagnostic(impair.describe());
  assert.match(impair.describe(), /seed=3 tx=\{"loss":1,.*"delayUs":1000.* rx=\{"loss":0,.*"bandwidthBps":1000000/);
  for (let i = 0; i < 5; i++) impair.send(frame(i));
  for (let i = 0; i < 3; i++) wire.b.send(frame(10 + i, 1250)); // 10 ms each at 1 Mbit/s
  const got: Delivery[] = [];
  drive(clock, 0, 0, () => undefined, () => impair.nextDeliveryAt(), () => drainInto(impair, clock, got));
  assert.deepEqual(got.map((d) => d.split(":")[0]), ["10@11000", "11@21000", "12@31000"]);
  assert.equal(wire.b.receiveInto(slot), 0, "loss 1 on TX: nothing reached the kernel side");
  assert.equal(impair.stats().wireTx.lost, 5);
});

test("link-impair: setFaults changes the faults of later frames only (like tc qdisc change)", (t) => {
  const clock = new VirtualClock();
  const { impair, kern } = wrapped(clock, 4, { delayUs: 2000 }, t);
  const s = new Uint8Array(1518);
  impair.send(frame(1)); // held 2 ms
  impair.setFaults({ faultsRx: { loss: 1 } });
  t.diagnostic(impair.describe());
  assert.equal(impair.faultsTx.delayUs, 0, "what is not given is off");
  assert.equal(impair.faultsRx.loss, 1);
  impair.send(frame(2)); // no delay any more: straight through
  assert.equal(kern.receiveInto(s), 64);
  assert.equal(idOf(s), 2);
  clock.advanceUs(2000);
  impair.receiveInto(s);
  assert.equal(kern.receiveInto(s), 64, "the frame in flight kept its schedule");
  assert.equal(idOf(s), 1);
  kern.send(frame(3));
  assert.equal(impair.receiveInto(s), 0, "RX now loses everything");
  assert.equal(impair.stats().wireRx.lost, 1);
  assert.throws(() => impair.setFaults({ faults: { reorder: -1 } }), /faultsTx\.reorder/);
  assert.equal(impair.faultsRx.loss, 1, "a rejected change changes nothing");
});

/** A device that records how it is waited on; `onWait` decides what a wait does. */
class FakeDevice extends LinkBase {
  readonly kind = "fake";
  readonly name = "fake0";
  readonly mtu = 1500;
  readonly mac = Uint8Array.from([2, 0, 0, 0, 0, 0x0c]);
  readonly incoming: Uint8Array[] = [];
  readonly sent: string[] = [];
  readonly waits: number[] = [];
  interrupts = 0;
  private wake: ((v: boolean) => void) | null = null;
  constructor(private readonly clock: VirtualClock, public onWait: (ms: number, n: number) => Promise<boolean> | boolean) {
    super();
  }
  protected readFrame(s: Uint8Array): number {
    const f = this.incoming.shift();
    if (!f) return 0;
    s.set(f);
    return f.length;
  }
  protected writeFrame(f: Uint8Array): boolean {
    this.sent.push(`${idOf(f)}@${this.clock.nowUs()}`);
    return true;
  }
  /** Resolves the pending wait (as poll(2) returning). */
  release(v: boolean): void {
    const w = this.wake;
    this.wake = null;
    w?.(v);
  }
  /** A wait that lasts until release() or interrupt(). */
  blocked(): Promise<boolean> {
    return new Promise((r) => { this.wake = r; });
  }
  waitReadable(ms: number): Promise<boolean> {
    this.waits.push(ms);
    return Promise.resolve(this.onWait(ms, this.waits.length));
  }
  interrupt(): void {
    this.interrupts++;
    this.release(false);
  }
  close(): Promise<void> {
    this.isClosed = true;
    this.release(false);
    return Promise.resolve();
  }
}

test("link-impair: an idle wait sleeps until the next held frame falls due, and only that long (no busy polling)", async () => {
  const clock = new VirtualClock(1_000_000);
  // The fake "sleeps" by moving the virtual clock by the requested time (as poll(2) would
  // let real time pass), then reports not readable.
  const dev = new FakeDevice(clock, (ms) => {
    if (ms > 0) clock.advanceUs(ms * 1000);
    return false;
  });
  const impair = new ImpairLink(dev, { clock, seed: 1, faultsRx: { delayUs: 7300 }, faultsTx: { delayUs: 2500 } });
  dev.incoming.push(frame(1));
  assert.equal(await impair.waitReadable(Infinity), true, "resolves when the received frame is due");
  assert.deepEqual(dev.waits, [8], "one sleep of ceil(7.3 ms), pulled at once");
  assert.equal(clock.nowUs(), 1_008_000);
  assert.equal(impair.receiveInto(slot), 64);

  // A held TX frame: the wait wakes at its due time, hands it to the device, sleeps on.
  dev.waits.length = 0;
  impair.send(frame(2));
  assert.deepEqual(dev.sent, [], "held 2.5 ms");
  dev.onWait = (ms, n) => {
    if (n === 2) {
      dev.incoming.push(frame(3)); // the second sleep ends with a frame from the kernel
      return true;
    }
    clock.advanceUs(ms * 1000);
    return false;
  };
  assert.equal(await impair.waitReadable(-1), true);
  assert.deepEqual(dev.waits, [3, -1, 8], "slept 3 ms (the TX due time), then without a timeout until the kernel's frame came, then ceil(7.3 ms)");
  assert.deepEqual(dev.sent, ["2@1011000"], "the held frame left during the wait, at its due time");
  assert.equal(clock.nowUs(), 1_019_000);
  assert.equal(impair.receiveInto(slot), 64);
  assert.equal(idOf(slot), 3);
  assert.equal(impair.stats().dueWakeups, 3);
  // timeout 0 only checks: no sleep at all.
  dev.waits.length = 0;
  assert.equal(await impair.waitReadable(0), false);
  assert.deepEqual(dev.waits, []);
});

test("link-impair: interrupt, a newer wait and close end a pending wait (resolving false)", async () => {
  const clock = new VirtualClock();
  const dev: FakeDevice = new FakeDevice(clock, () => dev.blocked());
  const impair = new ImpairLink(dev, { clock, seed: 1 });
  const w1 = impair.waitReadable(Infinity);
  await Promise.resolve();
  impair.interrupt();
  assert.equal(await w1, false, "interrupt");
  const w2 = impair.waitReadable(Infinity);
  await Promise.resolve();
  const w3 = impair.waitReadable(Infinity);
  assert.equal(await w2, false, "a newer wait ends the older one");
  await Promise.resolve();
  // A frame arriving ends the newer wait with true.
  dev.incoming.push(frame(9));
  dev.release(true);
  assert.equal(await w3, true);
  assert.equal(impair.receiveInto(slot), 64);
  const w4 = impair.waitReadable(Infinity);
  await Promise.resolve();
  await impair.close();
  assert.equal(await w4, false, "close");
  assert.equal(dev.closed, true, "closing the wrapper closes the device");
  assert.equal(impair.receiveInto(slot), 0);
  assert.equal(impair.send(frame(1)), false);
  assert.equal(await impair.waitReadable(Infinity), false);
  await impair.close();
});

test("link-impair: a delayed frame wakes a real-clock wait on time (between due and due + 1 s), in few sleeps", async () => {
  const wire = createMemoryPair({ clock: realClock, names: ["dev", "kern"] });
  let sleeps = 0;
  const inner = wire.a;
  const counting: Link = Object.create(inner, { waitReadable: { value: (ms: number) => { sleeps++; return inner.waitReadable(ms); } } });
  const impair = new ImpairLink(counting, { clock: realClock, seed: 1, faultsRx: { delayUs: 20_000 } });
  const t0 = realClock.nowUs();
  wire.b.send(frame(1));
  const ok = await impair.waitReadable(5000);
  const waitedUs = realClock.nowUs() - t0;
  assert.equal(ok, true);
  assert.ok(waitedUs >= 20_000, `not before the 20 ms delay (${waitedUs} µs)`);
  assert.ok(waitedUs < 1_020_000, `not much after it (${waitedUs} µs)`);
  assert.ok(sleeps <= 4, `slept ${sleeps} times, no polling loop`);
  assert.equal(impair.receiveInto(new Uint8Array(1518)), 64);
  await impair.close();
  await wire.b.close();
});

test("link-impair: bad options are rejected with the option's name", () => {
  const { a } = createMemoryPair();
  assert.throws(() => new ImpairLink(a, { faults: { loss: 2 } }), /faultsTx\.loss must be a probability/);
  assert.throws(() => new ImpairLink(a, { faultsRx: { delayUs: -1 } }), /faultsRx\.delayUs/);
  assert.throws(() => new ImpairLink(a, { faults: { drop: 1 } as FaultOptions }), /unknown fault option "drop"/);
  assert.throws(() => new ImpairLink(a, { seed: 0.5 }), /seed must be an integer/);
  assert.throws(() => new ImpairLink(a, { pullBatch: 0 }), /pullBatch/);
  const ok = new ImpairLink(a);
  assert.equal(ok.kind, "impair");
  assert.equal(ok.mtu, a.mtu);
  assert.equal(ok.maxFrameLen, a.maxFrameLen);
  assert.equal(ok.mac, a.mac);
  assert.throws(() => ok.receiveInto(new Uint8Array(100)), RangeError);
  assert.equal(ok.send(new Uint8Array(10)), false, "runt refused");
});

test("link-impair: two stacks, one behind the wrapper at netem's rates (loss 2%, delay 5 ms, reorder 10%, duplicate 1%), move 1 MB each way byte-exact (virtual time)", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const seed = 2607;
  const clock = new VirtualClock(1_000_000);
  const wire = createMemoryPair({ clock });
  const impair = new ImpairLink(wire.a, { clock, seed, faults: { loss: 0.02, delayUs: 5000, reorder: 0.1, duplicate: 0.01 } });
  t.diagnostic(impair.describe());
  const wasm = coreWasm();
  const a = await Stack.create({ link: impair, ipv4: "198.18.0.1/24", clock, wasm });
  const b = await Stack.create({ link: wire.b, ipv4: "198.18.0.2/24", clock, wasm });
  try {
    const pump = pumpStacks(clock, a, b);
    const up = pattern(1 << 20, seed);
    const down = pattern(1 << 20, seed + 1);
    const serverGot: Buffer[] = [];
    b.net.createServer((s) => {
      s.on("data", (d: Buffer) => serverGot.push(d));
      s.on("end", () => s.end(down));
    }).listen(9000);
    const clientGot: Buffer[] = [];
    let done = false;
    const c = a.net.connect(9000, "198.18.0.2", () => c.end(up));
    c.on("data", (d: Buffer) => clientGot.push(d));
    c.on("close", () => { done = true; });
    const r = await pump.run({ until: () => done, maxMs: 600_000 });
    assert.equal(r.reason, "until", `finished within the virtual budget (${r.elapsedMs} ms)`);
    const sha = (x: Uint8Array) => createHash("sha256").update(x).digest("hex");
    assert.equal(sha(Buffer.concat(serverGot)), sha(up));
    assert.equal(sha(Buffer.concat(clientGot)), sha(down));
    const s = impair.stats();
    t.diagnostic(`virtual ${r.elapsedMs} ms; tx ${JSON.stringify(s.wireTx)} rx ${JSON.stringify(s.wireRx)}`);
    for (const w of [s.wireTx, s.wireRx]) assert.ok(w.lost > 0 && w.reordered > 0 && w.duplicated > 0, "both directions were impaired");
    assert.ok(a.stats().tcp.retransmits + b.stats().tcp.retransmits > 0, "losses were repaired");
  } finally {
    await a.close();
    await b.close();
  }
});
