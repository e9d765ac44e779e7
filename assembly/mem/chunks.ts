// Chunk pool: fixed-size data chunks shared by every connection's send and receive
// buffers, taken only while data actually waits (an idle connection holds none) and
// given back as soon as it is consumed.
//
//   Pool (carved once by chunksInit)
//   links: chunkCount × u32   next chunk in the same queue, or in the free list
//                             (index + 1; 0 = end)
//   data:  chunkCount × chunkSize bytes, chunk i at data + i·chunkSize
//
//   ChunkQueue (CHUNK_QUEUE_SIZE = 16 bytes, embedded in its owner, e.g. the Tcb
//   at TCB_SNDQ / TCB_RCVQ; all-zero bytes = an empty queue)
//   ┌────────┬────────┬────────┬─────────┬──────────┐
//   │ head   │ tail   │ length │ readOff │ writeOff │
//   │ u32    │ u32    │ u32    │ u16     │ u16      │
//   └────────┴────────┴────────┴─────────┴──────────┘
//   0        4        8        12        14         16
//   head/tail: index + 1 of the first/last chunk (0 = no chunk).
//   length: bytes queued; readOff: first unread byte in the head chunk;
//   writeOff: bytes filled in the tail chunk (1..chunkSize while a chunk is held).
//   Invariant: head == 0 ⇔ tail == 0 ⇔ length == 0 (an empty queue holds no chunk).
//
// chunkSize ≤ 32768 so both offsets fit in u16. Appends that run out of chunks take
// what they can, count C_CHUNKS_EXHAUSTED once and return the bytes taken; TCP
// never advertises a receive window the free chunks cannot back (chunksFree()).

import { OK, E_CONFIG_ZERO, E_CONFIG_CHUNK_SIZE, E_CONFIG_COUNT, E_CONFIG_TOO_LARGE } from "../errors";
import { count, C_CHUNKS_EXHAUSTED } from "./stats";

export const CHUNK_QUEUE_SIZE: usize = 16;
export const MIN_CHUNK_SIZE: u32 = 64;
export const MAX_CHUNK_SIZE: u32 = 32768;
export const MAX_CHUNKS: u32 = 1 << 24;
/**
 * Largest pool (links + data, bytes): it is one allocator block, and the stub
 * allocator's block limit is 1 GiB minus its header (the same bound as mem/layout.ts
 * MAX_REGION and mem/rings.ts MAX_RING_BYTES). With it, no size below overflows a u32.
 */
export const MAX_POOL_BYTES: u64 = (1 << 30) - 64;

@unmanaged
export class ChunkQueue {
  /** Index + 1 of the first chunk; 0 = empty. */
  head: u32;
  /** Index + 1 of the last chunk; 0 = empty. */
  tail: u32;
  /** Bytes queued. */
  length: u32;
  /** Offset of the first unread byte in the head chunk. */
  readOff: u16;
  /** Bytes written into the tail chunk. */
  writeOff: u16;
}

// Pool state (one pool per instance).
let poolData: usize = 0;
let poolLinks: usize = 0;
let poolChunkSize: u32 = 0;
let poolCount: u32 = 0;
let poolFreeHead: u32 = 0;
let poolInUse: u32 = 0;
let poolHighWater: u32 = 0;

/**
 * Checks pool parameters without carving: counts 1..MAX_CHUNKS, chunkSize a multiple
 * of 8 in MIN_CHUNK_SIZE..MAX_CHUNK_SIZE, and the whole pool (computed in u64) within
 * MAX_POOL_BYTES — E_CONFIG_TOO_LARGE otherwise, so chunksInit's sizes can never wrap
 * for a direct caller either (a u32 product of 2^17 × 32768 is 0).
 */
export function chunksCheck(chunkCount: u32, chunkSize: u32): i32 {
  if (chunkCount == 0 || chunkSize == 0) return E_CONFIG_ZERO;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || (chunkSize & 7) != 0) return E_CONFIG_CHUNK_SIZE;
  if (chunkCount > MAX_CHUNKS) return E_CONFIG_COUNT;
  if (chunksBytes(chunkCount, chunkSize) > MAX_POOL_BYTES) return E_CONFIG_TOO_LARGE;
  return OK;
}

