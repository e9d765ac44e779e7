// pcap recorder: byte layout, timestamps from the tick clock, both directions, snaplen,
// and that tshark reads the file (skipped with a message when tshark is missing;
// .ci/run installs it).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "../../host/link/clock.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { LINKTYPE_ETHERNET, MemoryPcapSink, PcapLink, pcapFileSink, readPcap } from "../../host/link/pcap.ts";
import { arpRequest, icmpEchoRequest } from "../helpers/netns.ts";

const MAC_A = Uint8Array.from([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B = Uint8Array.from([0x02, 0, 0, 0, 0, 0x0b]);

function haveTshark(): boolean {
  const r = spawnSync("tshark", ["--version"], { encoding: "utf8", timeout: 20_000 });
  return !r.error && r.status === 0;
}

test("link-pcap: global header and one record per frame, both directions, clock timestamps", async () => {
  const clock = new VirtualClock(1_700_000_123_456);
  const pair = createMemoryPair({ clock });
  const sink = new MemoryPcapSink();
  const rec = new PcapLink(pair.a, sink, clock);
  assert.equal(rec.mtu, pair.a.mtu);
  assert.equal(rec.mac, pair.a.mac);

  const out = arpRequest(MAC_A, "198.18.0.2", "198.18.0.1");
  assert.equal(rec.send(out), true); // recorded at 1_700_000_123_456
  clock.advanceUs(2_500_001);
  pair.b.send(icmpEchoRequest(MAC_B, MAC_A, "198.18.0.1", "198.18.0.2", 7, 1, new Uint8Array(32).fill(0x61)));
  const slot = new Uint8Array(2048);
  assert.equal(rec.receiveInto(slot), 14 + 20 + 8 + 32); // recorded at 1_700_002_623_457
  assert.equal(rec.receiveInto(slot), 0, "an empty read records nothing");
  await rec.close();
  assert.equal(sink.closed, true);

  const bytes = sink.bytes();
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4, "µs magic");
  assert.equal(v.getUint16(4, true), 2);
  assert.equal(v.getUint16(6, true), 4);
  assert.equal(v.getUint32(16, true), 65535, "snaplen");
  assert.equal(v.getUint32(20, true), LINKTYPE_ETHERNET);
  // First record header right after the 24-byte global header.
  assert.equal(v.getUint32(24, true), 1_700_000, "ts_sec");
  assert.equal(v.getUint32(28, true), 123_456, "ts_usec");
  assert.equal(v.getUint32(32, true), 42, "incl_len");
  assert.equal(v.getUint32(36, true), 42, "orig_len");
  assert.deepEqual(bytes.subarray(40, 82), out);

  const p = readPcap(bytes);
  assert.equal(p.linktype, LINKTYPE_ETHERNET);
  assert.deepEqual(p.records.map((r) => r.tsUs), [1_700_000_123_456, 1_700_002_623_457]);
  assert.deepEqual(p.records[1].data, slot.subarray(0, 74));
  assert.equal(bytes.byteLength, 24 + 16 + 42 + 16 + 74);
});

test("link-pcap: snaplen cuts the stored bytes but keeps orig_len; rx/tx can be turned off", async () => {
  const clock = new VirtualClock();
  const pair = createMemoryPair({ clock });
  const sink = new MemoryPcapSink();
  const rec = new PcapLink(pair.a, sink, clock, { snaplen: 60, rx: false });
  const big = icmpEchoRequest(MAC_A, MAC_B, "198.18.0.2", "198.18.0.1", 1, 1, new Uint8Array(1000));
  rec.send(big);
  pair.b.send(big);
  assert.ok(rec.receiveInto(new Uint8Array(1518)) > 0);
  await rec.close();
  const p = readPcap(sink.bytes());
  assert.equal(p.snaplen, 60);
  assert.equal(p.records.length, 1, "only the sent frame");
  assert.equal(p.records[0].data.length, 60);
  assert.equal(p.records[0].origLen, big.length);
});

test("link-pcap: the buffer is flushed as it fills; many frames survive the round trip", async () => {
  const clock = new VirtualClock();
  const pair = createMemoryPair({ clock });
  const sink = new MemoryPcapSink();
  const rec = new PcapLink(pair.a, sink, clock);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const f = icmpEchoRequest(MAC_A, MAC_B, "198.18.0.2", "198.18.0.1", 9, i, new Uint8Array(400 + (i % 50)).fill(i & 255));
    frames.push(f);
    assert.equal(rec.sendBatch([f]), 1);
    clock.advanceUs(1000);
  }
  rec.flush();
  const mid = sink.bytes().byteLength;
  assert.ok(mid > 64 * 1024, "flushed to the sink more than once");
  await rec.close();
  const p = readPcap(sink.bytes());
  assert.equal(p.records.length, 300);
  p.records.forEach((r, i) => {
    assert.deepEqual(r.data, frames[i]);
    assert.equal(r.tsUs, i * 1000);
  });
});

