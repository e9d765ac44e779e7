// Break review of the interface layer (issue 4) through the REAL module: crafted
// Ethernet/ARP/IPv4/ICMP frames go straight into the RX ring, what the stack sends is
// read back from the TX ring. After every case: no trap, the per-frame disposition
// counters account for every frame, and a TCP listener still accepts a connection.
// Deterministic: virtual time, fixed seeds (printed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { StackCore } from "../../host/stack-core.ts";
import { ABI, parseIpv4, type StackConfig } from "../../host/abi.ts";
import { IFACE_STAT_NAMES, IFACE_DISP_FIRST, IFACE_DISP_LAST } from "../../host/iface-stats.ts";

const A_IP = parseIpv4("198.18.0.1");
const B_IP = parseIpv4("198.18.0.2");
const A_MAC = [0x02, 0, 0, 0, 0, 0x0a];
const B_MAC = [0x02, 0, 0, 0, 0, 0x0b];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i + 1 < len; i += 2) acc += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) acc += b[off + len - 1] << 8;
  return acc;
}
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return (~acc) & 0xffff;
}

/** Seeded xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

interface IpSpec {
  proto: number; payload: Uint8Array; src?: number; dst?: number; dmac?: number[]; smac?: number[];
  id?: number; fragOff?: number; mf?: boolean; df?: boolean; ttl?: number;
}
function ipFrame(s: IpSpec): Uint8Array {
  const total = 20 + s.payload.length;
  const f = new Uint8Array(14 + total);
  const v = new DataView(f.buffer);
  f.set(s.dmac ?? B_MAC, 0); f.set(s.smac ?? A_MAC, 6); v.setUint16(12, 0x0800);
  f[14] = 0x45; v.setUint16(16, total); v.setUint16(18, s.id ?? 1);
  v.setUint16(20, (s.df ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | ((s.fragOff ?? 0) >> 3));
  f[22] = s.ttl ?? 64; f[23] = s.proto;
  v.setUint32(26, s.src ?? A_IP); v.setUint32(30, s.dst ?? B_IP);
  v.setUint16(24, fold(sum16(f, 14, 20)));
  f.set(s.payload, 34);
  return f;
}
function tcpSeg(o: { sport: number; dport: number; seq: number; ack?: number; flags: number; data?: Uint8Array; opts?: number[]; src?: number; dst?: number }): Uint8Array {
  const opts = o.opts ?? [];
  const hl = 20 + opts.length;
  const d = o.data ?? new Uint8Array(0);
  const t = new Uint8Array(hl + d.length);
  const v = new DataView(t.buffer);
  v.setUint16(0, o.sport); v.setUint16(2, o.dport); v.setUint32(4, o.seq >>> 0); v.setUint32(8, (o.ack ?? 0) >>> 0);
  t[12] = (hl / 4) << 4; t[13] = o.flags; v.setUint16(14, 65535);
  t.set(opts, 20); t.set(d, hl);
  const ph = new Uint8Array(12);
  const pv = new DataView(ph.buffer);
  pv.setUint32(0, o.src ?? A_IP); pv.setUint32(4, o.dst ?? B_IP); ph[9] = 6; pv.setUint16(10, t.length);
  v.setUint16(16, fold(sum16(t, 0, t.length, sum16(ph, 0, 12))));
  return t;
}
function icmpEcho(id: number, seq: number, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + payload.length);
  const v = new DataView(m.buffer);
  m[0] = 8; v.setUint16(4, id); v.setUint16(6, seq); m.set(payload, 8);
  v.setUint16(2, fold(sum16(m, 0, m.length)));
  return m;
}
function arp(op: number, sha: number[], spa: number, tha: number[], tpa: number, dmac = B_MAC, smac = sha): Uint8Array {
  const f = new Uint8Array(42);
  const v = new DataView(f.buffer);
  f.set(dmac, 0); f.set(smac, 6); v.setUint16(12, 0x0806);
  v.setUint16(14, 1); v.setUint16(16, 0x0800); f[18] = 6; f[19] = 4; v.setUint16(20, op);
  f.set(sha, 22); v.setUint32(28, spa); f.set(tha, 32); v.setUint32(38, tpa);
  return f;
}

interface Out { kind: string; dmac: number[]; frame: Uint8Array; tcpFlags?: number; seq?: number; ack?: number; dport?: number; sport?: number; icmpType?: number; payload?: Uint8Array }

class Rig {
  now: bigint;
  out: Out[] = [];
  private pending: Uint8Array[] = [];
  constructor(readonly core: StackCore, now: bigint) { this.now = now; }
  static async make(cfg: StackConfig = {}): Promise<Rig> {
    const core = await StackCore.create({
      maxConnections: 64, maxListeners: 8, syncacheEntries: 64, maxTimeWait: 32, chunkCount: 256, chunkSize: 2048,
      rxSlots: 64, txSlots: 128, slotSize: 2048, eventRingSize: 512, shards: 16, timeWaitMs: 2000,
      secret: new Uint8Array(16).fill(0x77), ...cfg, mac: "02:00:00:00:00:0b", ipv4: "198.18.0.2/24",
    }, 1_000_000n);
    return new Rig(core, 1_000_000n);
  }
  send(...frames: Uint8Array[]): void { this.pending.push(...frames); this.pump(); }
  pump(): void {
    for (let round = 0; round < 100_000; round++) {
      while (this.pending.length && this.core.rxFree() > 0) {
        const f = this.pending.shift()!;
        const slot = this.core.rxSlot()!;
        slot.set(f.subarray(0, Math.min(f.length, slot.length)));
        this.core.rxCommit(f.length, this.now);
      }
      const r = this.core.tick(this.now);
      this.drain();
      if (r !== 0 && this.pending.length === 0 && this.core.rx.used === 0) return;
    }
    assert.fail("never idle");
  }
  drain(): void {
    this.core.txDrain((fr) => {
      const f = fr.slice();
      const v = new DataView(f.buffer);
      const o: Out = { kind: "other", dmac: [...f.subarray(0, 6)], frame: f };
      const et = v.getUint16(12);
      if (et === 0x0806) {
        o.kind = v.getUint16(20) === 1 ? "arp-req" : "arp-rep";
        if (o.kind === "arp-req" && v.getUint32(38) === A_IP) this.pending.push(arp(2, A_MAC, A_IP, B_MAC, B_IP));
      } else if (et === 0x0800) {
        const ihl = (f[14] & 15) * 4;
        const t = 14 + ihl;
        if (f[23] === 6) { o.kind = "tcp"; o.sport = v.getUint16(t); o.dport = v.getUint16(t + 2); o.seq = v.getUint32(t + 4); o.ack = v.getUint32(t + 8); o.tcpFlags = f[t + 13]; }
        if (f[23] === 1) { o.kind = "icmp"; o.icmpType = f[t]; o.payload = f.slice(t + 8, 14 + v.getUint16(16)); }
      }
      this.out.push(o);
    });
    this.core.drainEvents(() => {});
  }
  advance(ms: number): void {
    const end = this.now + BigInt(ms) * 1000n;
    for (let i = 0; i < 1_000_000; i++) {
      const r = this.core.tick(this.now);
      this.drain();
      if (this.pending.length) { this.pump(); continue; }
      if (r === 0) continue;
      if (this.now >= end) return;
      const step = r < 0 ? end - this.now : BigInt(Math.max(1, r)) * 1000n;
      this.now = this.now + step > end ? end : this.now + step;
    }
  }
  take(): Out[] { const o = this.out; this.out = []; return o; }
  stats(): Record<string, bigint> { return this.core.stats(); }
  /** rx_frames == Σ dispositions (docs/iface.md). */
  assertAccounted(): void {
    const s = this.stats();
    let sum = 0n;
    for (let i = IFACE_DISP_FIRST; i <= IFACE_DISP_LAST; i++) sum += s[`iface_${IFACE_STAT_NAMES[i]}`];
    assert.equal(sum, s.iface_rx_frames, "every frame has exactly one disposition");
  }
  /** A TCP handshake from A to port 80 completes and data is delivered. */
  control(listener: number, sport: number): void {
    this.take();
    this.send(ipFrame({ proto: 6, payload: tcpSeg({ sport, dport: 80, seq: 1000, flags: F.SYN, opts: [2, 4, 5, 0xb4] }) }));
    const sa = this.take().find((o) => o.kind === "tcp" && o.dport === sport && o.tcpFlags === (F.SYN | F.ACK));
    assert.ok(sa, "control SYN,ACK");
    assert.deepEqual(sa.dmac, A_MAC, "addressed to A's real MAC");
    this.send(ipFrame({ proto: 6, payload: tcpSeg({ sport, dport: 80, seq: 1001, ack: sa.seq! + 1, flags: F.ACK | F.PSH, data: new Uint8Array([1, 2, 3]) }) }));
    const h = this.core.accept(listener);
    assert.ok(h !== 0, "control connection accepted");
    const buf = new Uint8Array(16);
    assert.equal(this.core.recvInto(h, buf), 3);
    this.core.abort(h);
    this.drain();
    this.take();
  }
}