/** Bytes chunksInit carves (u64: never wraps; at most MAX_POOL_BYTES for checked parameters). */
export function chunksBytes(chunkCount: u32, chunkSize: u32): u64 {
  return (<u64>chunkCount << 2) + <u64>chunkCount * <u64>chunkSize + 8;
}

/** Carves the pool (one heap.alloc). Returns OK or an E_CONFIG_* code, carving nothing then. */
export function chunksInit(chunkCount: u32, chunkSize: u32): i32 {
  const rc = chunksCheck(chunkCount, chunkSize);
  if (rc != OK) return rc;
  // Sizes in u64, narrowed only after chunksCheck bounded them by MAX_POOL_BYTES.
  const linkBytes64 = ((<u64>chunkCount << 2) + 7) & ~(<u64>7);
  const total64 = linkBytes64 + <u64>chunkCount * <u64>chunkSize;
  if (total64 > MAX_POOL_BYTES) return E_CONFIG_TOO_LARGE; // unreachable after chunksCheck
  const linkBytes = <usize>linkBytes64;
  const p = heap.alloc(<usize>total64);
  poolLinks = p;
  poolData = p + linkBytes;
  poolChunkSize = chunkSize;
  poolCount = chunkCount;
  for (let i: u32 = 0; i < chunkCount; i++) store<u32>(p + (<usize>i << 2), i + 2 <= chunkCount ? i + 2 : 0);
  poolFreeHead = 1;
  poolInUse = 0;
  poolHighWater = 0;
  poolSendReserve = chunkCount > 1 ? (chunkCount >> 3 > 0 ? chunkCount >> 3 : 1) : 0;
  return OK;
}

/**
 * poolSendReserve: free chunks that send queues may not take (an eighth of the pool, at least one when
 * the pool has two or more): receiving always has room for some data. Without it two
 * echoing peers whose send queues took every chunk advertised window 0 to each other
 * for ever (their probes answered, so nobody timed out). Only send data is held back
 * (glue/tcp-env.ts sndAppend); received data may use every chunk.
 */
let poolSendReserve: u32 = 0;
/** Free chunks a send queue may still take (the free ones above the receive reserve). */
export function chunksFreeForSend(): u32 {
  const f = poolCount - poolInUse;
  return f > poolSendReserve ? f - poolSendReserve : 0;
}

export function chunkSize(): u32 { return poolChunkSize; }
export function chunksTotal(): u32 { return poolCount; }
export function chunksInUse(): u32 { return poolInUse; }
export function chunksFree(): u32 { return poolCount - poolInUse; }
export function chunksHighWater(): u32 { return poolHighWater; }

@inline function linkOf(ref: u32): u32 { return load<u32>(poolLinks + (<usize>(ref - 1) << 2)); }
@inline function setLink(ref: u32, next: u32): void { store<u32>(poolLinks + (<usize>(ref - 1) << 2), next); }
/** Data address of chunk `ref` (index + 1). */
@inline export function chunkData(ref: u32): usize { return poolData + <usize>(ref - 1) * <usize>poolChunkSize; }

function chunkTake(): u32 {
  const ref = poolFreeHead;
  if (ref == 0) return 0;
  poolFreeHead = linkOf(ref);
  setLink(ref, 0);
  const n = poolInUse + 1;
  poolInUse = n;
  if (n > poolHighWater) poolHighWater = n;
  return ref;
}

function chunkGive(ref: u32): void {
  setLink(ref, poolFreeHead);
  poolFreeHead = ref;
  poolInUse--;
}

/** Bytes the queue's last chunk can still take without a new chunk (0 for an empty queue). */
export function cqTailRoom(q: usize): u32 {
  const cq = changetype<ChunkQueue>(q);
  if (cq.tail == 0) return 0;
  const off = <u32>cq.writeOff;
  return off < poolChunkSize ? poolChunkSize - off : 0;
}

/** Makes the 16 bytes at `q` an empty queue (zeroes; an all-zero queue is empty too). */
export function cqInit(q: usize): void {
  memory.fill(q, 0, CHUNK_QUEUE_SIZE);
}

