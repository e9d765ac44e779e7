// Adversarial review of the host ABI (host/abi.ts, host/stack-core.ts) against the
// real module: config values the host mirror writes, hostile ring indices, init
// ordering. Every test documents a property that holds; "Was BUG" marks one that
// reproduced a defect before its fix.

import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate } from "../../host/loader.ts";
import { ABI, ERRORS, writeConfig, readCounters, type StackConfig } from "../../host/abi.ts";
import { StackCore, StackInitError } from "../../host/stack-core.ts";

const SECRET = new Uint8Array(16).fill(7);
const entropy = (n: number) => new Uint8Array(n);

function initCode(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof StackInitError) return e.code;
    throw e;
  }
}

test("values a u32 field holds but the module forbids are rejected by init with the rule's code", async () => {
  const cases: Array<[string, number, number]> = [
    ["maxConnections", 0, ERRORS.E_CONFIG_ZERO],
    ["maxConnections", 2 ** 32 - 1, ERRORS.E_CONFIG_COUNT],
    ["rxSlots", 2 ** 32 - 1, ERRORS.E_CONFIG_NOT_POW2],
    ["shards", 512, ERRORS.E_CONFIG_SHARDS],
    ["slotSize", 2 ** 31, ERRORS.E_CONFIG_SLOT_SIZE],
  ];
  for (const [field, value, code] of cases) {
    const { exports } = await instantiate("release");
    const got = initCode(() => StackCore.init(exports, { [field]: value, secret: SECRET }, 0n));
    assert.equal(got, code, `${field} = ${value}`);
  }
});

// Was BUG (host/abi.ts writeConfig stored `Number(v) >>> 0`): an out-of-range or
// non-integer value was silently reduced mod 2^32 / truncated instead of rejected —
// maxConnections = 2^32 + 8 became 8, rxSlots = 2^32 + 256 became 256, chunkSize =
// 2048.5 became 2048 — and init succeeded with a configuration nobody asked for.
// Fixed: writeConfig throws a RangeError naming the field unless the value is an
// integer the field's u32 slot holds, and writes nothing of a refused config.
test("writeConfig rejects values that are not u32 integers instead of wrapping them (RangeError naming the field)", async () => {
  const cases: Array<[string, unknown]> = [
    ["maxConnections", 2 ** 32 + 8], ["rxSlots", 2 ** 32 + 256], ["chunkSize", 2048.5],
    ["maxConnections", -1], ["maxConnections", Number.NaN], ["maxConnections", 2 ** 32],
    ["timeWaitMs", Number.POSITIVE_INFINITY], ["rcvBuf", -0.5], ["ephemeralLow", "49152"],
    ["ipv4", 2 ** 32 + 1], ["ipv4", 1.5], ["gateway", -(2 ** 31) - 1], ["mac", 2.5], ["mac", 2n ** 64n],
  ];
  for (const [field, value] of cases) {
    const { exports } = await instantiate("release");
    const addr = exports.configAddr() >>> 0;
    const before = new Uint8Array(exports.memory.buffer, addr, ABI.CONFIG_SIZE).slice();
    // A valid field first: a refused config must not be half written.
    const config = { maxListeners: 3, [field]: value, secret: SECRET } as unknown as StackConfig;
    assert.throws(() => writeConfig(exports.memory, addr, config, entropy),
      (e: unknown) => e instanceof RangeError && e.message.includes(field), `${field} = ${String(value)}`);
    assert.deepEqual(new Uint8Array(exports.memory.buffer, addr, ABI.CONFIG_SIZE), before, `${field}: config block untouched`);
    assert.throws(() => StackCore.init(exports, config, 0n), RangeError);
    assert.equal(Number(exports.tick(5n)), -1, `${field}: the module was not initialized`);
  }
  // The edges of the range are accepted and reach the module unchanged.
  const { exports } = await instantiate("release");
  const addr = exports.configAddr() >>> 0;
  writeConfig(exports.memory, addr, { maxConnections: 0xffffffff, chunkSize: 0, ipv4: -1062731774, gateway: 0xc0a80001, secret: SECRET }, entropy);
  const v = new DataView(exports.memory.buffer, addr, ABI.CONFIG_SIZE);
  assert.equal(v.getUint32(ABI.CFG_MAX_CONNECTIONS, true), 0xffffffff);
  assert.equal(v.getUint32(ABI.CFG_CHUNK_SIZE, true), 0);
  assert.equal(v.getUint32(ABI.CFG_IPV4_ADDR, true), 0xc0a80002, "a negative int32 address is the same 32-bit pattern");
  assert.equal(v.getUint32(ABI.CFG_GATEWAY, true), 0xc0a80001);
});

