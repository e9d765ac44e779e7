// What the AF_PACKET link does with frames the kernel left for offload (host/link/packet.ts),
// without a kernel: the tpacket_auxdata parser, completing an IPv4 TCP/UDP checksum in
// place, cutting a TSO/GRO super-frame into segments, and the msghdr the FFI seam builds
// for recvmsg/sendmsg. Hand-built frames, fixed seeds (printed); the kernel side of the
// same paths is in link-packet.test.ts and interop-kernel.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { auxdataStatus, completeL4Checksum, TcpSegmenter } from "../../host/link/packet.ts";
import { fillMsghdr, MSGHDR_BLOCK_SIZE, MSGHDR_SIZE, IOVEC_SIZE, PACKET_AUXDATA, SOL_PACKET, TP_STATUS_CSUMNOTREADY } from "../../host/runtime/ffi.ts";
import { Prng } from "../../host/link/faults.ts";
import { inetChecksum } from "../helpers/netns.ts";

const SRC = [198, 18, 1, 1];
const DST = [198, 18, 1, 2];

/** Ethernet II + IPv4 (no options) + TCP (thl bytes) or UDP carrying `payload`; checksums left 0. */
function frame(proto: 6 | 17, payload: Uint8Array, o: { thl?: number; seq?: number; flags?: number; id?: number; frag?: number } = {}): Uint8Array {
  const l4h = proto === 6 ? (o.thl ?? 20) : 8;
  const total = 20 + l4h + payload.length;
  const f = new Uint8Array(14 + total);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const ip = 14;
  f[ip] = 0x45;
  f[ip + 2] = total >>> 8;
  f[ip + 3] = total & 255;
  f[ip + 4] = (o.id ?? 0x1234) >>> 8;
  f[ip + 5] = (o.id ?? 0x1234) & 255;
  f[ip + 6] = 0x40 | ((o.frag ?? 0) >>> 8); // DF
  f[ip + 7] = (o.frag ?? 0) & 255;
  f[ip + 8] = 64;
  f[ip + 9] = proto;
  f.set(SRC, ip + 12);
  f.set(DST, ip + 16);
  const c = inetChecksum(f, ip, 20);
  f[ip + 10] = c >>> 8;
  f[ip + 11] = c & 255;
  const l4 = ip + 20;
  f.set([0x9c, 0x40, 0x1f, 0x90], l4); // ports 40000 -> 8080
  if (proto === 6) {
    new DataView(f.buffer).setUint32(l4 + 4, o.seq ?? 1000);
    new DataView(f.buffer).setUint32(l4 + 8, 777);
    f[l4 + 12] = ((o.thl ?? 20) / 4) << 4;
    f[l4 + 13] = o.flags ?? 0x18; // PSH|ACK
    f[l4 + 14] = 0xff;
    for (let i = l4 + 20; i < l4 + (o.thl ?? 20); i++) f[i] = 1; // NOP options
  } else {
    f[l4 + 4] = (8 + payload.length) >>> 8;
    f[l4 + 5] = (8 + payload.length) & 255;
  }
  f.set(payload, l4 + l4h);
  return f;
}

/** True when the L4 checksum of `f` verifies (sum over pseudo-header + segment is 0). */
function l4Ok(f: Uint8Array): boolean {
  const ip = 14;
  const ihl = (f[ip] & 15) * 4;
  const total = (f[ip + 2] << 8) | f[ip + 3];
  const l4len = total - ihl;
  const pseudo = new Uint8Array(12 + l4len);
  pseudo.set(f.subarray(ip + 12, ip + 20), 0);
  pseudo[9] = f[ip + 9];
  pseudo[10] = l4len >>> 8;
  pseudo[11] = l4len & 255;
  pseudo.set(f.subarray(ip + ihl, ip + total), 12);
  return inetChecksum(pseudo, 0, pseudo.length) === 0;
}

function bytes(n: number, seed: number): Uint8Array {
  const r = new Prng(seed, 3);
  return Uint8Array.from({ length: n }, () => r.nextU32() & 255);
}