/** Bytes queued. */
@inline
export function cqLength(q: usize): u32 {
  return changetype<ChunkQueue>(q).length;
}

/** Chunks the queue holds now. */
export function cqChunks(q: usize): u32 {
  let n: u32 = 0;
  let ref = changetype<ChunkQueue>(q).head;
  while (ref != 0 && n < poolCount) {
    n++;
    ref = linkOf(ref);
  }
  return n;
}

/**
 * Appends `len` bytes from `src`. Takes chunks as needed; when the pool runs dry it
 * stops, counts C_CHUNKS_EXHAUSTED and returns the bytes appended so far (< len).
 */
export function cqAppend(q: usize, src: usize, len: u32): u32 {
  const cq = changetype<ChunkQueue>(q);
  const cs = poolChunkSize;
  if (cs == 0) return 0;
  let done: u32 = 0;
  while (done < len) {
    let tail = cq.tail;
    let off = <u32>cq.writeOff;
    if (tail == 0 || off >= cs) {
      const ref = chunkTake();
      if (ref == 0) {
        count(C_CHUNKS_EXHAUSTED);
        break;
      }
      if (tail == 0) {
        cq.head = ref;
        cq.readOff = 0;
      } else {
        setLink(tail, ref);
      }
      cq.tail = tail = ref;
      off = 0;
    }
    let n = cs - off;
    if (n > len - done) n = len - done;
    memory.copy(chunkData(tail) + off, src + done, n);
    cq.writeOff = <u16>(off + n);
    done += n;
  }
  cq.length += done;
  return done;
}

/**
 * Copies up to `len` bytes starting `offset` bytes into the queue to `dst`, without
 * consuming them (TCP: retransmission and segment building). Returns bytes copied.
 */
export function cqPeek(q: usize, offset: u32, dst: usize, len: u32): u32 {
  const cq = changetype<ChunkQueue>(q);
  if (offset >= cq.length) return 0;
  if (len > cq.length - offset) len = cq.length - offset;
  const cs = poolChunkSize;
  let ref = cq.head;
  let pos = <u32>cq.readOff + offset; // position counted from the head chunk's start
  while (pos >= cs) {
    ref = linkOf(ref);
    pos -= cs;
  }
  let done: u32 = 0;
  while (done < len) {
    let n = cs - pos;
    if (n > len - done) n = len - done;
    memory.copy(dst + done, chunkData(ref) + pos, n);
    done += n;
    pos = 0;
    ref = linkOf(ref);
  }
  return done;
}

/** Drops the first `n` bytes (clamped to the length), giving back emptied chunks. Returns bytes dropped. */
export function cqConsume(q: usize, n: u32): u32 {
  const cq = changetype<ChunkQueue>(q);
  if (n > cq.length) n = cq.length;
  if (n == 0) return 0;
  const cs = poolChunkSize;
  let pos = <u32>cq.readOff + n;
  let ref = cq.head;
  while (pos >= cs && ref != cq.tail) {
    const next = linkOf(ref);
    chunkGive(ref);
    ref = next;
    pos -= cs;
  }
  cq.head = ref;
  cq.length -= n;
  if (cq.length == 0) {
    // Empty: the last chunk goes back too, so an idle queue holds nothing.
    chunkGive(ref);
    cq.head = 0;
    cq.tail = 0;
    cq.readOff = 0;
    cq.writeOff = 0;
  } else {
    cq.readOff = <u16>pos;
  }
  return n;
}

/** Gives back every chunk and empties the queue. */
export function cqFree(q: usize): void {
  const cq = changetype<ChunkQueue>(q);
  let ref = cq.head;
  let guard = poolCount;
  while (ref != 0 && guard-- > 0) {
    const next = linkOf(ref);
    chunkGive(ref);
    ref = next;
  }
  cqInit(q);
}

