// Frame rings (RX, TX) and the event ring, single producer / single consumer, in
// linear memory. Layouts (ring header, frame slot, event record) are drawn in
// assembly/abi.ts and docs/abi.md. Storage is carved once by ringsInit/eventsInit;
// afterwards nothing here allocates.
//
// Contract for the interface layer (kept stable):
//   txAcquire(): usize          address of a free TX slot's frame buffer, 0 if the ring is full
//   txFrameCapacity(): u32      bytes a TX frame buffer holds (slotSize − SLOT_HDR_SIZE)
//   txCommit(buf, len): void    publish the frame written at buf (len bytes)
//   ringsInit(rxSlots, txSlots, slotSize): i32   carve both frame rings (also from specs)
//
// txAcquire does not move anything: calling it twice without txCommit returns the same
// buffer, so an abandoned frame costs nothing. txCommit only accepts the buffer that
// txAcquire returned and a length within the capacity; anything else is counted
// (C_TX_COMMIT_INVALID) and ignored.
//
// RX side: the host fills slots and advances head; the module calls rxPoll(budget)
// once per tick, which hands each frame to the ingress handler (set by init via
// setRxHandler) and advances tail. A host that writes a nonsense head or length
// cannot make the module read outside the ring: indices are masked, lengths checked;
// a head more than one lap ahead (or behind tail) is dropped and tail resynchronized
// to it (counted rxRingCorrupt), never replayed; a ring found full is counted
// (rxRingFull).

import {
  ABI_BASE, ABI_RX_RING_OFF, ABI_TX_RING_OFF, ABI_EVENT_RING_OFF,
  RING_HEAD_OFF, RING_TAIL_OFF, RING_SLOTS_OFF, RING_SLOT_SIZE_OFF, RING_BASE_OFF, RING_MASK_OFF,
  RING_DROPPED_OFF, SLOT_HDR_SIZE, SLOT_LEN_OFF, SLOT_FLAGS_OFF, SLOT_TIME_OFF,
  EVENT_SIZE, EVENT_TYPE_OFF, EVENT_FLAGS_OFF, EVENT_HANDLE_OFF, EVENT_ARG0_OFF, EVENT_ARG1_OFF,
  abiStamp,
} from "../abi";
import {
  OK, E_CONFIG_ZERO, E_CONFIG_NOT_POW2, E_CONFIG_SLOT_SIZE, E_CONFIG_TOO_LARGE, E_TX_RING_FULL,
  E_EVENT_RING_FULL,
} from "../errors";
import {
  count, C_TX_RING_FULL, C_TX_COMMIT_INVALID, C_RX_BAD_LENGTH, C_RX_RING_CORRUPT, C_RX_RING_FULL, C_RX_FRAMES,
  C_TX_FRAMES, C_EVENT_RING_FULL, C_EVENTS, C_RX_NO_HANDLER,
} from "./stats";
import { nowUs } from "../time/clock";

/** Smallest slot: a minimum Ethernet frame (60 bytes without FCS) plus the slot header. */
export const MIN_SLOT_SIZE: u32 = 128;
/** Largest slot: 64 KiB (jumbo frames of 9000+ bytes fit well below it). */
export const MAX_SLOT_SIZE: u32 = 65536;
/** Largest slot count of one ring (2^20). */
export const MAX_RING_SLOTS: u32 = 1 << 20;
export const DEFAULT_SLOT_SIZE: u32 = 2048;

export const RX_RING: usize = ABI_BASE + ABI_RX_RING_OFF;
export const TX_RING: usize = ABI_BASE + ABI_TX_RING_OFF;
export const EVENT_RING: usize = ABI_BASE + ABI_EVENT_RING_OFF;

// --- ring geometry ------------------------------------------------------------------
// The geometry (slots, slotSize, base) lives in module globals set by ringSetup; the
// copies in the ring headers are for the host to read. Only head and tail are read
// back from shared memory, so a host that overwrites a header's geometry (a stray
// write) cannot make the module read or write outside the carved ring regions, nor
// trap (the break review's repro, tests/host/break-abi.test.ts).
let rxSlotsG: u32 = 0, rxSizeG: u32 = 0, rxBaseG: usize = 0;
let txSlotsG: u32 = 0, txSizeG: u32 = 0, txBaseG: usize = 0;
let evSlotsG: u32 = 0, evSizeG: u32 = 0, evBaseG: usize = 0;