test("link-pcap: readPcap rejects damaged streams without reading out of bounds", () => {
  const clock = new VirtualClock();
  const sink = new MemoryPcapSink();
  const rec = new PcapLink(createMemoryPair({ clock }).a, sink, clock);
  rec.send(arpRequest(MAC_A, "198.18.0.2", "198.18.0.1"));
  rec.flush();
  const good = sink.bytes();
  assert.equal(readPcap(good).records.length, 1);
  assert.throws(() => readPcap(good.subarray(0, 10)), /global header/);
  assert.throws(() => readPcap(good.subarray(0, 30)), /truncated record header/);
  assert.throws(() => readPcap(good.subarray(0, good.length - 1)), /past the end/);
  const bad = good.slice();
  bad[0] = 0;
  assert.throws(() => readPcap(bad), /bad magic/);
  // A byte-swapped (big-endian) file is read as well.
  const be = new Uint8Array(24);
  new DataView(be.buffer).setUint32(0, 0xa1b2c3d4, false);
  new DataView(be.buffer).setUint32(20, 1, false);
  assert.equal(readPcap(be).linktype, 1);
});

test("link-pcap: tshark reads the recorded file and decodes every frame", async (t) => {
  if (!haveTshark()) {
    t.skip("tshark not installed (apt-get install tshark; .ci/run installs it)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "ustack-pcap-"));
  try {
    const file = join(dir, "links.pcap");
    const clock = new VirtualClock(5_000_000);
    const pair = createMemoryPair({ clock, faults: { delayUs: 250 }, seed: 5 });
    t.diagnostic(pair.describe());
    const rec = new PcapLink(pair.a, await pcapFileSink(file), clock);
    rec.send(arpRequest(MAC_A, "198.18.0.2", "198.18.0.1"));
    for (let seq = 1; seq <= 3; seq++) {
      clock.advanceUs(1000);
      pair.b.send(icmpEchoRequest(MAC_B, MAC_A, "198.18.0.1", "198.18.0.2", 0x1234, seq, new Uint8Array(56).fill(seq)));
    }
    const slot = new Uint8Array(2048);
    clock.advanceUs(250);
    while (rec.receiveInto(slot) > 0);
    await rec.close();

    const raw = readFileSync(file);
    assert.equal(readPcap(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)).records.length, 4);
    const r = spawnSync("tshark", ["-r", file, "-T", "fields", "-E", "separator=|",
      "-e", "frame.time_epoch", "-e", "eth.src", "-e", "eth.dst", "-e", "arp.dst.proto_ipv4", "-e", "icmp.type", "-e", "icmp.seq", "-e", "icmp.checksum.status", "-e", "_ws.malformed"],
    { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
    const rows = r.stdout.trim().split("\n").map((l) => l.split("|"));
    t.diagnostic(r.stdout.trim());
    assert.equal(rows.length, 4);
    assert.match(rows[0][0], /^5\.000000/);
    assert.equal(rows[0][1], "02:00:00:00:00:0a");
    assert.equal(rows[0][3], "198.18.0.1");
    for (let i = 1; i <= 3; i++) {
      assert.equal(rows[i][1], "02:00:00:00:00:0b");
      assert.equal(rows[i][4], "8", "ICMP echo request");
      assert.equal(rows[i][5], String(i));
      assert.equal(rows[i][6], "1", "tshark finds the ICMP checksum good");
      assert.equal(rows[i][7], "", "not malformed");
    }
    // Delivery times: sent at 6.000, 7.000, 8.000 ms... plus 250 µs delay; read at 8.25 ms.
    assert.match(rows[3][0], /^5\.003250/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