// ═══════════════════════════════════════════════════════════════════════════════

test("frames of every length 0..2100 (random bytes and truncations of valid TCP/ICMP/ARP frames): no trap, every frame accounted, listener still works", async () => {
  const seed = 0xb4eaf00d;
  console.log(`# seed 0x${seed.toString(16)}`);
  const rand = rng(seed);
  const r = await Rig.make();
  const l = r.core.listen(80, 0, 16);
  const cap = r.core.rx.slotSize - ABI.SLOT_HDR_SIZE;
  const syn = ipFrame({ proto: 6, payload: tcpSeg({ sport: 999, dport: 80, seq: 1, flags: F.SYN, data: new Uint8Array(1900) }) });
  const ping = ipFrame({ proto: 1, payload: icmpEcho(1, 1, new Uint8Array(1472)) });
  const arpReq = arp(1, A_MAC, A_IP, [0, 0, 0, 0, 0, 0], B_IP);
  const before = r.stats();
  let fed = 0, oversize = 0;
  for (let len = 0; len <= 2100; len++) {
    const rnd = new Uint8Array(len);
    for (let i = 0; i < len; i++) rnd[i] = rand() & 0xff;
    // random bytes behind our MAC + IPv4 type so they get past Ethernet
    const ipRnd = rnd.slice();
    if (len >= 14) { ipRnd.set(B_MAC, 0); ipRnd[12] = 8; ipRnd[13] = 0; if (len > 14) ipRnd[14] = 0x45; }
    const frames = [rnd, ipRnd, syn.slice(0, Math.min(len, syn.length)), ping.slice(0, Math.min(len, ping.length)), arpReq.slice(0, Math.min(len, 42))];
    for (const f of frames) {
      const padded = new Uint8Array(len);
      padded.set(f);
      r.send(padded);
      fed++;
      if (len === 0 || len > cap) oversize++;
    }
  }
  const after = r.stats();
  assert.equal(after.iface_rx_frames - before.iface_rx_frames + (after.rxBadLength - before.rxBadLength), BigInt(fed), `every frame either reached the interface or was refused by the ring (fed ${fed})`);
  assert.equal(after.rxBadLength - before.rxBadLength, BigInt(oversize), "length 0 and above the slot counted as rxBadLength");
  r.assertAccounted();
  r.control(l, 40000);
});