// --- ring header accessors -------------------------------------------------------
@inline export function ringHead(r: usize): u32 { return load<u32>(r + RING_HEAD_OFF); }
@inline export function ringTail(r: usize): u32 { return load<u32>(r + RING_TAIL_OFF); }
export function ringSlots(r: usize): u32 {
  return r == RX_RING ? rxSlotsG : r == TX_RING ? txSlotsG : r == EVENT_RING ? evSlotsG : 0;
}
export function ringSlotSize(r: usize): u32 {
  return r == RX_RING ? rxSizeG : r == TX_RING ? txSizeG : r == EVENT_RING ? evSizeG : 0;
}
export function ringBase(r: usize): usize {
  return r == RX_RING ? rxBaseG : r == TX_RING ? txBaseG : r == EVENT_RING ? evBaseG : 0;
}
@inline function ringMask(r: usize): u32 { const n = ringSlots(r); return n == 0 ? 0 : n - 1; }
/** Address of the slot that running count `i` maps to. */
@inline export function ringSlot(r: usize, i: u32): usize {
  return ringBase(r) + <usize>(i & ringMask(r)) * <usize>ringSlotSize(r);
}
/** Items in the ring (head − tail), as the producer and consumer see it. */
@inline export function ringUsed(r: usize): u32 { return ringHead(r) - ringTail(r); }

@inline
export function isPow2(x: u32): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/** Checks frame-ring parameters without carving anything. */
export function ringsCheck(rxSlots: u32, txSlots: u32, slotSize: u32): i32 {
  if (rxSlots == 0 || txSlots == 0 || slotSize == 0) return E_CONFIG_ZERO;
  if (!isPow2(rxSlots) || !isPow2(txSlots)) return E_CONFIG_NOT_POW2;
  if (rxSlots > MAX_RING_SLOTS || txSlots > MAX_RING_SLOTS) return E_CONFIG_TOO_LARGE;
  if (slotSize < MIN_SLOT_SIZE || slotSize > MAX_SLOT_SIZE || (slotSize & 7) != 0) return E_CONFIG_SLOT_SIZE;
  // Each ring is one allocator block: below the stub allocator's 1 GiB block limit
  // (the same bound mem/layout.ts applies), so ringsInit's sizes never wrap.
  if (ringBytes(rxSlots, slotSize) > MAX_RING_BYTES || ringBytes(txSlots, slotSize) > MAX_RING_BYTES) return E_CONFIG_TOO_LARGE;
  return OK;
}

/** Largest ring region (bytes): the allocator's block limit, 1 GiB minus its header. */
export const MAX_RING_BYTES: u64 = (1 << 30) - 64;

/** Bytes ringsInit carves for these parameters (valid ones only). */
export function ringBytes(slots: u32, slotSize: u32): u64 {
  return <u64>slots * <u64>slotSize;
}

function ringSetup(r: usize, slots: u32, slotSize: u32, base: usize): void {
  if (r == RX_RING) { rxSlotsG = slots; rxSizeG = slotSize; rxBaseG = base; }
  else if (r == TX_RING) { txSlotsG = slots; txSizeG = slotSize; txBaseG = base; }
  else if (r == EVENT_RING) { evSlotsG = slots; evSizeG = slotSize; evBaseG = base; }
  store<u32>(r + RING_HEAD_OFF, 0);
  store<u32>(r + RING_TAIL_OFF, 0);
  store<u32>(r + RING_SLOTS_OFF, slots);
  store<u32>(r + RING_SLOT_SIZE_OFF, slotSize);
  store<u32>(r + RING_BASE_OFF, <u32>base);
  store<u32>(r + RING_MASK_OFF, slots - 1);
  store<u32>(r + RING_DROPPED_OFF, 0);
  store<u32>(r + RING_DROPPED_OFF + 4, 0);
}

/**
 * Carves the RX and TX frame rings (slot counts powers of two, slotSize a multiple of
 * 8 in MIN_SLOT_SIZE..MAX_SLOT_SIZE). Returns OK or the E_CONFIG_* reason, carving
 * nothing on error. Usable directly from specs; init() calls it once.
 */