test("offload: completeL4Checksum computes TCP and UDP checksums in place, over any partial value in the field", () => {
  for (const proto of [6, 17] as const) {
    for (const n of [0, 1, 2, 333, 1400]) {
      const f = frame(proto, bytes(n, n + proto));
      const field = 14 + 20 + (proto === 6 ? 16 : 6);
      f[field] = 0xab; // what CHECKSUM_PARTIAL leaves: the pseudo-header sum (any value here)
      f[field + 1] = 0xcd;
      assert.equal(completeL4Checksum(f, f.length), true);
      assert.ok(l4Ok(f), `proto ${proto}, ${n} payload bytes`);
    }
  }
  // Ethernet padding after the IPv4 total length is not summed.
  const padded = new Uint8Array(64);
  const small = frame(6, new Uint8Array(0));
  padded.set(small);
  padded.fill(0xee, small.length);
  assert.equal(completeL4Checksum(padded, padded.length), true);
  assert.ok(l4Ok(padded));
});

test("offload: a UDP checksum that comes out 0 is sent as 0xffff (RFC 768)", () => {
  // Pick the 2-byte payload that makes the ones'-complement sum 0xffff (checksum 0).
  const f = frame(17, new Uint8Array(2));
  completeL4Checksum(f, f.length);
  const c0 = (f[40] << 8) | f[41];
  const s0 = ~c0 & 0xffff; // the sum with a zero payload
  const w = 0xffff - s0;
  f[42] = w >>> 8;
  f[43] = w & 255;
  f[40] = f[41] = 0;
  assert.equal(completeL4Checksum(f, f.length), true);
  assert.deepEqual([f[40], f[41]], [0xff, 0xff], "0 is written as 0xffff");
  assert.ok(l4Ok(f), "and still verifies");
  // TCP has no such rule: the same sum gives 0x0000.
  const t = frame(6, new Uint8Array(0));
  completeL4Checksum(t, t.length);
  assert.ok(l4Ok(t));
});

test("offload: anything that is not a whole unfragmented IPv4 TCP/UDP frame is left untouched (never throws)", () => {
  const good = frame(6, bytes(100, 1));
  const cases: Array<[string, Uint8Array, number]> = [];
  const mut = (what: string, fn: (f: Uint8Array) => void, len?: number) => {
    const f = good.slice();
    fn(f);
    cases.push([what, f, len ?? f.length]);
  };
  mut("ARP", (f) => { f[13] = 0x06; });
  mut("IPv6 EtherType", (f) => { f[12] = 0x86; f[13] = 0xdd; });
  mut("version 6 in an IPv4 frame", (f) => { f[14] = 0x65; });
  mut("IHL 4", (f) => { f[14] = 0x44; });
  mut("total length beyond the frame", (f) => { f[16] = 0x7f; });
  mut("total length below the IHL", (f) => { f[16] = 0; f[17] = 10; });
  mut("more fragments", (f) => { f[20] |= 0x20; });
  mut("fragment offset", (f) => { f[21] = 1; });
  mut("ICMP", (f) => { f[23] = 1; });
  mut("truncated to 20 bytes", () => undefined, 20);
  mut("TCP shorter than its header", (f) => { f[16] = 0; f[17] = 30; }, 44);
  for (const [what, f, len] of cases) {
    const before = f.slice();
    assert.equal(completeL4Checksum(f, len), false, what);
    assert.deepEqual(f, before, `${what}: unchanged`);
  }
  // A length past the view is clamped, not read.
  assert.equal(completeL4Checksum(good.slice(0, 30), 1000), false);
  // Seeded garbage: never throws.
  const r = new Prng(99, 1);
  for (let i = 0; i < 2000; i++) {
    const f = Uint8Array.from({ length: r.nextU32() % 200 }, () => r.nextU32() & 255);
    if (f.length > 14) { f[12] = 8; f[13] = 0; }
    completeL4Checksum(f, r.nextU32() % 256);
  }
});

/** A control buffer holding the given cmsgs (level, type, data), each 8-aligned. */
function cmsgs(list: Array<[number, number, Uint8Array, number?]>): Uint8Array {
  const out = new Uint8Array(256);
  const v = new DataView(out.buffer);
  let off = 0;
  for (const [level, type, data, lenOverride] of list) {
    v.setUint32(off, lenOverride ?? 16 + data.length, true);
    v.setInt32(off + 8, level, true);
    v.setInt32(off + 12, type, true);
    out.set(data, off + 16);
    off += (16 + data.length + 7) & ~7;
  }
  return out.subarray(0, off);
}