test("ARP cache flood: 5000 requests for our address from distinct senders keep the cache bounded, A's entry is not poisoned by unsolicited replies or gratuitous ARP", async () => {
  const r = await Rig.make({ arpEntries: 16, arpPending: 8 });
  const l = r.core.listen(80, 0, 16);
  r.control(l, 40001); // A is resolved
  const mem = r.core.memory.buffer.byteLength;
  for (let i = 0; i < 5000; i++) {
    const ip = parseIpv4("198.18.0.0") + 3 + (i % 250);
    r.send(arp(1, [0x02, 1, 2, 3, (i >> 8) & 255, i & 255], ip, [0, 0, 0, 0, 0, 0], B_IP));
  }
  assert.ok(r.core.gauges().arpEntries <= 16, `arpEntries ${r.core.gauges().arpEntries}`);
  assert.equal(r.core.memory.buffer.byteLength, mem, "memory did not grow");
  // poisoning attempts for A: unsolicited reply, gratuitous request, gratuitous reply
  const EVIL = [0x02, 0xee, 0xee, 0xee, 0xee, 0xee];
  r.send(arp(2, EVIL, A_IP, B_MAC, B_IP, B_MAC, EVIL));
  r.send(arp(1, EVIL, A_IP, [0, 0, 0, 0, 0, 0], A_IP, BCAST, EVIL));
  r.send(arp(2, EVIL, A_IP, BCAST, A_IP, BCAST, EVIL));
  r.take();
  r.control(l, 40002);
  r.assertAccounted();
  // senders that are not on our prefix, broadcast or zero never enter
  for (const ip of [0, 0xffffffff, parseIpv4("10.0.0.1"), parseIpv4("198.18.0.255"), B_IP]) {
    r.send(arp(1, [0x02, 9, 9, 9, 9, 9], ip, [0, 0, 0, 0, 0, 0], B_IP));
  }
  r.advance(60_000);
  r.control(l, 40003);
  r.assertAccounted();
});