test("a rejected init carves nothing and grows nothing; a corrected config then inits once", async () => {
  const { exports } = await instantiate("release");
  const top0 = exports.heapTop() >>> 0;
  const bytes0 = exports.memory.buffer.byteLength;
  const addr = exports.configAddr() >>> 0;
  const huge = { chunkCount: 32760, chunkSize: 32768, rxSlots: 16384, txSlots: 16384, slotSize: 65528, maxConnections: 3_000_000, maxTimeWait: 1_000_000, secret: SECRET };
  writeConfig(exports.memory, addr, huge, entropy);
  assert.equal(exports.init(0n), ERRORS.E_CONFIG_TOO_LARGE);
  assert.equal(exports.heapTop() >>> 0, top0);
  assert.equal(exports.memory.buffer.byteLength, bytes0);
  assert.equal(Number(exports.tick(5n)), -1, "tick before a successful init");
  writeConfig(exports.memory, addr, { chunkCount: 64, chunkSize: 2048, rxSlots: 4, txSlots: 4, slotSize: 2048, maxConnections: 4, maxTimeWait: 4 }, entropy);
  assert.equal(exports.init(0n), 0);
  assert.equal(exports.init(0n), ERRORS.E_ALREADY_INITIALIZED);
  const v = new DataView(exports.memory.buffer, exports.abiBase() >>> 0, ABI.ABI_BLOCK_SIZE);
  assert.equal(v.getInt32(ABI.ABI_INIT_ERROR_OFF, true), ERRORS.E_ALREADY_INITIALIZED);
  assert.equal(v.getUint32(ABI.ABI_STATE_OFF, true), 1, "still running after the refused second init");
});

test("hostile RX head/tail/len from the host: tick never throws; bad lengths counted; a corrupt head is dropped and resynced, never replayed", async () => {
  const core = await StackCore.create({ rxSlots: 4, secret: SECRET }, 0n);
  const rx = core.rx;
  const top = core.exports.heapTop() >>> 0;
  const lens = [0, 0xffffffff, 2048 - 16 + 1, 0x80000000];
  for (let i = 0; i < 4; i++) new DataView(core.memory.buffer, rx.slotAddr(i), 16).setUint32(ABI.SLOT_LEN_OFF, lens[i], true);
  let now = 1000n;
  // Within one lap: every slot is read, each bad length counted.
  for (const [head, tail] of [[3, 0], [0x80000004, 0x80000000], [1, 0xfffffffe]] as Array<[number, number]>) {
    rx.tail = tail;
    rx.head = head;
    const before = readCounters(core.memory, core.abiBase);
    core.tick((now += 1000n));
    const after = readCounters(core.memory, core.abiBase);
    const n = (head - tail) >>> 0;
    assert.equal(rx.tail, head, `all ${n} slots consumed`);
    assert.equal(after.rxBadLength - before.rxBadLength, BigInt(n), "every slot had a bad length");
    assert.equal(after.rxFrames, before.rxFrames);
    assert.equal(after.rxRingCorrupt, before.rxRingCorrupt);
  }
  // More than one lap ahead, or behind tail: counted once, nothing read, tail = head,
  // and later ticks do not replay anything.
  for (const [head, tail] of [[0xffffffff, 0], [0x80000000, 1], [2, 0xfffffffd], [0, 7], [0x12345678, 0x12345670]] as Array<[number, number]>) {
    rx.tail = tail;
    rx.head = head;
    const before = readCounters(core.memory, core.abiBase);
    for (let t = 0; t < 3; t++) core.tick((now += 1000n));
    const after = readCounters(core.memory, core.abiBase);
    assert.equal(rx.tail, head, `tail resynced to head 0x${head.toString(16)}`);
    assert.equal(after.rxRingCorrupt - before.rxRingCorrupt, 1n, "counted once over three ticks");
    assert.equal(after.rxBadLength, before.rxBadLength, "no slot read");
    assert.equal(after.rxFrames, before.rxFrames);
  }
  assert.equal(core.exports.heapTop() >>> 0, top, "no allocation");
});