function auxdata(status: number): Uint8Array {
  const a = new Uint8Array(20);
  new DataView(a.buffer).setUint32(0, status, true);
  return a;
}

test("offload: auxdataStatus finds tp_status behind any other cmsg and rejects damaged control data", () => {
  const one = cmsgs([[SOL_PACKET, PACKET_AUXDATA, auxdata(TP_STATUS_CSUMNOTREADY | 1)]]);
  assert.equal(one.length, 40, "CMSG_SPACE(20) on 64-bit Linux");
  assert.equal(auxdataStatus(one, one.length), TP_STATUS_CSUMNOTREADY | 1);
  const behind = cmsgs([[1, 29, new Uint8Array(12)], [SOL_PACKET, PACKET_AUXDATA, auxdata(0x80)]]);
  assert.equal(auxdataStatus(behind, behind.length), 0x80);
  assert.equal(auxdataStatus(one, 0), -1, "controllen 0: none");
  assert.equal(auxdataStatus(one, 35), -1, "cut short: none");
  assert.equal(auxdataStatus(cmsgs([[SOL_PACKET, PACKET_AUXDATA, auxdata(8), 0]]), 40), -1, "cmsg_len 0 ends the walk (no endless loop)");
  assert.equal(auxdataStatus(cmsgs([[SOL_PACKET, PACKET_AUXDATA, auxdata(8), 400]]), 40), -1, "cmsg_len past the end");
  assert.equal(auxdataStatus(cmsgs([[SOL_PACKET, PACKET_AUXDATA, new Uint8Array(8)]]), 24), -1, "too short for tpacket_auxdata");
  assert.equal(auxdataStatus(cmsgs([[0, PACKET_AUXDATA, auxdata(8)]]), 40), -1, "another level");
  assert.equal(auxdataStatus(one, 4096), TP_STATUS_CSUMNOTREADY | 1, "a controllen past the buffer is clamped");
});

/** Segments cut from `f` by a TcpSegmenter (mss, maxLen), copied out. */
function cut(f: Uint8Array, mss: number, maxLen = 1514): Uint8Array[] {
  const s = new TcpSegmenter();
  s.buf.set(f);
  assert.equal(s.load(f.length, mss, maxLen), true);
  const slot = new Uint8Array(new WebAssembly.Memory({ initial: 1 }).buffer, 2048, 1518);
  const out: Uint8Array[] = [];
  for (let g = 0; g < 100 && s.active; g++) {
    const n = s.next(slot);
    assert.ok(n > 0);
    out.push(slot.slice(0, n));
  }
  assert.equal(s.active, false);
  assert.equal(s.next(slot), 0, "nothing after the last segment");
  return out;
}

test("offload: a TSO/GRO super-frame is cut into MSS segments as tcp_gso_segment would", () => {
  const payload = bytes(5000, 7);
  const big = frame(6, payload, { thl: 32, seq: 0xfffff000, flags: 0x80 | 0x18 | 0x01, id: 0xfffe }); // CWR|PSH|ACK|FIN, seq wraps
  const segs = cut(big, 1448);
  assert.deepEqual(segs.map((s) => s.length - 14 - 20 - 32), [1448, 1448, 1448, 656]);
  const dv = (s: Uint8Array) => new DataView(s.buffer, s.byteOffset);
  const got: number[] = [];
  segs.forEach((s, k) => {
    assert.equal(inetChecksum(s, 14, 20), 0, `segment ${k}: IPv4 header checksum`);
    assert.ok(l4Ok(s), `segment ${k}: TCP checksum`);
    assert.equal(dv(s).getUint16(16), s.length - 14, `segment ${k}: total length`);
    assert.equal(dv(s).getUint16(18), (0xfffe + k) & 0xffff, `segment ${k}: IP id`);
    assert.equal(dv(s).getUint32(34 + 4), (0xfffff000 + k * 1448) >>> 0, `segment ${k}: sequence number`);
    const fl = s[34 + 13];
    assert.equal((fl & 0x80) !== 0, k === 0, "CWR on the first only");
    assert.equal((fl & 0x09) !== 0, k === segs.length - 1, "FIN and PSH on the last only");
    assert.equal(fl & 0x10, 0x10, "ACK on all");
    assert.deepEqual(s.subarray(34 + 20, 34 + 32), big.subarray(34 + 20, 34 + 32), "options copied");
    got.push(...s.subarray(14 + 20 + 32));
  });
  assert.deepEqual(Uint8Array.from(got), payload, "the payload, in order, exactly once");
  // The MTU bounds the segment size even when the GSO size is larger or unknown (0).
  assert.deepEqual(cut(big, 9000, 1014).map((s) => s.length), [1014, 1014, 1014, 1014, 1014, 1014].slice(0, 5).concat([14 + 52 + 5000 - 5 * 948]));
  assert.deepEqual(cut(big, 0, 1514).map((s) => s.length), [1514, 1514, 1514, 14 + 52 + 5000 - 3 * 1448]);
  // No payload: one segment, headers only.
  assert.equal(cut(frame(6, new Uint8Array(0)), 1000).length, 1);
});

