// Endpoint pool: the TCP control blocks (assembly/tcp/tcb.ts, `Tcb`, TCB_SIZE bytes
// including its four timer nodes) in one slab, handed out by generation-tagged
// handles (mem/slab.ts).
//
// One slab serves three classes of endpoint, each with its own quota from the
// config, so a SYN flood cannot eat the records of established connections and a
// burst of connections cannot starve listeners:
//
//   class            quota (config)       exhaustion code / counter
//   EP_CONNECTION    maxConnections       E_ENDPOINTS_EXHAUSTED / C_ENDPOINTS_EXHAUSTED
//   EP_LISTENER      maxListeners         E_LISTENERS_EXHAUSTED / C_LISTENERS_EXHAUSTED
//   EP_SYNCACHE      syncacheEntries      E_SYNCACHE_EXHAUSTED  / C_SYNCACHE_EXHAUSTED
//
//   slab capacity = maxConnections + maxListeners + syncacheEntries
//
// A half-open child (SYN-RECEIVED) is an EP_SYNCACHE endpoint; when its handshake
// completes TCP moves it to EP_CONNECTION with endpointSetClass (which can fail with
// E_ENDPOINTS_EXHAUSTED: the connection is then refused, nothing traps).
//
// Acquire resets every byte with tcbReset(p, handle), so a recycled record is
// identical to a fresh one (IT-POOL-1). Release cancels the four timer nodes (no
// timer of the previous life can fire), gives back the data chunks of both queues,
// then frees the slot and bumps its generation (the old handle becomes stale).
//
// The class of each record is kept beside the slab in one byte per record (not in
// the Tcb, whose layout belongs to TCP), and so are two words the integration
// needs per record (assembly/glue/):
//
//   beside the slab, one of each per record index i (carved with the slab)
//   classes[i]  u8   bits 0..1 EP_* class, bit 6 EP_POOL_WAIT (in the pool-wait ring),
//                    bit 7 EP_PENDING (in the output ring)
//   entries[i]  u32  handle of the record's connection-table entry (0 = none)
//   pending     u32 × capacity: a FIFO ring of endpoint handles whose output was cut
//               short by a full TX ring; each record is in it at most once (EP_PENDING),
//               so capacity slots always suffice
//   poolWait    u32 × capacity: a FIFO ring of endpoint handles whose send() the chunk
//               pool refused (fully or in part) while the send buffer had room: they get
//               EV_WRITABLE when chunks come back (glue/tick.ts), since a connection with
//               nothing in flight has no ACK of its own to wait for; once each (EP_POOL_WAIT)
//
//   a ring (HandleRing, 16 B, carved at init)      slots: capacity × u32 handles
//   ┌──────────┬──────────┬──────────┬──────────┐    ┌────┬────┬─────┬────┐
//   │ base     │ head     │ tail     │ bit      │    │ h  │ h  │ ... │    │
//   └──────────┴──────────┴──────────┴──────────┘    └────┴────┴─────┴────┘
//   head, tail: running counts (slot = count % capacity); bit: the classes-byte flag

import { Slab, slabCarve, slabAcquire, slabRelease, slabCheck, slabAt, slabBytes, slabHandleAt, MAX_SLAB_RECORDS, handleIndex } from "./slab";
import { Tcb, TCB_SIZE, tcbReset, tcbCancelTimers, TCB_SNDQ, TCB_RCVQ } from "../tcp/tcb";
import { cqFree } from "./chunks";
import {
  OK, E_ENDPOINTS_EXHAUSTED, E_LISTENERS_EXHAUSTED, E_SYNCACHE_EXHAUSTED, E_BAD_ARGUMENT,
  E_STALE_HANDLE, E_INVALID_HANDLE, setLastError,
} from "../errors";
import { count, C_ENDPOINTS_EXHAUSTED, C_LISTENERS_EXHAUSTED, C_SYNCACHE_EXHAUSTED, C_STALE_HANDLE, C_INVALID_HANDLE } from "./stats";

export const EP_CONNECTION: u8 = 0;
export const EP_LISTENER: u8 = 1;
export const EP_SYNCACHE: u8 = 2;
export const EP_CLASSES: u8 = 3;

