// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Conventions of this file (TCP's wire/tcp.ts builds on them, keep them stable):
//   - A *partial sum* is a u32 holding a ones'-complement sum already folded to
//     16 bits (0..0xFFFF), in network numeric order: the 16-bit words are read
//     big-endian, as they appear on the wire. Partial sums of pieces add up with
//     `sumAdd`, and `checksumFinish` turns the total into the field value.
//   - A piece summed with `checksumPartial` must start at an even offset of the
//     checksummed data (every header length is even, so header then payload is
//     fine); an odd-length piece must be the last one (RFC 1071 §4.1: the odd
//     trailing byte is padded with a zero byte on the right).
//
// Wide loads: RFC 1071 §2(B) notes that the sum is independent of byte order when
// the result is swapped back, and §2(C) that words may be added in parallel and
// folded later. So we add little-endian u64 words into a u64 accumulator (with the
// end-around carry kept in a second accumulator), fold 64 → 16 bits, and swap the
// bytes of the 16-bit result once.
//
//   verify:  checksumFinish(sum over the data *including* the checksum field) == 0
//   fill:    field = checksumFinish(sum over the data with the field zeroed)

/** Folds a wide ones'-complement accumulator to 16 bits (RFC 1071 §4.1 "fold 32-bit sum to 16 bits"). */
@inline
export function fold64(acc: u64): u32 {
  // 2^16 ≡ 1 (mod 0xFFFF), so adding the 16-bit chunks preserves the sum.
  let s: u64 = (acc & 0xffff_ffff) + (acc >> 32); // ≤ 0x1_FFFF_FFFE
  s = (s & 0xffff_ffff) + (s >> 32); // ≤ 0xFFFF_FFFF
  let t = <u32>s;
  t = (t & 0xffff) + (t >> 16); // ≤ 0x1_FFFE
  t = (t & 0xffff) + (t >> 16); // ≤ 0xFFFF
  return t;
}

/** Adds two partial sums (each 0..0xFFFF, or any u32 sum of them) and folds to 16 bits. */
@inline
export function sumAdd(a: u32, b: u32): u32 {
  return fold64(<u64>a + <u64>b);
}

/**
 * Ones'-complement sum of `len` bytes at `p`, added to the partial sum `initial`.
 * Returns a partial sum (0..0xFFFF, network numeric order).
 */
export function checksumPartial(p: usize, len: u32, initial: u32): u32 {
  let acc: u64 = 0; // little-endian-domain sum of u64 words (mod 2^64)
  let carry: u64 = 0; // carries out of bit 63 (each worth 2^64 ≡ 1)
  let q = p;
  let n = len;
  while (n >= 32) {
    const w0 = load<u64>(q);
    const w1 = load<u64>(q, 8);
    const w2 = load<u64>(q, 16);
    const w3 = load<u64>(q, 24);
    acc += w0;
    carry += <u64>(acc < w0);
    acc += w1;
    carry += <u64>(acc < w1);
    acc += w2;
    carry += <u64>(acc < w2);
    acc += w3;
    carry += <u64>(acc < w3);
    q += 32;
    n -= 32;
  }
  while (n >= 8) {
    const w = load<u64>(q);
    acc += w;
    carry += <u64>(acc < w);
    q += 8;
    n -= 8;
  }
  // The tail: at most 7 bytes, at most 0xFFFF_FFFF + 0xFFFF + 0xFF, added to the carries.
  let tail: u64 = 0;
  if (n >= 4) {
    tail += <u64>load<u32>(q);
    q += 4;
    n -= 4;
  }
  if (n >= 2) {
    tail += <u64>load<u16>(q);
    q += 2;
    n -= 2;
  }
  if (n != 0) {
    // Odd trailing byte: in the little-endian domain it is the low byte of its
    // 16-bit word, i.e. the high byte on the wire, padded with zero (RFC 1071 §4.1).
    tail += <u64>load<u8>(q);
  }
  // Fold acc first (no overflow), then add carry + tail (both small).
  const le = fold64(<u64>fold64(acc) + carry + tail);
  // Back to network order: swap the two bytes of the 16-bit sum (RFC 1071 §2(B)).
  const be = <u32>bswap<u16>(<u16>le);
  return sumAdd(be, initial);
}

/**
 * Partial sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 §3.1,
 * RFC 768): source address, destination address, zero, protocol, and the
 * transport length (header + data, from the IPv4 total length, never the frame).
 */
@inline
export function pseudoHeaderSum(src: u32, dst: u32, proto: u8, length: u32): u32 {
  const s: u64 = <u64>(src >> 16) + <u64>(src & 0xffff) + <u64>(dst >> 16) + <u64>(dst & 0xffff) + <u64>proto + <u64>length;
  return fold64(s);
}

/** Turns a partial sum into the value to place in a checksum field: its ones' complement. */
@inline
export function checksumFinish(sum: u32): u16 {
  return ~<u16>fold64(<u64>sum);
}

/** The checksum field value for `len` bytes at `p` (the field itself must be zero, or use to verify: 0 = valid). */
@inline
export function checksum(p: usize, len: u32): u16 {
  return checksumFinish(checksumPartial(p, len, 0));
}

/**
 * RFC 1624 eqn. 3: the new checksum field after one 16-bit word of the covered
 * data changed from `oldWord` to `newWord`:  HC' = ~(~HC + ~m + m').
 * (Eqn. 3 avoids the -0 pitfall of RFC 1141's eqn. 2.)
 */
@inline
export function checksumUpdate16(hc: u16, oldWord: u16, newWord: u16): u16 {
  const s = <u64>(~hc & 0xffff) + <u64>(~oldWord & 0xffff) + <u64>newWord;
  return ~<u16>fold64(s);
}

/** RFC 1624 eqn. 3 applied to a 32-bit field (an address, a sequence number): two 16-bit words. */
@inline
export function checksumUpdate32(hc: u16, oldValue: u32, newValue: u32): u16 {
  const s =
    <u64>(~hc & 0xffff) +
    <u64>(~oldValue & 0xffff) +
    <u64>((~oldValue >> 16) & 0xffff) +
    <u64>(newValue & 0xffff) +
    <u64>(newValue >> 16);
  return ~<u16>fold64(s);
}