test("ICMP: echo to the limited and the subnet broadcast is ignored; echo of every size 0..1472 comes back identical; oversize reassembled echo dropped", async () => {
  const r = await Rig.make();
  const l = r.core.listen(80, 0, 16);
  r.control(l, 40010);
  for (const dst of [0xffffffff, parseIpv4("198.18.0.255")]) {
    r.send(ipFrame({ proto: 1, dst, dmac: BCAST, payload: icmpEcho(7, 1, new Uint8Array(32)) }));
  }
  assert.equal(r.take().filter((o) => o.kind === "icmp").length, 0, "no reply to broadcast echo");
  for (let n = 0; n <= 1472; n += (n < 64 ? 1 : 97)) {
    const p = new Uint8Array(n).map((_, i) => (i * 13 + n) & 255);
    r.send(ipFrame({ proto: 1, payload: icmpEcho(9, n, p) }));
    r.advance(50); // stay under the ICMP rate limit
    const rep = r.take().filter((o) => o.kind === "icmp");
    assert.equal(rep.length, 1, `one reply for ${n} bytes`);
    assert.equal(rep[0].icmpType, 0);
    assert.deepEqual(rep[0].payload, p, `payload of ${n} bytes identical`);
  }
  // unicast IP in an Ethernet broadcast frame: not for us (RFC 1122 §3.3.6)
  r.send(ipFrame({ proto: 1, dmac: BCAST, payload: icmpEcho(9, 1, new Uint8Array(8)) }));
  // TCP SYN to the broadcast address
  r.send(ipFrame({ proto: 6, dst: 0xffffffff, dmac: BCAST, payload: tcpSeg({ sport: 5, dport: 80, seq: 1, flags: F.SYN, dst: 0xffffffff }) }));
  // land attack: source = our address
  r.send(ipFrame({ proto: 6, src: B_IP, payload: tcpSeg({ sport: 80, dport: 80, seq: 1, flags: F.SYN, src: B_IP }) }));
  assert.equal(r.take().length, 0, "no reply to any of them");
  r.assertAccounted();
  r.control(l, 40011);
});