export const ENDPOINT_RECORD_SIZE: u32 = <u32>TCB_SIZE;

let slab: Slab = changetype<Slab>(0);
let classes: usize = 0; // one u8 per record: class | EP_PENDING
let entryWords: usize = 0; // one u32 per record: table entry handle
/** Bit of the classes byte: the record sits in the pending-output ring. */
const EP_PENDING: u8 = 0x80;
/** Bit of the classes byte: the record sits in the pool-wait ring. */
const EP_POOL_WAIT: u8 = 0x40;
const EP_CLASS_MASK: u8 = 0x03;
/** Flags that belong to the record index and survive recycling (their ring slots do). */
const EP_RING_BITS: u8 = EP_PENDING | EP_POOL_WAIT;

/** A FIFO ring of endpoint handles; a record is in it at most once (its flag bit). */
@unmanaged class HandleRing {
  base: usize;
  head: u32; // running counts
  tail: u32;
  bit: u32;
}

let pendingRing: HandleRing = changetype<HandleRing>(0);
let poolWaitRing: HandleRing = changetype<HandleRing>(0);

function ringCarve(cap: u32, bit: u8): HandleRing {
  const r = changetype<HandleRing>(heap.alloc(offsetof<HandleRing>()));
  r.base = heap.alloc(<usize>cap << 2);
  r.head = 0;
  r.tail = 0;
  r.bit = bit;
  return r;
}

/** Queues live endpoint `h` once; returns false for a bad handle. */
function ringPush(r: HandleRing, h: u32): bool {
  if (slabCheck(slab, h) != OK) return false;
  const index = handleIndex(h);
  const byte = load<u8>(classes + index);
  const bit = <u8>r.bit;
  if ((byte & bit) != 0) return true;
  // One ring slot per flagged index, so `capacity` slots never overflow; check anyway.
  if (r.tail - r.head >= slab.capacity) return false;
  store<u8>(classes + index, byte | bit);
  store<u32>(r.base + (<usize>(r.tail % slab.capacity) << 2), h);
  r.tail++;
  return true;
}

/**
 * Takes the oldest queued endpoint: its handle (flag cleared), or 0 when the ring is
 * empty. The flag belongs to the record index, so a slot whose record was recycled
 * meanwhile yields the index's current handle (one extra attempt, harmless) and a
 * slot of a free record is skipped.
 */
function ringPop(r: HandleRing): u32 {
  const bit = <u8>r.bit;
  while (r.head != r.tail) {
    const h = load<u32>(r.base + (<usize>(r.head % slab.capacity) << 2));
    r.head++;
    const index = handleIndex(h);
    if (index >= slab.capacity) continue;
    const byte = load<u8>(classes + index);
    store<u8>(classes + index, byte & ~bit);
    const cur = slabHandleAt(slab, index);
    if (cur != 0 && slabCheck(slab, cur) == OK) return cur;
  }
  return 0;
}
// Quotas and use counts per class (plain globals: nothing here needs the start function).
let quota0: u32 = 0, quota1: u32 = 0, quota2: u32 = 0;
let used0: u32 = 0, used1: u32 = 0, used2: u32 = 0;

@inline function quotaOf(cls: u8): u32 { return cls == 0 ? quota0 : cls == 1 ? quota1 : quota2; }
@inline function usedOf(cls: u8): u32 { return cls == 0 ? used0 : cls == 1 ? used1 : used2; }
@inline function addUsed(cls: u8, d: i32): void {
  if (cls == 0) used0 += d; else if (cls == 1) used1 += d; else used2 += d;
}

/** Slab capacity for the three quotas (u64: the caller checks it against MAX_SLAB_RECORDS). */
export function endpointsCapacity(maxConnections: u32, maxListeners: u32, syncacheEntries: u32): u64 {
  return <u64>maxConnections + <u64>maxListeners + <u64>syncacheEntries;
}

/** Bytes endpointsInit carves. */
export function endpointsBytes(maxConnections: u32, maxListeners: u32, syncacheEntries: u32): u64 {
  const cap = endpointsCapacity(maxConnections, maxListeners, syncacheEntries);
  if (cap > <u64>MAX_SLAB_RECORDS) return u64.MAX_VALUE >> 1;
  return slabBytes(<u32>cap, ENDPOINT_RECORD_SIZE) + ((cap + 7) & ~<u64>7) + cap * 12 + 2 * <u64>offsetof<HandleRing>();
}

