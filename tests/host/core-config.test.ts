// init with the interface and TCP fields: each broken rule has its own code, nothing is
// carved on rejection, the same instance then accepts a fixed config; the whole-stack
// memory accounting; every counter through one snapshot; the command ABI's argument
// checks (no input traps the module).

import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate } from "../../host/loader.ts";
import {
  ABI, ERRORS, COUNTER_NAMES, TCP_STAT_NAMES, GAUGE_NAMES, MEMSTAT_NAMES, writeConfig, readMemstats, type StackConfig,
} from "../../host/abi.ts";
import { IFACE_STAT_NAMES } from "../../host/iface-stats.ts";
import { StackCore, StackInitError } from "../../host/stack-core.ts";

const IFACE: StackConfig = { mac: "02:00:00:00:00:01", ipv4: "198.18.0.1/24", gateway: "198.18.0.254" };
const SMALL: StackConfig = { maxConnections: 64, chunkCount: 128, rxSlots: 16, txSlots: 16, eventRingSize: 64, shards: 4 };
const zero = (n: number) => new Uint8Array(n);

test("interface and TCP config: each broken rule is rejected with its own code, nothing carved", async () => {
  const cases: Array<[StackConfig, number]> = [
    [{ mac: "00:00:00:00:00:00" }, ERRORS.E_CONFIG_MAC],
    [{ mac: "01:00:5e:00:00:01" }, ERRORS.E_CONFIG_MAC],
    [{ ipv4: "224.0.0.1/24" }, ERRORS.E_CONFIG_ADDR],
    [{ ipv4: "127.0.0.1/8" }, ERRORS.E_CONFIG_ADDR],
    [{ ipv4: "198.18.0.0/24", gateway: 0 }, ERRORS.E_CONFIG_ADDR],
    [{ ipv4: "198.18.0.255/24", gateway: 0 }, ERRORS.E_CONFIG_ADDR],
    [{ ipv4: "0.1.2.3/8", gateway: 0 }, ERRORS.E_CONFIG_ADDR],
    [{ ipv4: "240.0.0.1/8", gateway: 0 }, ERRORS.E_CONFIG_ADDR],
    [{ gateway: "198.18.0.255" }, ERRORS.E_CONFIG_GATEWAY],
    [{ gateway: "198.18.0.0" }, ERRORS.E_CONFIG_GATEWAY],
    [{ ipv4: "198.18.0.1", prefixLen: 0 }, ERRORS.E_CONFIG_PREFIX],
    [{ ipv4: "198.18.0.1", prefixLen: 33 }, ERRORS.E_CONFIG_PREFIX],
    [{ gateway: "198.19.0.1" }, ERRORS.E_CONFIG_GATEWAY],
    [{ gateway: "198.18.0.1" }, ERRORS.E_CONFIG_GATEWAY],
    [{ mtu: 575 }, ERRORS.E_CONFIG_MTU],
    [{ mtu: 65536 }, ERRORS.E_CONFIG_MTU],
    [{ mtu: 9000 }, ERRORS.E_CONFIG_MTU], // 2048-byte slots cannot hold a 9000-byte frame
    [{ arpEntries: 0 }, ERRORS.E_CONFIG_ARP],
    [{ arpPending: 70000 }, ERRORS.E_CONFIG_ARP],
    [{ reasmSlots: 2000 }, ERRORS.E_CONFIG_REASM],
    [{ reasmMaxBytes: 4 }, ERRORS.E_CONFIG_REASM],
    [{ rtoMinMs: 0 }, ERRORS.E_CONFIG_TCP_TIMER],
    [{ rtoMinMs: 5000, rtoMaxMs: 1000 }, ERRORS.E_CONFIG_TCP_TIMER],
    [{ delAckMs: 500 }, ERRORS.E_CONFIG_TCP_TIMER],
    [{ timeWaitMs: 0 }, ERRORS.E_CONFIG_TCP_TIMER],
    [{ keepIntvlMs: 0 }, ERRORS.E_CONFIG_TCP_TIMER],
    [{ maxRetries: 0 }, ERRORS.E_CONFIG_TCP_RETRIES],
    [{ synRetries: 256 }, ERRORS.E_CONFIG_TCP_RETRIES],
    [{ keepCount: 1000 }, ERRORS.E_CONFIG_TCP_RETRIES],
    [{ sndBuf: 0 }, ERRORS.E_CONFIG_BUFFER],
    [{ rcvBuf: 2 ** 30 + 1 }, ERRORS.E_CONFIG_BUFFER],
    [{ chunkSize: 64, rcvBuf: 65534 * 64 + 1 }, ERRORS.E_CONFIG_BUFFER],
    [{ ephemeralLow: 0 }, ERRORS.E_CONFIG_PORTS],
    [{ ephemeralLow: 60000, ephemeralHigh: 50000 }, ERRORS.E_CONFIG_PORTS],
    [{ ephemeralHigh: 70000 }, ERRORS.E_CONFIG_PORTS],
    [{ ioBufSize: 0 }, ERRORS.E_CONFIG_IO_BUFFER],
    [{ ioBufSize: 17 << 20 }, ERRORS.E_CONFIG_IO_BUFFER],
    [{ rxBudget: 0 }, ERRORS.E_CONFIG_BUDGET],
    [{ congestionControl: 2 }, ERRORS.E_CONFIG_CC],
    [{ synCacheMax: 0 }, ERRORS.E_CONFIG_ZERO],
  ];
  const { exports } = await instantiate("release");
  const top = exports.heapTop() >>> 0;
  const bytes = exports.memory.buffer.byteLength;
  for (const [bad, code] of cases) {
    // A fresh block each time: defaults, a valid interface, then the broken field.
    const block = new Uint8Array(exports.memory.buffer, exports.configAddr() >>> 0, ABI.CONFIG_SIZE);
    block.fill(0);
    const defaults = (await instantiate("release")).exports;
    block.set(new Uint8Array(defaults.memory.buffer, defaults.configAddr() >>> 0, ABI.CONFIG_SIZE));
    writeConfig(exports.memory, exports.configAddr() >>> 0, { ...SMALL, ...IFACE, ...bad }, zero);
    const rc = exports.init(1000n);
    assert.equal(rc, code, `${JSON.stringify(bad)}: expected ${code}, got ${rc}`);
    assert.equal(exports.heapTop() >>> 0, top, `${JSON.stringify(bad)}: nothing carved`);
    assert.equal(exports.memory.buffer.byteLength, bytes, `${JSON.stringify(bad)}: memory not grown`);
  }
  // The same instance then takes a valid config once.
  writeConfig(exports.memory, exports.configAddr() >>> 0, { ...SMALL, ...IFACE, mtu: 1500, arpEntries: 8, arpPending: 8, reasmSlots: 1, reasmMaxBytes: 4096,
    rtoMinMs: 200, rtoMaxMs: 60000, delAckMs: 40, timeWaitMs: 1000, keepIntvlMs: 1000, maxRetries: 8, synRetries: 3, keepCount: 3, sndBuf: 65536,
    rcvBuf: 65536, chunkSize: 2048, ephemeralLow: 40000, ephemeralHigh: 50000, ioBufSize: 4096, rxBudget: 32, synCacheMax: 16, prefixLen: 24, gateway: "198.18.0.254" }, zero);
  assert.equal(exports.init(1000n), 0);
  assert.equal(exports.init(1000n), ERRORS.E_ALREADY_INITIALIZED);
  assert.equal(exports.ioBufSize() >>> 0, 4096);
});

