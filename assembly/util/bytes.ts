// Network-order (big-endian) load/store helpers over raw linear memory.
//
// WebAssembly is little-endian; every multi-byte wire field is big-endian
// (RFC 1700 "network byte order"). Each helper is one native load/store wrapped in
// `bswap`, which Binaryen lowers to a few shifts. None of them checks bounds: the
// caller's `checkLen` (one per packet, see STYLE §0.2) is the only gate.
//
// Value conventions used across the core (TCP relies on them too):
//   - an IPv4 address is a u32 in numeric order: 10.0.0.1 == 0x0A000001;
//   - a MAC address is a u64 holding the 48 bits in numeric order in its low bits:
//     02:00:5e:10:00:01 == 0x0000_0200_5e10_0001;
//   - ports, lengths and 16-bit fields are plain u16/u32 numbers.

/** Reads one byte. */
@inline
export function loadU8(p: usize): u8 {
  return load<u8>(p);
}

/** Writes one byte. */
@inline
export function storeU8(p: usize, v: u8): void {
  store<u8>(p, v);
}

/** Reads a big-endian u16 at `p` (any alignment). */
@inline
export function loadU16BE(p: usize): u16 {
  return bswap<u16>(load<u16>(p));
}

/** Writes `v` as a big-endian u16 at `p`. */
@inline
export function storeU16BE(p: usize, v: u16): void {
  store<u16>(p, bswap<u16>(v));
}

/** Reads a big-endian u32 at `p`. */
@inline
export function loadU32BE(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Writes `v` as a big-endian u32 at `p`. */
@inline
export function storeU32BE(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/** Reads a 6-byte MAC address at `p` into the low 48 bits of a u64 (numeric order). */
@inline
export function loadMac(p: usize): u64 {
  return (<u64>loadU16BE(p) << 32) | <u64>loadU32BE(p + 2);
}

/** Writes the low 48 bits of `mac` at `p` as 6 bytes, most significant first. */
@inline
export function storeMac(p: usize, mac: u64): void {
  storeU16BE(p, <u16>(mac >> 32));
  storeU32BE(p + 2, <u32>mac);
}

/** The Ethernet broadcast address ff:ff:ff:ff:ff:ff. */
export const MAC_BROADCAST: u64 = 0xffff_ffff_ffff;

/** True when the I/G bit (least significant bit of the first octet) marks a group address. */
@inline
export function macIsMulticast(mac: u64): bool {
  return ((mac >> 40) & 1) != 0;
}

/** Copies `n` bytes (regions may overlap). */
@inline
export function copyBytes(dst: usize, src: usize, n: usize): void {
  memory.copy(dst, src, n);
}

/** True when the `n` bytes at `a` and `b` are identical. */
export function equalBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}
