// Log-linear latency histograms kept in the module (SPEC §6 "Handshake latency"):
// the handshake is timed where it happens (RX frame stamps, the connect call), so the
// host only reads the buckets back; nothing crosses the ABI per connection.
//
// Geometry (HdrHistogram-style, 2^HIST_SUB_BITS linear sub-buckets per power of two):
//
//   value v (µs, u32; larger values are clamped to u32.MAX)
//   v < 32                 → bucket v                      (exact)
//   v ≥ 32, e = ⌊log2 v⌋   → bucket 32 + (e − 5)·32 + ((v >> (e − 5)) − 32)
//                            (the 5 bits after the leading one; relative width ≤ 1/32)
//   buckets: 32 + 27·32 = 896  (e = 5 .. 31)
//
// Bucket b covers [lowOf(b), lowOf(b + 1)); host/bench/histogram.ts decodes the same
// geometry (HIST_SUB_BITS, HIST_BUCKETS exported as functions by glue/bench-stats.ts).
//
//   storage: HIST_COUNT histograms × (HIST_BUCKETS u64 counts + 4 u64 summary words)
//   ┌──────────────────────────────────────────┬───────┬───────┬───────┬───────┐
//   │ counts[0 .. HIST_BUCKETS) (u64 each)      │ total │ sumUs │ minUs │ maxUs │
//   └──────────────────────────────────────────┴───────┴───────┴───────┴───────┘
//   0                                      HIST_BUCKETS·8                   HIST_STRIDE
//
// The storage is a static data segment (memory.data): it exists from instantiation,
// is never allocated or grown, and costs HIST_COUNT × HIST_STRIDE bytes (≈ 14 KiB).

/** Sub-bucket bits: 32 linear sub-buckets per power of two (≤ 3.2 % relative error). */
export const HIST_SUB_BITS: u32 = 5;
const SUB: u32 = 1 << HIST_SUB_BITS;
/** Buckets per histogram (values 0 .. 2^32 − 1). */
export const HIST_BUCKETS: u32 = SUB + (32 - HIST_SUB_BITS) * SUB;
/** Summary words after the counts: total, sum (µs), min (µs), max (µs). */
export const HIST_SUMMARY_WORDS: u32 = 4;
/** Bytes per histogram. */
export const HIST_STRIDE: usize = <usize>(HIST_BUCKETS + HIST_SUMMARY_WORDS) << 3;

/** Server side: SYN RX stamp → final ACK RX stamp (passive open reaches ESTABLISHED). */
export const HIST_SERVER_HANDSHAKE: u32 = 0;
/** Client side: connect call (first SYN) → ESTABLISHED. */
export const HIST_CLIENT_CONNECT: u32 = 1;
export const HIST_COUNT: u32 = 2;

const storage: usize = memory.data(<i32>(HIST_STRIDE * HIST_COUNT), 8);

/** Bucket index of value `v` (µs). */
export function histBucket(v: u32): u32 {
  if (v < SUB) return v;
  const e: u32 = 31 - clz<u32>(v); // ≥ HIST_SUB_BITS
  const shift = e - HIST_SUB_BITS;
  return SUB + shift * SUB + ((v >> shift) - SUB);
}

/** Lowest value of bucket `b` (inverse of histBucket; b < HIST_BUCKETS). */
export function histBucketLow(b: u32): u64 {
  if (b < SUB) return <u64>b;
  const shift = (b - SUB) / SUB;
  const mant = (b - SUB) % SUB + SUB;
  return <u64>mant << <u64>shift;
}

/** Address of histogram `id` (0 for an unknown id). */
export function histAddr(id: u32): usize {
  if (id >= HIST_COUNT) return 0;
  return storage + <usize>id * HIST_STRIDE;
}

/** Adds one sample of `us` microseconds to histogram `id` (unknown ids are ignored). */
export function histRecord(id: u32, us: u64): void {
  const base = histAddr(id);
  if (base == 0) return;
  const v: u32 = us > <u64>u32.MAX_VALUE ? u32.MAX_VALUE : <u32>us;
  const c = base + (<usize>histBucket(v) << 3);
  store<u64>(c, load<u64>(c) + 1);
  const s = base + (<usize>HIST_BUCKETS << 3);
  const total = load<u64>(s);
  store<u64>(s, total + 1);
  store<u64>(s + 8, load<u64>(s + 8) + <u64>v);
  if (total == 0 || <u64>v < load<u64>(s + 16)) store<u64>(s + 16, <u64>v);
  if (<u64>v > load<u64>(s + 24)) store<u64>(s + 24, <u64>v);
}

/** Zeroes histogram `id` (every id when id ≥ HIST_COUNT). */
export function histReset(id: u32): void {
  if (id >= HIST_COUNT) {
    memory.fill(storage, 0, HIST_STRIDE * <usize>HIST_COUNT);
    return;
  }
  memory.fill(histAddr(id), 0, HIST_STRIDE);
}