test("memory accounting covers the interface tables and the I/O buffer; the heap top matches", async () => {
  const { exports } = await instantiate("release");
  const top0 = exports.heapTop() >>> 0;
  const core = StackCore.init(exports, { ...SMALL, ...IFACE, ioBufSize: 32768 }, 0n);
  const m = readMemstats(core.memory, core.abiBase);
  assert.equal(MEMSTAT_NAMES.length <= ABI.MEMSTAT_COUNT, true);
  assert.equal(m.ioBuffer, 32768);
  assert.ok(m.iface > 64 * 8, `interface tables ${m.iface} B`);
  const parts = m.timers + m.endpointSlab + m.table + m.timeWaitSlab + m.chunkPool + m.rxRing + m.txRing + m.eventRing + m.iface + m.ioBuffer;
  assert.equal(parts, m.total);
  const carved = core.heapTop() - top0;
  assert.ok(carved >= m.total && carved - m.total < 4096, `carved ${carved}, accounted ${m.total}`);
  assert.ok(m.bytesPerConnection <= 1024, `bytes per connection ${m.bytesPerConnection}`);
  console.log("whole-stack memory accounting:", JSON.stringify(m));
});

test("every counter (memory, interface, TCP) through one snapshot, named by the host mirror", async () => {
  const core = await StackCore.create({ ...SMALL, ...IFACE }, 0n);
  assert.equal(ABI.STATS_COUNT, ABI.COUNTER_COUNT + IFACE_STAT_NAMES.length + ABI.TCP_STAT_COUNT);
  assert.ok(TCP_STAT_NAMES.length <= ABI.TCP_STAT_COUNT);
  assert.equal(GAUGE_NAMES.length, ABI.GAUGE_COUNT);
  // A TCP segment for a closed port: a memory counter (rxFrames), interface counters
  // (rx_frames, ip_deliver_tcp) and TCP counters (segsIn, dropNoEndpoint, rstSent) move.
  const frame = tcpSynFrame();
  assert.ok(core.rxWrite(frame, 5000n));
  core.tick(5000n);
  const s = core.stats();
  for (const n of COUNTER_NAMES) assert.ok(n in s, n);
  for (const n of IFACE_STAT_NAMES) assert.ok(`iface_${n}` in s, n);
  for (const n of TCP_STAT_NAMES) assert.ok(`tcp_${n}` in s, n);
  assert.equal(s.rxFrames, 1n);
  assert.equal(s.iface_rx_frames, 1n);
  assert.equal(s.iface_ip_deliver_tcp, 1n);
  assert.equal(s.tcp_segsIn, 1n);
  assert.equal(s.tcp_dropNoEndpoint, 1n);
  assert.equal(s.tcp_rstSent, 1n);
  // The RST waits behind ARP (the peer is not resolved yet): queued, ARP request sent.
  assert.equal(s.iface_arp_pending_queued, 1n);
  assert.equal(s.iface_arp_tx_request, 1n);
});

