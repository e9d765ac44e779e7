// RFC 1071 sum, pseudo-header sum and RFC 1624 incremental update, checked against
// published vectors and a byte-at-a-time reference over seeded random buffers.
import {
  checksumPartial, checksum, checksumFinish, pseudoHeaderSum, sumAdd,
  checksumUpdate16, checksumUpdate32,
} from "../../assembly/util/checksum";
import { loadU16BE, storeU16BE, storeU32BE, loadU32BE, loadMac, storeMac } from "../../assembly/util/bytes";

function bytes(hex: string): usize {
  const n = hex.length >> 1;
  const p = heap.alloc(n + 16);
  for (let i = 0; i < n; i++) store<u8>(p + i, <u8>I32.parseInt(hex.substr(i * 2, 2), 16));
  return p;
}

/** Reference: 16-bit big-endian words one at a time, 32-bit accumulator, RFC 1071 §4.1. */
function refSum(p: usize, len: u32): u32 {
  let s: u32 = 0;
  let i: u32 = 0;
  while (i + 1 < len) {
    s += (<u32>load<u8>(p + i) << 8) | load<u8>(p + i + 1);
    i += 2;
  }
  if (i < len) s += <u32>load<u8>(p + i) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

let rng: u32 = 0x1234567;
function rnd(): u32 {
  rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
  return rng;
}

describe("util/bytes", () => {
  test("big-endian loads and stores", () => {
    const p = heap.alloc(16);
    storeU16BE(p, 0x1234);
    expect(load<u8>(p)).toBe(0x12);
    expect(load<u8>(p + 1)).toBe(0x34);
    expect(loadU16BE(p)).toBe(0x1234);
    storeU32BE(p + 3, 0xc0a80001);
    expect(load<u8>(p + 3)).toBe(0xc0);
    expect(load<u8>(p + 6)).toBe(0x01);
    expect(loadU32BE(p + 3)).toBe(0xc0a80001);
    storeMac(p + 8, 0x02005e100001);
    expect(load<u8>(p + 8)).toBe(0x02);
    expect(load<u8>(p + 13)).toBe(0x01);
    expect(loadMac(p + 8)).toBe(0x02005e100001);
  });
});

describe("util/checksum", () => {
  test("RFC 1071 §3 example sums to 0xddf2", () => {
    const p = bytes("0001f203f4f5f6f7");
    expect(checksumPartial(p, 8, 0)).toBe(0xddf2);
    expect(checksum(p, 8)).toBe(<u16>~0xddf2);
  });

  test("known IPv4 header: checksum b861 verifies and refills", () => {
    const p = bytes("450000730000400040110000c0a80001c0a800c7");
    expect(checksum(p, 20)).toBe(0xb861);
    storeU16BE(p + 10, 0xb861);
    expect(checksum(p, 20)).toBe(0);
  });

  test("wide-load sum equals the byte-wise reference for every length 0..300 and alignment 0..7", () => {
    const buf = heap.alloc(400);
    for (let k = 0; k < 400; k++) store<u8>(buf + k, <u8>rnd());
    for (let a: u32 = 0; a < 8; a++) {
      for (let len: u32 = 0; len <= 300; len++) {
        expect(checksumPartial(buf + a, len, 0)).toBe(refSum(buf + a, len));
      }
    }
  });

  test("all-0xFF data never overflows the accumulator", () => {
    const n: u32 = 65536;
    const p = heap.alloc(n);
    memory.fill(p, 0xff, n);
    expect(checksumPartial(p, n, 0)).toBe(refSum(p, n));
    expect(checksumPartial(p, n - 1, 0)).toBe(refSum(p, n - 1));
  });

  test("pieces at even offsets add up to the whole", () => {
    const p = heap.alloc(200);
    for (let k = 0; k < 200; k++) store<u8>(p + k, <u8>rnd());
    const whole = checksumPartial(p, 131, 0);
    const s = checksumPartial(p + 20, 111, checksumPartial(p, 20, 0));
    expect(s).toBe(whole);
    expect(sumAdd(checksumPartial(p, 20, 0), checksumPartial(p + 20, 111, 0))).toBe(whole);
  });

  test("odd trailing byte is padded on the right", () => {
    const p = bytes("ab");
    expect(checksumPartial(p, 1, 0)).toBe(0xab00);
  });

  test("pseudo-header sum equals the sum of its 12 bytes", () => {
    const p = bytes("c0a80001c0a800c70006001c");
    expect(pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 6, 28)).toBe(refSum(p, 12));
  });

  test("RFC 1624 incremental update equals a full recomputation (16 and 32 bit)", () => {
    const p = heap.alloc(64);
    for (let trial = 0; trial < 2000; trial++) {
      for (let k = 0; k < 40; k++) store<u8>(p + k, <u8>rnd());
      storeU16BE(p + 10, 0);
      const hc = checksum(p, 40);
      storeU16BE(p + 10, hc);
      const off = <usize>((rnd() % 9) * 2 + 12);
      const old16 = loadU16BE(p + off);
      const new16 = <u16>rnd();
      storeU16BE(p + off, new16);
      const inc = checksumUpdate16(hc, old16, new16);
      storeU16BE(p + 10, 0);
      expect(inc).toBe(checksum(p, 40));
      storeU16BE(p + 10, inc);
      expect(checksum(p, 40)).toBe(0);
      const old32 = loadU32BE(p + 24);
      const new32 = rnd();
      storeU32BE(p + 24, new32);
      const inc32 = checksumUpdate32(inc, old32, new32);
      storeU16BE(p + 10, 0);
      expect(inc32).toBe(checksum(p, 40));
    }
  });

  test("finish of 0xFFFF is 0", () => {
    expect(checksumFinish(0xffff)).toBe(0);
    expect(checksumFinish(0)).toBe(0xffff);
  });
});