// ── receive queues: readable bytes plus out-of-order bytes held beyond them ──────
//
// TCP's receive buffer (at TCB_RCVQ) must also hold data that arrived out of
// order, at its offset past the readable end, until the hole before it is filled
// (RFC 9293 §3.10.7.4 seventh step; tcp/env.ts envRcvWriteAt / envRcvCommit). A
// receive queue is therefore a chain of chunks that may extend past the readable
// bytes; its 16-byte header reuses the ChunkQueue words with one difference: the
// last u16 counts the chunks of the chain (the send side's writeOff has no meaning
// here).
//
//   RcvQueue (16 bytes, all-zero = empty; the same bytes as a ChunkQueue)
//   ┌────────┬────────┬────────┬─────────┬──────────┐
//   │ head   │ tail   │ length │ readOff │ chunks   │
//   │ u32    │ u32    │ u32    │ u16     │ u16      │
//   └────────┴────────┴────────┴─────────┴──────────┘
//   0        4        8        12        14         16
//
//   Positions count bytes from the start of the head chunk:
//
//   head chunk            chunk 1               ...            tail (chunk `chunks`−1)
//   ┌──────────────────────┬──────────────────────┬────────────┬──────────────────────┐
//   │ read │ readable ...  │ ... readable │ hole  │ out-of-order bytes │ ...  free    │
//   └──────────────────────┴──────────────────────┴────────────┴──────────────────────┘
//   0      readOff         readOff+length = offset 0 of rqWriteAt        chunks·chunkSize
//
// Invariants: head == 0 ⇔ tail == 0 ⇔ chunks == 0, and then length == readOff == 0;
// readOff ≤ chunkSize; readOff + length ≤ chunks·chunkSize. The chain never grows
// beyond the caller's buffer limit nor beyond RQ_MAX_CHUNKS chunks, and the window
// (rqSpace) counts only bytes that held chunks or free chunks can back.

/** Most chunks one receive queue may hold (the u16 count). */
export const RQ_MAX_CHUNKS: u32 = 0xffff;

@unmanaged
export class RcvQueue {
  head: u32;
  tail: u32;
  /** Readable bytes (in order, not yet read). */
  length: u32;
  /** First unread byte in the head chunk. */
  readOff: u16;
  /** Chunks in the chain. */
  chunks: u16;
}

/** Readable bytes of the receive queue at `q`. */
@inline
export function rqLength(q: usize): u32 {
  return changetype<RcvQueue>(q).length;
}

/** Bytes held past the readable end by the chain's chunks. */
@inline
function rqHeldBeyond(rq: RcvQueue): u32 {
  return <u32>rq.chunks * poolChunkSize - (<u32>rq.readOff + rq.length);
}

/**
 * Bytes that may be stored past the readable end (offsets [0, space) of rqWriteAt):
 * at most `limit − length` (the buffer limit), and no more than the chain's held
 * bytes plus what the free chunks can back (issue 5: the advertised window never
 * exceeds what the chunks can back).
 */
export function rqSpace(q: usize, limit: u32): u32 {
  const rq = changetype<RcvQueue>(q);
  const cs = poolChunkSize;
  if (cs == 0 || rq.length >= limit) return 0;
  const room = limit - rq.length;
  const held = rqHeldBeyond(rq);
  let more = <u64>(RQ_MAX_CHUNKS - <u32>rq.chunks);
  const free = <u64>(poolCount - poolInUse);
  if (free < more) more = free;
  const backable = <u64>held + more * <u64>cs;
  return backable < <u64>room ? <u32>backable : room;
}

/**
 * Stores `len` bytes from `src` at `off` bytes past the readable end, taking chunks
 * as needed (never past `limit − length` nor RQ_MAX_CHUNKS). Returns how many
 * leading bytes were stored: fewer than `len` when the limit or the pool stops it
 * (the pool running dry is counted C_CHUNKS_EXHAUSTED).
 */