test("commands refuse bad arguments and bad handles with codes; nothing traps", async () => {
  const core = await StackCore.create({ ...SMALL, ...IFACE }, 0n);
  const x = core.exports;
  const bad = [0, 1, 0xffffffff, 0x7fffffff, 12345 << 22];
  for (const h of bad) {
    assert.ok([ERRORS.E_INVALID_HANDLE, ERRORS.E_STALE_HANDLE].includes(x.close(h)), `close(${h})`);
    assert.ok([-ERRORS.E_INVALID_HANDLE, -ERRORS.E_STALE_HANDLE].includes(x.send(h, 10)), `send(${h})`);
    assert.ok([-ERRORS.E_INVALID_HANDLE, -ERRORS.E_STALE_HANDLE].includes(x.recv(h, 10)), `recv(${h})`);
    assert.equal(x.accept(h), 0);
    assert.equal(x.state(h) >>> 0, 0xff);
    assert.equal(x.remoteAddr(h), 0);
  }
  assert.equal(core.listen(70000), 0);
  assert.equal(core.lastError(), ERRORS.E_BAD_ARGUMENT);
  assert.equal(core.listen(80, "10.9.9.9"), 0);
  assert.equal(core.lastError(), ERRORS.E_ADDR_NOT_AVAILABLE);
  const l = core.listen(80);
  assert.ok(l !== 0);
  assert.equal(core.listen(80), 0);
  assert.equal(core.lastError(), ERRORS.E_ADDR_IN_USE);
  assert.equal(x.send(l, 10), -ERRORS.E_NOTCONN);
  assert.equal(x.send(l, core.ioSize + 1), -ERRORS.E_BAD_LENGTH);
  assert.equal(x.recv(l, 0xffffffff), -ERRORS.E_BAD_LENGTH);
  assert.equal(x.accept(l), 0);
  assert.equal(core.lastError(), ERRORS.E_NO_PENDING);
  assert.equal(core.setOption(l, 99, 1), ERRORS.E_BAD_ARGUMENT);
  assert.equal(core.setOption(l, ABI.OPT_RCVBUF, 0xffffffff), ERRORS.E_BAD_ARGUMENT);
  const ephemeral = core.listen(0);
  assert.ok(ephemeral !== 0 && core.info(ephemeral).localPort >= 49152, "listen(0) picks an ephemeral port");
  assert.equal(core.connect("198.18.0.1", 80), 0, "our own address");
  assert.equal(core.lastError(), ERRORS.E_IF_NO_ROUTE);
  assert.equal(core.connect("255.255.255.255", 80), 0);
  assert.equal(core.lastError(), ERRORS.E_BAD_ARGUMENT);
  assert.equal(core.connect("198.18.0.2", 0), 0);
  assert.equal(core.lastError(), ERRORS.E_BAD_ARGUMENT);
  assert.equal(core.connect("198.18.0.2", 80, "10.0.0.1"), 0);
  assert.equal(core.lastError(), ERRORS.E_ADDR_NOT_AVAILABLE);
  assert.equal(core.connect("198.18.0.2", 80, undefined, 80), 0, "local port taken by the listener");
  assert.equal(core.lastError(), ERRORS.E_ADDR_IN_USE);
  const c = core.connect("198.18.0.2", 80);
  assert.ok(c !== 0);
  assert.equal(core.state(c), 2, "SYN-SENT");
  assert.equal(core.close(c), 0);
  assert.equal(core.close(c), ERRORS.E_STALE_HANDLE, "the handle is stale after close");
  assert.equal(core.close(l), 0);
  assert.ok(core.stats().staleHandle >= 1n);

  // No interface: connect has no route, listen still works (nothing can reach it).
  const bare = await StackCore.create(SMALL, 0n);
  assert.equal(bare.connect("198.18.0.2", 80), 0);
  assert.equal(bare.lastError(), ERRORS.E_IF_NO_ROUTE);
  assert.equal(bare.linkUp(), ERRORS.E_IF_NO_ROUTE);
});