/** Splits an IPv4 payload into fragments at the given byte offsets (multiples of 8). */
function fragments(proto: number, payload: Uint8Array, cuts: number[], id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pts = [0, ...cuts, payload.length];
  for (let i = 0; i + 1 < pts.length; i++) {
    out.push(ipFrame({ proto, id, fragOff: pts[i], mf: i + 2 < pts.length, payload: payload.subarray(pts[i], pts[i + 1]) }));
  }
  return out;
}

test("IPv4 fragments carrying TCP: a SYN split in 8-byte fragments, data in reverse order, overlapping fragments dropped, slots exhausted then freed by the timeout", async () => {
  const r = await Rig.make({ reasmSlots: 2 });
  const l = r.core.listen(80, 0, 16);
  r.control(l, 40020);
  // fragmented SYN (header split mid-options)
  const syn = tcpSeg({ sport: 41000, dport: 80, seq: 5000, flags: F.SYN, opts: [2, 4, 5, 0xb4] });
  r.send(...fragments(6, syn, [8, 16], 0x100));
  const sa = r.take().find((o) => o.kind === "tcp" && o.dport === 41000);
  assert.ok(sa, "SYN,ACK for a fragmented SYN");
  assert.equal(sa.tcpFlags, F.SYN | F.ACK);
  r.send(ipFrame({ proto: 6, payload: tcpSeg({ sport: 41000, dport: 80, seq: 5001, ack: sa.seq! + 1, flags: F.ACK }) }));
  const h = r.core.accept(l);
  assert.ok(h !== 0);
  // 1000 bytes of data in 4 fragments, sent in reverse order
  const d = new Uint8Array(1000).map((_, i) => i & 255);
  const seg = tcpSeg({ sport: 41000, dport: 80, seq: 5001, ack: sa.seq! + 1, flags: F.ACK | F.PSH, data: d });
  r.send(...fragments(6, seg, [256, 512, 768], 0x101).reverse());
  const buf = new Uint8Array(2000);
  assert.equal(r.core.recvInto(h, buf), 1000);
  assert.deepEqual(buf.subarray(0, 1000), d);
  // overlapping fragments (a rewrite of bytes 8..23 in a second fragment) → dropped
  const seg2 = tcpSeg({ sport: 41000, dport: 80, seq: 6001, ack: sa.seq! + 1, flags: F.ACK | F.PSH, data: new Uint8Array(100).fill(7) });
  const fr = fragments(6, seg2, [32], 0x102);
  const evil = ipFrame({ proto: 6, id: 0x102, fragOff: 8, mf: true, payload: new Uint8Array(16).fill(0xee) });
  r.send(fr[0], evil, fr[1]);
  assert.equal(r.core.recvQueued(h), 0, "overlap: nothing delivered");
  assert.ok(r.stats().iface_ip_frag_drop_overlap >= 1n);
  // exhaust the 2 slots with first fragments that never complete, then a third datagram
  r.send(...fragments(6, tcpSeg({ sport: 1, dport: 80, seq: 1, flags: F.SYN, data: new Uint8Array(64) }), [32], 0x200).slice(0, 1));
  r.send(...fragments(6, tcpSeg({ sport: 2, dport: 80, seq: 1, flags: F.SYN, data: new Uint8Array(64) }), [32], 0x201).slice(0, 1));
  r.send(...fragments(6, seg2, [32], 0x103));
  assert.ok(r.stats().iface_ip_frag_drop_no_buffer >= 1n, "no free reassembly slot counted");
  r.take();
  r.advance(31_000);
  const te = r.take().filter((o) => o.kind === "icmp" && o.icmpType === 11);
  assert.ok(te.length >= 1, "ICMP time exceeded after the reassembly timeout");
  // slots free again: the same segment now gets through
  r.send(...fragments(6, seg2, [32], 0x104));
  assert.equal(r.core.recvQueued(h), 100);
  r.core.abort(h);
  r.drain();
  r.assertAccounted();
  r.control(l, 40021);
});