export function ringsInit(rxSlots: u32, txSlots: u32, slotSize: u32): i32 {
  const rc = ringsCheck(rxSlots, txSlots, slotSize);
  if (rc != OK) return rc;
  abiStamp();
  // u64 sizes (ringBytes), narrowed only after ringsCheck bounded them by MAX_RING_BYTES.
  const rxBytes = <usize>ringBytes(rxSlots, slotSize);
  const txBytes = <usize>ringBytes(txSlots, slotSize);
  const rx = heap.alloc(rxBytes);
  const tx = heap.alloc(txBytes);
  memory.fill(rx, 0, rxBytes);
  memory.fill(tx, 0, txBytes);
  ringSetup(RX_RING, rxSlots, slotSize, rx);
  ringSetup(TX_RING, txSlots, slotSize, tx);
  return OK;
}

// --- TX: module produces, host consumes --------------------------------------------

/** Bytes a TX frame buffer holds. 0 before ringsInit. */
export function txFrameCapacity(): u32 {
  const s = ringSlotSize(TX_RING);
  return s == 0 ? 0 : s - SLOT_HDR_SIZE;
}

/** Address of the next free TX slot's frame buffer, or 0 when the ring is full (counted). */
export function txAcquire(): usize {
  const r = TX_RING;
  const slots = ringSlots(r);
  if (slots == 0) return 0;
  const head = ringHead(r);
  // The host owns tail; a value claiming more than `slots` consumed is treated as full.
  if (head - ringTail(r) >= slots) {
    count(C_TX_RING_FULL);
    store<u32>(r + RING_DROPPED_OFF, load<u32>(r + RING_DROPPED_OFF) + 1);
    return 0;
  }
  return ringSlot(r, head) + SLOT_HDR_SIZE;
}

/** Publishes the frame written at `buf` (as returned by txAcquire) of `len` bytes. */
export function txCommit(buf: usize, len: u32): void {
  const r = TX_RING;
  const slots = ringSlots(r);
  const head = ringHead(r);
  if (slots == 0 || head - ringTail(r) >= slots || len == 0 || len > txFrameCapacity()) {
    count(C_TX_COMMIT_INVALID);
    return;
  }
  const slot = ringSlot(r, head);
  if (buf != slot + SLOT_HDR_SIZE) {
    count(C_TX_COMMIT_INVALID);
    return;
  }
  store<u32>(slot + SLOT_LEN_OFF, len);
  store<u32>(slot + SLOT_FLAGS_OFF, 0);
  store<u64>(slot + SLOT_TIME_OFF, nowUs);
  store<u32>(r + RING_HEAD_OFF, head + 1);
  count(C_TX_FRAMES);
}

/** Like txAcquire + fail code: E_TX_RING_FULL when no slot is free (for callers that return codes). */
export function txFull(): i32 {
  const r = TX_RING;
  return ringSlots(r) == 0 || ringHead(r) - ringTail(r) >= ringSlots(r) ? E_TX_RING_FULL : OK;
}

// --- RX: host produces, module consumes ---------------------------------------------

/** Ingress for one received frame: (frame address, length, receive time in µs). */
export type RxHandler = (frame: usize, len: u32, timeUs: u64) => void;

// No ingress wired: frames are consumed and counted (C_RX_NO_HANDLER).
let rxHandler: RxHandler | null = null;

/** Wires the ingress (the interface layer's per-frame entry). */
export function setRxHandler(h: RxHandler): void {
  rxHandler = h;
}

/** Bytes an RX frame buffer holds. */
export function rxFrameCapacity(): u32 {
  const s = ringSlotSize(RX_RING);
  return s == 0 ? 0 : s - SLOT_HDR_SIZE;
}

/**
 * Hands up to `budget` pending RX frames to the ingress handler, oldest first, and
 * frees their slots. Returns the number of slots consumed. Frames with length 0 or
 * above the slot capacity are skipped and counted (C_RX_BAD_LENGTH).
 *
 * A full ring (head − tail == slots: the host could place nothing more until this
 * poll) is counted once per poll that finds it so (C_RX_RING_FULL).
 *
 * A corrupt head (head − tail above the slot count: more than one lap ahead, or
 * behind tail) cannot say which slots hold new frames: the slots' contents are old
 * frames already handed up, and taking "one lap" of them would replay them — on every
 * tick, since tail could never catch up. So the whole claim is dropped: counted once
 * (C_RX_RING_CORRUPT), no frame is handed up, and tail is resynchronized to head, so
 * the next frame the host places is read normally. Returns `slots` then (every slot
 * was freed).
 */