/** Bytes beside each record: class byte, table-entry word, pending-ring and pool-wait-ring slots. */
export const ENDPOINT_SIDE_BYTES: u32 = 1 + 4 + 4 + 4;

/** Carves the endpoint slab (the caller validated the sizes). */
export function endpointsInit(maxConnections: u32, maxListeners: u32, syncacheEntries: u32): void {
  const cap = <u32>endpointsCapacity(maxConnections, maxListeners, syncacheEntries);
  slab = slabCarve(cap, ENDPOINT_RECORD_SIZE, true); // FIFO: the host holds these handles (slab.ts)
  classes = heap.alloc((<usize>cap + 7) & ~<usize>7);
  memory.fill(classes, 0, cap);
  entryWords = heap.alloc(<usize>cap << 2);
  memory.fill(entryWords, 0, <usize>cap << 2);
  pendingRing = ringCarve(cap, EP_PENDING);
  poolWaitRing = ringCarve(cap, EP_POOL_WAIT);
  quota0 = maxConnections;
  quota1 = maxListeners;
  quota2 = syncacheEntries;
  used0 = 0;
  used1 = 0;
  used2 = 0;
  // Every record starts as a fresh, idle control block.
  for (let i: u32 = 0; i < cap; i++) tcbReset(slabAt(slab, i), 0);
}

export function endpointSlab(): Slab {
  return slab;
}

function exhausted(cls: u8): void {
  if (cls == EP_LISTENER) {
    count(C_LISTENERS_EXHAUSTED);
    setLastError(E_LISTENERS_EXHAUSTED);
  } else if (cls == EP_SYNCACHE) {
    count(C_SYNCACHE_EXHAUSTED);
    setLastError(E_SYNCACHE_EXHAUSTED);
  } else {
    count(C_ENDPOINTS_EXHAUSTED);
    setLastError(E_ENDPOINTS_EXHAUSTED);
  }
}

/**
 * A fresh control block of class `cls`: returns its handle (the Tcb's `handle` field
 * holds it too), or 0 with lastError() = the class's exhaustion code (counted).
 */
export function endpointAcquire(cls: u8): u32 {
  if (cls >= EP_CLASSES) {
    setLastError(E_BAD_ARGUMENT);
    return 0;
  }
  if (usedOf(cls) >= quotaOf(cls)) {
    exhausted(cls);
    return 0;
  }
  const h = slabAcquire(slab);
  if (h == 0) {
    // Cannot happen while the quotas sum to the capacity; refuse all the same.
    exhausted(cls);
    return 0;
  }
  addUsed(cls, 1);
  const index = handleIndex(h);
  // The ring flags survive recycling: their ring slots (holding the old handle)
  // are still queued and will be taken for the new occupant (ringPop).
  store<u8>(classes + index, cls | (load<u8>(classes + index) & EP_RING_BITS));
  store<u32>(entryWords + (<usize>index << 2), 0);
  tcbReset(slabAt(slab, index), h);
  return h;
}

/** OK, E_INVALID_HANDLE or E_STALE_HANDLE (the latter two counted). */
export function endpointCheck(h: u32): i32 {
  const rc = slabCheck(slab, h);
  if (rc == E_STALE_HANDLE) count(C_STALE_HANDLE);
  else if (rc == E_INVALID_HANDLE) count(C_INVALID_HANDLE);
  return rc;
}

/** The control block of `h`, or 0 for a bad or stale handle (counted; see endpointCheck). */
export function endpointPtr(h: u32): usize {
  return endpointCheck(h) == OK ? slabAt(slab, handleIndex(h)) : 0;
}

/** The control block of `h` as a Tcb (the caller checked the handle). */
@inline
export function endpointTcb(h: u32): Tcb {
  return changetype<Tcb>(slabAt(slab, handleIndex(h)));
}

/** Class of a live endpoint (EP_*), or 0xff for a bad handle. */
export function endpointClass(h: u32): u8 {
  return slabCheck(slab, h) == OK ? load<u8>(classes + handleIndex(h)) & EP_CLASS_MASK : 0xff;
}