test("clock going backwards or jumping far ahead: tick never throws, wakeup stays sane", async () => {
  const core = await StackCore.create({ secret: SECRET }, 5_000_000n);
  for (const t of [4_000_000n, 0n, 5_000_000n, 2n ** 53n, 2n ** 63n - 1n, 1n]) {
    const w = core.tick(t);
    assert.ok(w === -1 || (w >= 0 && w <= 2 ** 32), `wakeup ${w} at ${t}`);
  }
});

// Was BUG (assembly/mem/rings.ts read the ring geometry — base, mask, slotSize,
// slots — back from the host-writable ABI block on every access): a host that
// clobbered the RX header's `base` made the next tick trap on an out-of-bounds load.
// Fixed by 2dd8059: the geometry lives in module globals; only head and tail are
// read back. The TX and event rings' write side: tests/assembly/break-mem.spec.ts.
test("a clobbered RX ring header (base, slots, slot size, mask) does not trap tick() or move the ring", async () => {
  const core = await StackCore.create({ rxSlots: 4, secret: SECRET }, 0n);
  const slot0 = core.rx.slotAddr(core.rx.tail);
  // A zero-length frame in the real slot: the module must read it there and count it.
  new DataView(core.memory.buffer, slot0, ABI.SLOT_HDR_SIZE).setUint32(ABI.SLOT_LEN_OFF, 0, true);
  const v = new DataView(core.memory.buffer, core.rx.addr, ABI.RING_HDR_SIZE);
  v.setUint32(ABI.RING_BASE_OFF, 0xfffffff0, true);
  v.setUint32(ABI.RING_SLOTS_OFF, 0x10000000, true);
  v.setUint32(ABI.RING_SLOT_SIZE_OFF, 0xffffffff, true);
  v.setUint32(ABI.RING_MASK_OFF, 0xffffffff, true);
  const tail0 = core.rx.tail;
  core.rx.head = tail0 + 1;
  const before = readCounters(core.memory, core.abiBase);
  assert.doesNotThrow(() => core.tick(1000n));
  const after = readCounters(core.memory, core.abiBase);
  assert.equal((core.rx.tail - tail0) >>> 0, 1, "the one published slot was consumed");
  assert.equal(after.rxBadLength - before.rxBadLength, 1n, "read from the real slot (length 0 → counted)");
  assert.equal(after.rxFrames, before.rxFrames);
});

test("rxRingFull: the module counts each tick that finds the RX ring full (the host could place no more)", async () => {
  const core = await StackCore.create({ rxSlots: 4, secret: SECRET }, 0n);
  const rx = core.rx;
  const put = (n: number) => {
    for (let i = 0; i < n; i++) new DataView(core.memory.buffer, rx.slotAddr(rx.head), 16).setUint32(ABI.SLOT_LEN_OFF, 0, true), (rx.head = rx.head + 1);
  };
  put(3);
  core.tick(1000n);
  assert.equal(core.stats().rxRingFull, 0n, "3 of 4 slots: not full");
  put(4);
  core.tick(2000n);
  assert.equal(core.stats().rxRingFull, 1n);
  core.tick(3000n);
  assert.equal(core.stats().rxRingFull, 1n, "empty afterwards");
  assert.equal(core.stats().rxBadLength, 7n, "every placed slot was read once");
});
