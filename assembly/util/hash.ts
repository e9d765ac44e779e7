// Keyed hashing: SipHash (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
// 2012) with a 128-bit secret key. The stack uses SipHash-1-3 (1 compression round
// per 8-byte word, 3 finalization rounds), the variant Rust's std and Python use for
// hash-flooding resistance: a peer that does not know the key cannot aim 4-tuples at
// one shard or bucket. The same function serves the RFC 6528 ISN and the RFC 6056
// ephemeral-port offset (each with its own key derived from the init secret, so one
// output never reveals another).
//
// Inputs are little-endian 64-bit words, exactly as the reference implementation
// reads its message bytes, so `hashKeyedWords(k0, k1, p, n)` equals SipHash-1-3 of
// the 8·n bytes at p, and `hashKeyed2(k0, k1, a, b)` equals it for the 16 bytes
// a‖b. tests/assembly/mem-hash.spec.ts checks the round function against the
// paper's SipHash-2-4 test vectors.

// --- the keys of this instance (set by hashSetSecret at init) ------------------
/** Connection-table key (shard and bucket choice). */
export let tableK0: u64 = 0;
export let tableK1: u64 = 0;
/** RFC 6528 ISN key: ISN = M + F(localip, localport, remoteip, remoteport, key). */
export let isnK0: u64 = 0;
export let isnK1: u64 = 0;
/** RFC 6056 §3.3.3 (Algorithm 3) port-offset key. */
export let portK0: u64 = 0;
export let portK1: u64 = 0;

// Derivation labels (arbitrary distinct constants: "isn\0", "port").
const LABEL_ISN: u64 = 0x006e7369;
const LABEL_PORT: u64 = 0x74726f70;

/** Sets the table key to the 16-byte secret and derives the ISN and port keys from it. */
export function hashSetSecret(k0: u64, k1: u64): void {
  tableK0 = k0;
  tableK1 = k1;
  isnK0 = hashKeyed2(k0, k1, LABEL_ISN, 1);
  isnK1 = hashKeyed2(k0, k1, LABEL_ISN, 2);
  portK0 = hashKeyed2(k0, k1, LABEL_PORT, 1);
  portK1 = hashKeyed2(k0, k1, LABEL_PORT, 2);
}

/** Reads a 16-byte secret at `p` (little-endian k0 then k1) and calls hashSetSecret. */
export function hashSetSecretFrom(p: usize): void {
  hashSetSecret(load<u64>(p), load<u64>(p, 8));
}

// --- SipHash state: four lanes kept in globals (no allocation, inlined rounds) -----
let v0: u64 = 0;
let v1: u64 = 0;
let v2: u64 = 0;
let v3: u64 = 0;

@inline
function sipRound(): void {
  v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
  v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
  v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
  v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
}

@inline
function sipStart(k0: u64, k1: u64): void {
  v0 = k0 ^ 0x736f6d6570736575;
  v1 = k1 ^ 0x646f72616e646f6d;
  v2 = k0 ^ 0x6c7967656e657261;
  v3 = k1 ^ 0x7465646279746573;
}

@inline
function sipWord(m: u64, c: i32): void {
  v3 ^= m;
  for (let i = 0; i < c; i++) sipRound();
  v0 ^= m;
}

@inline
function sipFinish(d: i32): u64 {
  v2 ^= 0xff;
  for (let i = 0; i < d; i++) sipRound();
  return v0 ^ v1 ^ v2 ^ v3;
}

/**
 * SipHash-c-d of `len` bytes at `p` (any length, any alignment). c = compression
 * rounds, d = finalization rounds: (1, 3) for the stack, (2, 4) for the paper vectors.
 */
export function sipHash(k0: u64, k1: u64, p: usize, len: usize, c: i32, d: i32): u64 {
  sipStart(k0, k1);
  const end = p + (len & ~<usize>7);
  let q = p;
  while (q < end) {
    sipWord(load<u64>(q), c);
    q += 8;
  }
  let b: u64 = (<u64>len) << 56;
  const left = len & 7;
  for (let i: usize = 0; i < left; i++) b |= (<u64>load<u8>(q + i)) << (<u64>(i << 3));
  sipWord(b, c);
  return sipFinish(d);
}