/** Moves a live endpoint to another class (syncache → connection); fails when the target quota is full. */
export function endpointSetClass(h: u32, cls: u8): i32 {
  const rc = endpointCheck(h);
  if (rc != OK) return rc;
  if (cls >= EP_CLASSES) return E_BAD_ARGUMENT;
  const index = handleIndex(h);
  const byte = load<u8>(classes + index);
  const from = byte & EP_CLASS_MASK;
  if (from == cls) return OK;
  if (usedOf(cls) >= quotaOf(cls)) {
    exhausted(cls);
    return cls == EP_LISTENER ? E_LISTENERS_EXHAUSTED : cls == EP_SYNCACHE ? E_SYNCACHE_EXHAUSTED : E_ENDPOINTS_EXHAUSTED;
  }
  addUsed(from, -1);
  addUsed(cls, 1);
  store<u8>(classes + index, cls | (byte & EP_RING_BITS));
  return OK;
}

/**
 * Releases `h`: cancels its four timers, gives back its data chunks, frees the slot
 * and makes `h` stale. Returns OK, E_INVALID_HANDLE or E_STALE_HANDLE (nothing is
 * touched then: a stale handle never reaches the record's new occupant).
 */
export function endpointRelease(h: u32): i32 {
  const rc = endpointCheck(h);
  if (rc != OK) return rc;
  const index = handleIndex(h);
  const p = slabAt(slab, index);
  tcbCancelTimers(p);
  cqFree(p + TCB_SNDQ);
  cqFree(p + TCB_RCVQ);
  const cls = load<u8>(classes + index) & EP_CLASS_MASK;
  addUsed(cls, -1);
  store<u32>(entryWords + (<usize>index << 2), 0);
  return slabRelease(slab, h);
}

/** Endpoints of class `cls` in use. */
export function endpointsInUse(cls: u8): u32 {
  return cls < EP_CLASSES ? usedOf(cls) : 0;
}

/** All endpoints in use. */
export function endpointsInUseTotal(): u32 {
  return slab.inUse;
}

/** The record of a live handle, or 0; unlike endpointPtr it counts nothing (internal lookups). */
export function endpointPtrQuiet(h: u32): usize {
  return slabCheck(slab, h) == OK ? slabAt(slab, handleIndex(h)) : 0;
}

/** Slab capacity (records of all classes). */
export function endpointsCapacityNow(): u32 {
  return slab.capacity;
}

/** Table entry handle stored for the record of the live handle `h` (0 = none or bad handle). */
export function endpointEntry(h: u32): u32 {
  return slabCheck(slab, h) == OK ? load<u32>(entryWords + (<usize>handleIndex(h) << 2)) : 0;
}

/** Stores the table entry handle of a live record (ignored for a bad handle). */
export function endpointSetEntry(h: u32, e: u32): void {
  if (slabCheck(slab, h) == OK) store<u32>(entryWords + (<usize>handleIndex(h) << 2), e);
}

/**
 * Queues live endpoint `h` for another output attempt (its segments met a full TX
 * ring). A record is queued at most once; returns false for a bad handle.
 */
export function endpointPendingPush(h: u32): bool {
  return ringPush(pendingRing, h);
}

/** The oldest endpoint waiting for TX room (flag cleared), or 0 (see ringPop). */
export function endpointPendingPop(): u32 {
  return ringPop(pendingRing);
}

/** Endpoints waiting in the pending-output ring (stale slots included). */
export function endpointPendingCount(): u32 {
  return pendingRing.tail - pendingRing.head;
}

/** Queues live endpoint `h` until the chunk pool has chunks again (once; false for a bad handle). */
export function endpointPoolWaitPush(h: u32): bool {
  return ringPush(poolWaitRing, h);
}

/** The oldest endpoint waiting for chunks (flag cleared), or 0 (see ringPop). */
export function endpointPoolWaitPop(): u32 {
  return ringPop(poolWaitRing);
}

/** Endpoints waiting in the pool-wait ring (stale slots included). */
export function endpointPoolWaitCount(): u32 {
  return poolWaitRing.tail - poolWaitRing.head;
}