export function rqWriteAt(q: usize, off: u32, src: usize, len: u32, limit: u32): u32 {
  const rq = changetype<RcvQueue>(q);
  const cs = poolChunkSize;
  if (cs == 0 || len == 0 || rq.length >= limit) return 0;
  const room = limit - rq.length;
  if (off >= room) return 0;
  if (len > room - off) len = room - off;
  const pos = <u64>rq.readOff + <u64>rq.length + <u64>off;
  const need = (pos + <u64>len + <u64>cs - 1) / <u64>cs;
  while (<u64>rq.chunks < need && <u32>rq.chunks < RQ_MAX_CHUNKS) {
    const ref = chunkTake();
    if (ref == 0) {
      count(C_CHUNKS_EXHAUSTED);
      break;
    }
    if (rq.tail == 0) {
      rq.head = ref;
      rq.readOff = 0; // empty queue: length is 0 as well
    } else {
      setLink(rq.tail, ref);
    }
    rq.tail = ref;
    rq.chunks++;
  }
  const end = <u64>rq.chunks * <u64>cs;
  if (pos >= end) return 0;
  if (pos + <u64>len > end) len = <u32>(end - pos);
  let ref = rq.head;
  let k = <u32>(pos / <u64>cs);
  while (k-- > 0) ref = linkOf(ref);
  let at = <u32>(pos % <u64>cs);
  let done: u32 = 0;
  while (done < len) {
    let n = cs - at;
    if (n > len - done) n = len - done;
    memory.copy(chunkData(ref) + at, src + done, n);
    done += n;
    at = 0;
    ref = linkOf(ref);
  }
  return done;
}

/** The first `n` bytes past the readable end (written by rqWriteAt) become readable. */
export function rqCommit(q: usize, n: u32): void {
  const rq = changetype<RcvQueue>(q);
  const held: u32 = rq.chunks == 0 ? 0 : rqHeldBeyond(rq);
  rq.length += n < held ? n : held; // never claims bytes the chain does not hold
}

/**
 * Copies up to `len` readable bytes to `dst` and drops them, giving back chunks
 * that are wholly read. When nothing readable is left and `keepBeyond` is false
 * (no out-of-order data is held) the whole chain goes back: an idle connection
 * holds no chunk. Returns the bytes copied.
 */
export function rqRead(q: usize, dst: usize, len: u32, keepBeyond: bool): u32 {
  const rq = changetype<RcvQueue>(q);
  const cs = poolChunkSize;
  if (len > rq.length) len = rq.length;
  if (len == 0) {
    if (!keepBeyond && rq.chunks != 0 && rq.length == 0) rqFree(q);
    return 0;
  }
  let ref = rq.head;
  let pos = <u32>rq.readOff;
  let done: u32 = 0;
  while (done < len) {
    if (pos >= cs) {
      ref = linkOf(ref);
      pos = 0;
    }
    let n = cs - pos;
    if (n > len - done) n = len - done;
    memory.copy(dst + done, chunkData(ref) + pos, n);
    done += n;
    pos += n;
  }
  // Give back the chunks that are read completely (never the tail: it may hold more).
  ref = rq.head;
  pos = <u32>rq.readOff + len;
  while (pos >= cs && ref != rq.tail) {
    const next = linkOf(ref);
    chunkGive(ref);
    rq.chunks--;
    ref = next;
    pos -= cs;
  }
  rq.head = ref;
  rq.readOff = <u16>pos;
  rq.length -= len;
  if (rq.length == 0 && !keepBeyond) rqFree(q);
  return len;
}

/**
 * Gives back the chunks past the one holding the last readable byte (out-of-order
 * data that was given up); with nothing readable, the whole chain.
 */
export function rqTrim(q: usize): void {
  const rq = changetype<RcvQueue>(q);
  const cs = poolChunkSize;
  if (rq.chunks == 0) return;
  const keep = (<u32>rq.readOff + rq.length + cs - 1) / cs;
  if (keep >= <u32>rq.chunks) return;
  if (keep == 0) { rqFree(q); return; }
  let ref = rq.head;
  for (let i: u32 = 1; i < keep; i++) ref = linkOf(ref);
  let next = linkOf(ref);
  setLink(ref, 0);
  rq.tail = ref;
  rq.chunks = <u16>keep;
  let guard = poolCount;
  while (next != 0 && guard-- > 0) {
    const after = linkOf(next);
    chunkGive(next);
    next = after;
  }
}

/** Gives back every chunk of the receive queue and empties it. */
export function rqFree(q: usize): void {
  cqFree(q); // walks the chain by its links; the header is zeroed
}

/** Chunks the receive queue holds (its count word). */
export function rqChunks(q: usize): u32 {
  return <u32>changetype<RcvQueue>(q).chunks;
}
