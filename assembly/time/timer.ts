// Intrusive timer nodes.
//
// A timer is not an object of its own: it is a 24-byte node embedded in the record
// that owns it (an endpoint control block has its retransmit, delayed-ACK,
// keepalive/persist and TIME-WAIT nodes inside it). Both timer queues (the V2 wheel
// in wheel.ts and the naive V1 list in list.ts) link these nodes into their lists by
// address, so scheduling and cancelling never allocate.
//
//   TimerNode (24 bytes, 8-byte aligned)
//   ┌────────┬────────┬────────────────────┬────────┬──────┬───────┬──────┬───────┐
//   │ next   │ prev   │ expiresAt          │ owner  │ kind │ level │ slot │ flags │
//   │ u32    │ u32    │ u64 (absolute tick)│ u32    │ u8   │ u8    │ u8   │ u8    │
//   └────────┴────────┴────────────────────┴────────┴──────┴───────┴──────┴───────┘
//   0        4        8                    16       20     21      22     23     24
//
// `level` is LEVEL_IDLE while the node is in no queue; that is the only "is active"
// test. A node must be idle (cancelled) before the memory that holds it is reused.

/** `level` of a node that is in no queue. */
export const LEVEL_IDLE: u8 = 0xff;
/** `level` of a node that is linked into the V1 sorted list. */
export const LEVEL_LIST: u8 = 0xfe;
/** `level` of a node that is linked into a constant-delay queue (time/fifo.ts; `slot` = the queue). */
export const LEVEL_FIFO: u8 = 0xfd;
/** "No timer pending": returned by nextExpiration() when both queues are empty. */
export const NO_TIMER: u64 = u64.MAX_VALUE;

// Timer kinds: the tag the expiry dispatcher switches on. Values are part of the
// debugging ABI (they appear in traces), so they never change meaning.
export const TIMER_KIND_NONE: u8 = 0;
export const TIMER_KIND_TEST: u8 = 1;
export const TIMER_KIND_RETRANSMIT: u8 = 2;
export const TIMER_KIND_DELAYED_ACK: u8 = 3;
export const TIMER_KIND_PERSIST: u8 = 4;
export const TIMER_KIND_KEEPALIVE: u8 = 5;
export const TIMER_KIND_TIME_WAIT: u8 = 6;
export const TIMER_KIND_SYNACK: u8 = 7;
export const TIMER_KIND_ARP: u8 = 8;
export const TIMER_KIND_REASSEMBLY: u8 = 9;
/** The wheel node of a constant-delay queue (time/fifo.ts); handled inside the timer service. */
export const TIMER_KIND_FIFO_HEAD: u8 = 10;
export const TIMER_KIND_COUNT: u8 = 16;

@unmanaged
export class TimerNode {
  /** Next node in the same slot list (or the sorted list); 0 at the tail. */
  next: usize;
  /** Previous node; 0 when this node is the list head. */
  prev: usize;
  /** Absolute tick at which the timer fires; meaningful only while active. */
  expiresAt: u64;
  /** Handle of the record that owns this node (passed to the dispatcher). */
  owner: u32;
  /** TIMER_KIND_*: what the dispatcher does on expiry. */
  kind: u8;
  /** Wheel level 0..3, LEVEL_LIST, LEVEL_FIFO, or LEVEL_IDLE when in no queue. */
  level: u8;
  /** Slot 0..255 within `level` (wheel only). */
  slot: u8;
  /** Reserved for the owner; queues never touch it. */
  flags: u8;
}

export const TIMER_NODE_SIZE: usize = offsetof<TimerNode>();

/** Makes the memory at `p` an idle node of `kind` owned by `owner`. */
@inline
export function timerInit(p: usize, kind: u8, owner: u32): void {
  const n = changetype<TimerNode>(p);
  n.next = 0;
  n.prev = 0;
  n.expiresAt = 0;
  n.owner = owner;
  n.kind = kind;
  n.level = LEVEL_IDLE;
  n.slot = 0;
  n.flags = 0;
}

@inline
export function timerIsActive(p: usize): bool {
  return changetype<TimerNode>(p).level != LEVEL_IDLE;
}

/** Called for every expired node, after it has been unlinked (so it may reschedule itself). */
export type TimerHandler = (node: usize) => void;