export function rxPoll(budget: u32): u32 {
  const r = RX_RING;
  const slots = ringSlots(r);
  if (slots == 0) return 0;
  let tail = ringTail(r);
  const head = ringHead(r);
  const avail = head - tail;
  if (avail > slots) {
    count(C_RX_RING_CORRUPT);
    store<u32>(r + RING_TAIL_OFF, head);
    return slots;
  }
  if (avail == slots) count(C_RX_RING_FULL);
  const n = avail < budget ? avail : budget;
  const cap = rxFrameCapacity();
  for (let i: u32 = 0; i < n; i++) {
    const slot = ringSlot(r, tail);
    const len = load<u32>(slot + SLOT_LEN_OFF);
    if (len == 0 || len > cap) {
      count(C_RX_BAD_LENGTH);
    } else {
      count(C_RX_FRAMES);
      const h = rxHandler;
      if (h === null) count(C_RX_NO_HANDLER);
      else h(slot + SLOT_HDR_SIZE, len, load<u64>(slot + SLOT_TIME_OFF));
    }
    tail++;
    store<u32>(r + RING_TAIL_OFF, tail);
  }
  return n;
}

/** Frames waiting in the RX ring (clamped to the slot count). */
export function rxPending(): u32 {
  const r = RX_RING;
  const used = ringUsed(r);
  const slots = ringSlots(r);
  return used > slots ? slots : used;
}

// --- event ring: module produces, host consumes ----------------------------------------

export const MAX_EVENT_SLOTS: u32 = 1 << 22;

/** Checks the event-ring size (records, a power of two). */
export function eventsCheck(slots: u32): i32 {
  if (slots == 0) return E_CONFIG_ZERO;
  if (!isPow2(slots)) return E_CONFIG_NOT_POW2;
  if (slots > MAX_EVENT_SLOTS) return E_CONFIG_TOO_LARGE;
  return OK;
}

/** Carves the event ring of `slots` EVENT_SIZE-byte records. */
export function eventsInit(slots: u32): i32 {
  const rc = eventsCheck(slots);
  if (rc != OK) return rc;
  abiStamp();
  // u64 product, narrowed after eventsCheck bounded it (MAX_EVENT_SLOTS × 16 B = 64 MiB).
  const bytes = <usize>(<u64>slots * <u64>EVENT_SIZE);
  const base = heap.alloc(bytes);
  memory.fill(base, 0, bytes);
  ringSetup(EVENT_RING, slots, EVENT_SIZE, base);
  return OK;
}

/**
 * Appends one event record. When the ring is full the event is dropped, counted
 * (C_EVENT_RING_FULL and the ring's `dropped`) and E_EVENT_RING_FULL returned; the
 * caller decides whether that matters (the host drains the ring every tick).
 */
export function eventPush(type: u16, handle: u32, arg0: u32, arg1: u32): i32 {
  const r = EVENT_RING;
  const slots = ringSlots(r);
  const head = ringHead(r);
  if (slots == 0 || head - ringTail(r) >= slots) {
    count(C_EVENT_RING_FULL);
    store<u32>(r + RING_DROPPED_OFF, load<u32>(r + RING_DROPPED_OFF) + 1);
    return E_EVENT_RING_FULL;
  }
  const e = ringSlot(r, head);
  store<u16>(e + EVENT_TYPE_OFF, type);
  store<u16>(e + EVENT_FLAGS_OFF, 0);
  store<u32>(e + EVENT_HANDLE_OFF, handle);
  store<u32>(e + EVENT_ARG0_OFF, arg0);
  store<u32>(e + EVENT_ARG1_OFF, arg1);
  store<u32>(r + RING_HEAD_OFF, head + 1);
  count(C_EVENTS);
  return OK;
}

/** True once the rings exist (ringsInit succeeded). */
export function ringsReady(): bool {
  return ringSlots(RX_RING) != 0;
}
