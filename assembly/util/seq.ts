// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, HC-01).
//
// Sequence numbers are u32 and wrap. "a < b" means "a comes before b" and is
// decided by the sign of the 32-bit difference (a - b), which is exact as long as
// the two numbers are less than 2^31 apart, the condition RFC 9293 §3.4 and
// RFC 7323 §5 rely on. Never compare sequence numbers with the plain `<` on u32,
// and never widen them to i64/f64 (the HC-01 fault).

/** a precedes b (a < b in sequence space). */
@inline export function seqLt(a: u32, b: u32): bool { return <i32>(a - b) < 0; }
/** a ≤ b in sequence space. */
@inline export function seqLe(a: u32, b: u32): bool { return <i32>(a - b) <= 0; }
/** a follows b. */
@inline export function seqGt(a: u32, b: u32): bool { return <i32>(a - b) > 0; }
/** a ≥ b. */
@inline export function seqGe(a: u32, b: u32): bool { return <i32>(a - b) >= 0; }
/** The later of a and b. */
@inline export function seqMax(a: u32, b: u32): u32 { return seqGt(a, b) ? a : b; }
/** The earlier of a and b. */
@inline export function seqMin(a: u32, b: u32): u32 { return seqLt(a, b) ? a : b; }

/**
 * x lies in the window [start, start + size) (size in bytes, < 2^31).
 * Computed as the unsigned offset (x - start) < size, which is exact across the wrap.
 * A window of size 0 contains nothing.
 */
@inline export function seqInWindow(x: u32, start: u32, size: u32): bool {
  return x - start < size;
}

/** start ≤ x ≤ end (inclusive range in sequence space, end not before start). */
@inline export function seqBetween(x: u32, start: u32, end: u32): bool {
  return x - start <= end - start;
}

/** Bytes from a to b (b - a) when a ≤ b; callers check the order first. */
@inline export function seqDiff(b: u32, a: u32): u32 { return b - a; }
