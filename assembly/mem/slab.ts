// Slab: a fixed number of fixed-size records carved once, a free list threaded
// through a metadata word per record, and generation-tagged handles.
//
//   Handle (u32)
//   ┌──────────────────────┬──────────────────────────────────────────────┐
//   │ generation (10 bits) │ index (22 bits)                               │
//   └──────────────────────┴──────────────────────────────────────────────┘
//   31                   22 21                                            0
//
//   Generations run 1..1023 and never take the value 0, so handle 0 (generation 0)
//   is invalid whatever its index. Release bumps the slot's generation (1023 wraps
//   to 1): a handle kept past its release is "stale" and every checked access
//   refuses it with E_STALE_HANDLE, before the slot is reused and after. (A stale
//   handle aliases again only after exactly 1023 more releases of the same slot.)
//
//   Slab header (SLAB_HDR_SIZE = 32 bytes), then the metadata array, then records:
//   ┌────────┬────────┬────────────┬──────────┬──────────┬───────┬───────────┬──────────┐
//   │ base   │ meta   │ recordSize │ capacity │ freeHead │ inUse │ highWater │ freeTail │
//   │ u32    │ u32    │ u32        │ u32      │ u32      │ u32   │ u32       │ u32      │
//   └────────┴────────┴────────────┴──────────┴──────────┴───────┴───────────┴──────────┘
//   0        4        8            12         16         20      24          28       32
//   base: address of record 0 (8-byte aligned); record i at base + i·recordSize.
//   meta: address of capacity u32 words, one per record:
//   ┌──────────────────────┬──────────────────────────────────────────────┐
//   │ generation (10 bits) │ link (22 bits)                                │
//   └──────────────────────┴──────────────────────────────────────────────┘
//     link = LINK_IN_USE while the record is handed out; otherwise the index + 1 of
//     the next free record (0 = end of the free list).
//   freeHead: index + 1 of the first free record (0 = slab exhausted).
//   freeTail: SLAB_LIFO for a LIFO slab: a just-released record (still warm in cache)
//   is handed out next — for records whose handles never leave the module (table
//   entries, TIME-WAIT records). Otherwise the slab is FIFO and freeTail is the index
//   + 1 of the last free record (0 = none): a released record is handed out again
//   only after every other free one, so a stale handle aliases only after 1023 ×
//   (free records) acquisitions instead of 1023. The endpoint slab, whose handles the
//   host holds, is FIFO (at ~100 k connections/s a LIFO slot is recycled 1023 times
//   in about 10 ms; FIFO costs the pair benchmark a few per cent in cache misses).
//
// Acquire, release and handle checks are O(1). Nothing here allocates after
// slabCarve. Records are not touched by the slab itself: the owner resets a record
// on acquire (so a recycled record equals a fresh one) and cancels its timers on
// release.

import { OK, E_INVALID_HANDLE, E_STALE_HANDLE } from "../errors";

export const INDEX_BITS: u32 = 22;
export const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
export const GEN_MAX: u32 = (1 << (32 - INDEX_BITS)) - 1; // 1023
/** Link value of a record that is in use. */
export const LINK_IN_USE: u32 = INDEX_MASK;
/** Most records a slab can hold (index + 1 must stay below LINK_IN_USE). */
export const MAX_SLAB_RECORDS: u32 = INDEX_MASK - 1;

export const SLAB_HDR_SIZE: usize = 32;
/** freeTail of a LIFO slab. */
export const SLAB_LIFO: u32 = 0xffff_ffff;

@unmanaged
export class Slab {
  /** Address of record 0 (8-byte aligned). */
  base: usize;
  /** Address of the metadata words (generation | link), one per record. */
  meta: usize;
  /** Bytes per record (multiple of 8). */
  recordSize: u32;
  /** Number of records (≤ MAX_SLAB_RECORDS). */
  capacity: u32;
  /** Index + 1 of the first free record; 0 when every record is in use. */
  freeHead: u32;
  /** Records handed out now. */
  inUse: u32;
  /** Largest inUse seen. */
  highWater: u32;
  /** SLAB_LIFO, or (FIFO) index + 1 of the last free record, 0 when none is free. */
  freeTail: u32;
}

@inline export function handleIndex(h: u32): u32 { return h & INDEX_MASK; }
@inline export function handleGen(h: u32): u32 { return h >>> INDEX_BITS; }
@inline export function makeHandle(gen: u32, index: u32): u32 { return (gen << INDEX_BITS) | index; }

/** Rounds a record size up to a multiple of 8. */
@inline
export function slabRecordSize(recordSize: u32): u32 {
  return (recordSize + 7) & ~7;
}

/** Bytes slabCarve takes for `capacity` records of `recordSize` bytes (before allocator overhead). */
export function slabBytes(capacity: u32, recordSize: u32): u64 {
  const meta = ((<u64>capacity << 2) + 7) & ~<u64>7;
  return <u64>SLAB_HDR_SIZE + meta + <u64>capacity * <u64>slabRecordSize(recordSize);
}

/**
 * Carves a slab (one heap.alloc). The caller has validated capacity
 * (1..MAX_SLAB_RECORDS) and that slabBytes fits. Records are zeroed; every
 * generation starts at 1.
 */