/** SipHash-1-3 of the 8·n bytes (n little-endian u64 words) at `p`: the general form. */
export function hashKeyedWords(k0: u64, k1: u64, p: usize, n: u32): u64 {
  return sipHash(k0, k1, p, <usize>n << 3, 1, 3);
}

/** SipHash-1-3 of the 16 bytes a‖b (little-endian): the fast two-word form. */
@inline
export function hashKeyed2(k0: u64, k1: u64, a: u64, b: u64): u64 {
  // Hot path (every segment's table lookup): the state lives in locals, the five
  // rounds (2 compression + 3 finalization) are written out.
  let a0 = k0 ^ 0x736f6d6570736575;
  let a1 = k1 ^ 0x646f72616e646f6d;
  let a2 = k0 ^ 0x6c7967656e657261;
  let a3 = k1 ^ 0x7465646279746573;
  a3 ^= a;
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  a0 ^= a;
  a3 ^= b;
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  a0 ^= b;
  const m = <u64>16 << 56;
  a3 ^= m;
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  a0 ^= m;
  a2 ^= 0xff;
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  a0 += a1; a1 = rotl<u64>(a1, 13); a1 ^= a0; a0 = rotl<u64>(a0, 32);
  a2 += a3; a3 = rotl<u64>(a3, 16); a3 ^= a2;
  a0 += a3; a3 = rotl<u64>(a3, 21); a3 ^= a0;
  a2 += a1; a1 = rotl<u64>(a1, 17); a1 ^= a2; a2 = rotl<u64>(a2, 32);
  return a0 ^ a1 ^ a2 ^ a3;
}

/** SipHash-1-3 of the 32 bytes a‖b‖c‖d (e.g. a tuple plus a clock or counter). */
export function hashKeyed4(k0: u64, k1: u64, a: u64, b: u64, c: u64, d: u64): u64 {
  sipStart(k0, k1);
  sipWord(a, 1);
  sipWord(b, 1);
  sipWord(c, 1);
  sipWord(d, 1);
  sipWord(<u64>32 << 56, 1);
  return sipFinish(3);
}

/**
 * The 4-tuple as two words: (localAddr | remoteAddr << 32, localPort | remotePort << 16).
 * Every function that hashes a 4-tuple uses this packing, so they agree byte for byte.
 */
@inline
export function tupleWord0(localAddr: u32, remoteAddr: u32): u64 {
  return <u64>localAddr | (<u64>remoteAddr << 32);
}
@inline
export function tupleWord1(localPort: u16, remotePort: u16): u64 {
  return <u64>localPort | (<u64>remotePort << 16);
}

/** Connection-table hash of a 4-tuple (keyed with the table secret). */
@inline
export function hashTuple(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u64 {
  return hashKeyed2(tableK0, tableK1, tupleWord0(localAddr, remoteAddr), tupleWord1(localPort, remotePort));
}

/** Listener-index hash of (local address, local port). */
@inline
export function hashLocal(localAddr: u32, localPort: u16): u64 {
  return hashKeyed2(tableK0, tableK1, <u64>localAddr, (<u64>localPort) | (<u64>1 << 48));
}

/** RFC 6528 §3: F(localip, localport, remoteip, remoteport, secretkey), to add to the 4 µs clock M. */
export function hashIsn(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  return <u32>hashKeyed2(isnK0, isnK1, tupleWord0(localAddr, remoteAddr), tupleWord1(localPort, remotePort));
}

/** RFC 6056 §3.3.3: F(localip, remoteip, remoteport, secretkey), the per-destination port offset. */
export function hashPortOffset(localAddr: u32, remoteAddr: u32, remotePort: u16): u32 {
  return <u32>hashKeyed2(portK0, portK1, tupleWord0(localAddr, remoteAddr), <u64>remotePort);
}