/** An Ethernet/IPv4/TCP SYN from 198.18.0.2:40000 (02:..:02) to 198.18.0.1:81, checksums filled. */
function tcpSynFrame(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]);
  const ip = f.subarray(14, 34);
  ip.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
  const sum = (b: Uint8Array, init = 0) => { let s = init; for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0); while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return s; };
  const ic = ~sum(ip) & 0xffff;
  ip[10] = ic >> 8; ip[11] = ic & 255;
  const tcp = f.subarray(34);
  tcp.set([40000 >> 8, 40000 & 255, 0, 81, 0, 0, 0, 100, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
  const pseudo = new Uint8Array([198, 18, 0, 2, 198, 18, 0, 1, 0, 6, 0, 20]);
  const tc = ~sum(tcp, sum(pseudo)) & 0xffff;
  tcp[16] = tc >> 8; tcp[17] = tc & 255;
  return f;
}

test("tick takes at most rxBudget frames and reports the rest as work left (returns 0)", async () => {
  const core = await StackCore.create({ ...SMALL, ...IFACE, rxBudget: 2 }, 0n);
  const frame = tcpSynFrame();
  frame[5] = 9; // another MAC: dropped as not for us (no reply needed)
  for (let i = 0; i < 5; i++) assert.ok(core.rxWrite(frame, 1000n));
  assert.equal(core.tick(2000n), 0, "work left");
  assert.equal(core.rx.used, 3);
  assert.equal(core.tick(3000n), 0);
  assert.equal(core.rx.used, 1);
  assert.equal(core.tick(4000n), -1, "all taken, no timer pending");
  assert.equal(core.rx.used, 0);
  assert.equal(core.stats().iface_eth_drop_not_for_us, 5n);
});

test("tick stops taking frames while the event ring is nearly full (back-pressure), loses no event", async () => {
  // 4 event records: the reserve is 2, so a tick takes frames only while ≥ 2 are free.
  const core = await StackCore.create({ ...SMALL, ...IFACE, eventRingSize: 4 }, 0n);
  const l = core.listen(81, 0, 8);
  assert.ok(l !== 0);
  // The host has left 3 records unread (1 free).
  const ev = core.events;
  ev.tail = (ev.head - 3) >>> 0;
  const frame = tcpSynFrame(); // a SYN for the listener on port 81
  assert.ok(core.rxWrite(frame, 1000n));
  assert.equal(core.tick(2000n), 0, "the frame waits: fewer than 2 event records free");
  assert.equal(core.rx.used, 1);
  ev.tail = ev.head; // the host drains the ring
  core.tick(3000n);
  assert.equal(core.rx.used, 0, "taken once there is room");
  assert.equal(core.stats().eventRingFull, 0n);
});

test("ring geometry comes from the module, not the host-writable headers: clobbered base/slots/mask change nothing", async () => {
  const core = await StackCore.create({ ...SMALL, ...IFACE }, 0n);
  const rxBase = core.rx.base, txBase = core.tx.base;
  for (const ring of [core.rx, core.tx, core.events]) {
    const v = new DataView(core.memory.buffer, ring.addr, ABI.RING_HDR_SIZE);
    v.setUint32(ABI.RING_BASE_OFF, 0xfffffff0, true);
    v.setUint32(ABI.RING_SLOTS_OFF, 0x7fffffff, true);
    v.setUint32(ABI.RING_SLOT_SIZE_OFF, 0xffffff00, true);
    v.setUint32(ABI.RING_MASK_OFF, 0xffffffff, true);
  }
  // Put a SYN for a closed port in RX slot 0 by hand (the header's base is garbage now).
  const frame = tcpSynFrame();
  const slot = new DataView(core.memory.buffer, rxBase, 16);
  slot.setUint32(ABI.SLOT_LEN_OFF, frame.length, true);
  slot.setBigUint64(ABI.SLOT_TIME_OFF, 1000n, true);
  new Uint8Array(core.memory.buffer, rxBase + 16, frame.length).set(frame);
  core.rx.head = core.rx.tail + 1;
  assert.doesNotThrow(() => core.tick(2000n));
  const s = core.stats();
  assert.equal(s.iface_ip_deliver_tcp, 1n, "the frame was read from the real slot");
  // The RST (behind ARP) and the ARP request went to the real TX region.
  const txSlot0 = new DataView(core.memory.buffer, txBase, 16);
  assert.ok(txSlot0.getUint32(ABI.SLOT_LEN_OFF, true) > 0, "TX frame written in the carved TX region");
});