export function slabCarve(capacity: u32, recordSize: u32, fifo: bool = false): Slab {
  const rs = slabRecordSize(recordSize);
  const total = <usize>slabBytes(capacity, rs);
  const p = heap.alloc(total);
  memory.fill(p, 0, total);
  const s = changetype<Slab>(p);
  s.meta = p + SLAB_HDR_SIZE;
  s.base = p + SLAB_HDR_SIZE + ((<usize>capacity << 2) + 7 & ~<usize>7);
  s.recordSize = rs;
  s.capacity = capacity;
  s.freeTail = fifo ? 0 : SLAB_LIFO;
  slabResetAll(s);
  return s;
}

/** Frees every record at once (generations kept and bumped for records in use). For init and tests. */
export function slabResetAll(s: Slab): void {
  const n = s.capacity;
  for (let i: u32 = 0; i < n; i++) {
    const m = s.meta + (<usize>i << 2);
    let gen = load<u32>(m) >>> INDEX_BITS;
    if (gen == 0) gen = 1;
    else if ((load<u32>(m) & INDEX_MASK) == LINK_IN_USE) gen = gen >= GEN_MAX ? 1 : gen + 1;
    const link = i + 2 <= n ? i + 2 : 0;
    store<u32>(m, (gen << INDEX_BITS) | link);
  }
  s.freeHead = n > 0 ? 1 : 0;
  if (s.freeTail != SLAB_LIFO) s.freeTail = n;
  s.inUse = 0;
}

@inline
function metaAddr(s: Slab, index: u32): usize {
  return s.meta + (<usize>index << 2);
}

/** Address of record `index` (no check: for owners iterating their own slab). */
@inline
export function slabAt(s: Slab, index: u32): usize {
  return s.base + <usize>index * <usize>s.recordSize;
}

/**
 * Takes a free record and returns its handle, or 0 when the slab is exhausted.
 * The record's bytes are whatever the last owner left: the caller resets it.
 */
export function slabAcquire(s: Slab): u32 {
  const head = s.freeHead;
  if (head == 0) return 0;
  const index = head - 1;
  const m = metaAddr(s, index);
  const w = load<u32>(m);
  s.freeHead = w & INDEX_MASK;
  if (s.freeHead == 0 && s.freeTail != SLAB_LIFO) s.freeTail = 0;
  const gen = w >>> INDEX_BITS;
  store<u32>(m, (gen << INDEX_BITS) | LINK_IN_USE);
  const n = s.inUse + 1;
  s.inUse = n;
  if (n > s.highWater) s.highWater = n;
  return makeHandle(gen, index);
}

/** OK, E_INVALID_HANDLE (0, out of range, or not in use) or E_STALE_HANDLE (recycled). */
export function slabCheck(s: Slab, h: u32): i32 {
  const index = h & INDEX_MASK;
  const gen = h >>> INDEX_BITS;
  if (gen == 0 || index >= s.capacity) return E_INVALID_HANDLE;
  const w = load<u32>(metaAddr(s, index));
  if ((w >>> INDEX_BITS) != gen) return E_STALE_HANDLE;
  if ((w & INDEX_MASK) != LINK_IN_USE) return E_INVALID_HANDLE;
  return OK;
}

/** Address of the record `h` names, or 0 when slabCheck would refuse it. */
@inline
export function slabPtr(s: Slab, h: u32): usize {
  return slabCheck(s, h) == OK ? slabAt(s, h & INDEX_MASK) : 0;
}

/** Returns the record to the free list and bumps its generation. Refuses bad or stale handles. */
export function slabRelease(s: Slab, h: u32): i32 {
  const rc = slabCheck(s, h);
  if (rc != OK) return rc;
  const index = h & INDEX_MASK;
  const m = metaAddr(s, index);
  let gen = h >>> INDEX_BITS;
  gen = gen >= GEN_MAX ? 1 : gen + 1;
  const tail = s.freeTail;
  if (tail == SLAB_LIFO) {
    store<u32>(m, (gen << INDEX_BITS) | s.freeHead);
    s.freeHead = index + 1;
  } else {
    // FIFO: the record joins the tail (link 0 ends the list).
    store<u32>(m, gen << INDEX_BITS);
    if (tail == 0) s.freeHead = index + 1;
    else {
      const tm = metaAddr(s, tail - 1);
      store<u32>(tm, (load<u32>(tm) & ~INDEX_MASK) | (index + 1));
    }
    s.freeTail = index + 1;
  }
  s.inUse--;
  return OK;
}

/** The handle currently valid for record `index` (0 if it is free). */
export function slabHandleAt(s: Slab, index: u32): u32 {
  if (index >= s.capacity) return 0;
  const w = load<u32>(metaAddr(s, index));
  return (w & INDEX_MASK) == LINK_IN_USE ? makeHandle(w >>> INDEX_BITS, index) : 0;
}

/** Index of the record containing address `p` (p inside the slab's records). */
@inline
export function slabIndexOf(s: Slab, p: usize): u32 {
  return <u32>((p - s.base) / <usize>s.recordSize);
}