test("offload: the segmenter refuses what it cannot cut, and a segment that does not fit the slot ends the frame", () => {
  const s = new TcpSegmenter(4096);
  const put = (f: Uint8Array) => { s.buf.fill(0); s.buf.set(f); return f.length; };
  assert.equal(s.load(put(frame(17, bytes(100, 1))), 1000, 1514), false, "UDP");
  const frag = frame(6, bytes(100, 1), { frag: 0x2000 });
  assert.equal(s.load(put(frag), 1000, 1514), false, "a fragment");
  const f = frame(6, bytes(3000, 2));
  assert.equal(s.load(put(f), 1000, 54), false, "no payload byte fits maxLen");
  assert.equal(s.load(put(f), 1000, 1514), true);
  assert.equal(s.load(99999, 1000, 1514), false, "length beyond the buffer");
  assert.equal(s.load(put(f), 1000, 1514), true);
  assert.equal(s.next(new Uint8Array(500)), 0, "slot too small: nothing written, the rest dropped");
  assert.equal(s.active, false);
});

test("offload: the msghdr block for recvmsg/sendmsg matches struct msghdr/iovec on 64-bit Linux", () => {
  const block = new DataView(new ArrayBuffer(MSGHDR_BLOCK_SIZE));
  const addrs = new Map<Uint8Array, bigint>();
  const name = new Uint8Array(20), control = new Uint8Array(128), a = new Uint8Array(10), b = new Uint8Array(1518), c = new Uint8Array(0);
  [name, control, a, b].forEach((v, i) => addrs.set(v, 0x1000n * BigInt(i + 1)));
  fillMsghdr(block, (v) => addrs.get(v)!, 0x9000n, [a, b, c], name, control);
  const u64 = (o: number) => block.getBigUint64(o, true);
  assert.equal(u64(0), 0x1000n, "msg_name");
  assert.equal(block.getUint32(8, true), 20, "msg_namelen");
  assert.equal(u64(16), 0x9000n + BigInt(MSGHDR_SIZE), "msg_iov points just past the msghdr");
  assert.equal(u64(24), 3n, "msg_iovlen");
  assert.equal(u64(32), 0x2000n, "msg_control");
  assert.equal(u64(40), 128n, "msg_controllen");
  assert.equal(block.getInt32(48, true), 0, "msg_flags");
  assert.deepEqual([0, 1, 2].map((i) => [u64(MSGHDR_SIZE + i * IOVEC_SIZE), u64(MSGHDR_SIZE + i * IOVEC_SIZE + 8)]), [[0x3000n, 10n], [0x4000n, 1518n], [0n, 0n]]);
  fillMsghdr(block, (v) => addrs.get(v)!, 0x9000n, [b], name, null);
  assert.equal(u64(32), 0n, "no control buffer");
  assert.equal(u64(40), 0n);
  assert.throws(() => fillMsghdr(block, () => 0n, 0n, [], name, null), RangeError);
  assert.throws(() => fillMsghdr(block, () => 0n, 0n, [a, a, a, a, a], name, null), RangeError);
});
