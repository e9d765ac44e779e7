// The host's mirror of the shared-memory layout (host/abi.ts) must equal the
// constants the module exports; the rings and counters must be where the mirror says.

import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate } from "../../host/loader.ts";
import { ABI, ERRORS, COUNTER_NAMES, MEMSTAT_NAMES, RingView, writeConfig, readCounters } from "../../host/abi.ts";
import { StackCore, StackInitError } from "../../host/stack-core.ts";

function exportedValue(exports: Record<string, unknown>, name: string): number {
  const g = exports[name];
  if (g instanceof WebAssembly.Global) return Number(g.value);
  if (typeof g === "number") return g;
  if (g && typeof g === "object" && "value" in g) return Number((g as { value: unknown }).value);
  throw new Error(`module does not export ${name}`);
}

test("host/abi.ts offsets equal the module's exported constants (release and debug)", async () => {
  for (const flavor of ["release", "debug"] as const) {
    const { exports } = await instantiate(flavor);
    for (const [name, value] of Object.entries(ABI)) {
      assert.equal(exportedValue(exports, name), value, `${flavor}: ${name}`);
    }
    // And nothing the module exports in upper case is missing from the mirror.
    for (const name of Object.keys(exports)) {
      if (/^[A-Z][A-Z0-9_]+$/.test(name)) assert.ok(name in ABI, `${flavor}: ${name} exported but not mirrored`);
    }
  }
  assert.ok(COUNTER_NAMES.length <= ABI.COUNTER_COUNT);
  assert.ok(MEMSTAT_NAMES.length <= ABI.MEMSTAT_COUNT);
});

test("after init the ABI block carries magic, version, state and the ring headers", async () => {
  const core = await StackCore.create({ rxSlots: 8, txSlots: 16, slotSize: 2048, eventRingSize: 32 }, 1_000_000n);
  const v = new DataView(core.memory.buffer, core.abiBase, ABI.ABI_BLOCK_SIZE);
  assert.equal(v.getUint32(ABI.ABI_MAGIC_OFF, true), ABI.ABI_MAGIC);
  assert.equal(v.getUint32(ABI.ABI_VERSION_OFF, true), ABI.ABI_VERSION);
  assert.equal(v.getUint32(ABI.ABI_STATE_OFF, true), 1);
  assert.equal(core.rx.slots, 8);
  assert.equal(core.tx.slots, 16);
  assert.equal(core.rx.slotSize, 2048);
  assert.equal(core.events.slots, 32);
  assert.equal(core.events.slotSize, ABI.EVENT_SIZE);
  assert.ok(core.rx.base > 0 && core.tx.base > 0 && core.events.base > 0);
  assert.equal(core.memory.buffer.byteLength >= core.tx.base + 16 * 2048, true, "TX slots inside memory");
});

test("RX frames written by the host are consumed by tick and counted", async () => {
  const core = await StackCore.create({ rxSlots: 4 }, 0n);
  const rx = new RingView(core.memory, core.rx.addr);
  const write = (len: number) => {
    const slot = rx.slotAddr(rx.head);
    const v = new DataView(core.memory.buffer, slot, ABI.SLOT_HDR_SIZE);
    v.setUint32(ABI.SLOT_LEN_OFF, len, true);
    v.setBigUint64(ABI.SLOT_TIME_OFF, 1234n, true);
    new Uint8Array(core.memory.buffer, slot + ABI.SLOT_HDR_SIZE, len).fill(0xab);
    rx.head = rx.head + 1;
  };
  write(60);
  write(1514);
  write(0); // bad length
  core.tick(1000n);
  assert.equal(rx.tail, 3, "every slot consumed");
  const c = readCounters(core.memory, core.abiBase);
  assert.equal(c.rxFrames, 2n);
  assert.equal(c.rxBadLength, 1n);
});

test("config rejection: distinct codes, init can then succeed", async () => {
  const cases: Array<[Record<string, number>, number]> = [
    [{ maxConnections: 0 }, ERRORS.E_CONFIG_ZERO],
    [{ shards: 3 }, ERRORS.E_CONFIG_SHARDS],
    [{ rxSlots: 100 }, ERRORS.E_CONFIG_NOT_POW2],
    [{ slotSize: 64 }, ERRORS.E_CONFIG_SLOT_SIZE],
    [{ chunkSize: 40000 }, ERRORS.E_CONFIG_CHUNK_SIZE],
    [{ maxConnections: 5_000_000 }, ERRORS.E_CONFIG_COUNT],
    [{ chunkCount: 1 << 24, chunkSize: 32768 }, ERRORS.E_CONFIG_TOO_LARGE],
  ];
  for (const [cfg, code] of cases) {
    const { exports } = await instantiate("release");
    const pages = exports.memory.buffer.byteLength;
    const top = exports.heapTop();
    await assert.rejects(async () => StackCore.init(exports, cfg, 0n), (e: unknown) => e instanceof StackInitError && e.code === code, JSON.stringify(cfg));
    assert.equal(exports.heapTop(), top, "nothing carved");
    assert.equal(exports.memory.buffer.byteLength, pages, "memory not grown");
    // The same instance accepts a valid config afterwards.
    writeConfig(exports.memory, exports.configAddr(), { maxConnections: 16, shards: 16, rxSlots: 8, chunkCount: 64, chunkSize: 2048, slotSize: 2048 }, () => new Uint8Array(16));
    assert.equal(exports.init(0n), 0);
    assert.equal(exports.init(0n), ERRORS.E_ALREADY_INITIALIZED);
  }
});
