// The TCP engine's narrow interface to the rest of the stack.
//
// The engine (input/listen/connect/rcv/snd/output/timers/api) never calls the
// endpoint pool, connection table, chunk pool, event ring or IPv4 layer directly:
// it calls the function references below. The integration (assembly/index.ts)
// points them at the real implementations once at init; specs point them at the
// in-memory doubles of tests/assembly/tcp-kit.ts. Calls are call_indirect, and no
// closure is ever created, so nothing allocates.
//
// Every function here is total: it must accept any argument the engine passes and
// report failure by its return value, never by trapping.

import { TCB_SIZE } from "./tcb";

// ── endpoint pool ────────────────────────────────────────────────────────────
/** Acquires a record (already tcbReset with its handle); returns the handle, 0 when exhausted. */
export let envTcbAlloc: () => u32 = noAlloc;
/** Address of the record of `handle`, 0 for an invalid or stale handle. */
export let envTcbPtr: (handle: u32) => usize = noPtr;
/** Returns the record to the pool (all its timers are already cancelled). */
export let envTcbFree: (handle: u32) => void = noFree;

// ── connection table ─────────────────────────────────────────────────────────
/**
 * Demux: the handle for a segment from remote (addr, port) to local (addr, port):
 * exact 4-tuple, then listener (local addr, port), then listener (any, port); 0 = none.
 */
export let envLookup: (localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16) => u32 = noLookup;
/** Inserts the record's 4-tuple (or, in LISTEN, its listener key) → handle. 0 = OK, else an errors.ts code. */
export let envTableInsert: (tcb: usize) => i32 = noInsert;
/** Removes whatever envTableInsert inserted for the record (no-op when absent). */
export let envTableRemove: (tcb: usize) => void = noRemove;
/** True when the 4-tuple is in the table (RFC 6056 port choice; bind checks). */
export let envTupleInUse: (localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16) => bool = noInUse;

// ── send buffer (chunk queue at tcb + TCB_SNDQ) ─────────────────────────────
// Byte 0 of the send buffer is the byte at sequence number sndUna (once the SYN is acked).
/** Appends up to `len` bytes from `src`; returns the bytes taken (limited by sndBufMax and chunks). */
export let envSndAppend: (tcb: usize, src: usize, len: u32) => u32 = noAppend;
/** Copies `len` bytes starting `off` bytes into the send buffer to `dst` (the range exists). */
export let envSndCopy: (tcb: usize, off: u32, dst: usize, len: u32) => void = noCopy;
/** Drops the first `n` bytes (acknowledged). */
export let envSndConsume: (tcb: usize, n: u32) => void = noConsume;
/** Bytes in the send buffer. */
export let envSndLen: (tcb: usize) => u32 = noLen;
/**
 * The chunk pool (shared by every connection) refused part of a send while the send
 * buffer had room: queue `handle` for an EV_WRITABLE once chunks come back.
 */
export let envPoolWait: (handle: u32) => void = noFree;

// ── receive buffer (chunk queue at tcb + TCB_RCVQ) ──────────────────────────
// The buffer holds `readable` bytes (delivered in order, not yet read by the
// application) and, after them, out-of-order bytes at their offsets.
/**
 * Stores `len` bytes from `src` at `off` bytes past the readable end (off 0 = the
 * byte at rcvNxt). Returns how many leading bytes were stored (space-limited).
 */
export let envRcvWriteAt: (tcb: usize, off: u32, src: usize, len: u32) => u32 = noWriteAt;
/** The first `n` bytes past the readable end become readable. */
export let envRcvCommit: (tcb: usize, n: u32) => void = noConsume;
/** Copies up to `len` readable bytes to `dst` and drops them; returns the count. */
export let envRcvRead: (tcb: usize, dst: usize, len: u32) => u32 = noRead;
/** Readable bytes. */
export let envRcvLen: (tcb: usize) => u32 = noLen;
/** Bytes that can still be stored past the readable end and are backed by free chunks (the window). */
export let envRcvSpace: (tcb: usize) => u32 = noLen;
/** Releases every chunk of both buffers (connection gone). */
export let envBufRelease: (tcb: usize) => void = noRelease;

// ── output / events / hashing ────────────────────────────────────────────────
/**
 * A buffer for one outgoing TCP segment (header + payload), at least
 * TCP_HDR_MAX + the MSS we announce bytes long; 0 when the TX path is full.
 */
export let envTxBegin: () => usize = noTxBegin;
/** Sends the `len`-byte TCP segment built at `seg` (checksum filled) from `src` to `dst`. */
export let envTxSend: (seg: usize, len: u32, srcAddr: u32, dstAddr: u32) => void = noTxSend;
/** Posts an event (EV_* in api.ts) for `handle`. */
export let envEvent: (type: u16, handle: u32, arg0: u32, arg1: u32) => void = noEvent;
/** Keyed hash of four words with the stack's secret (util/hash.ts): ISN and ports. */
export let envHash: (a: u32, b: u32, c: u32, d: u32) => u32 = noHash;

/** Bytes of a Tcb, for the pool's record size. */
export const ENV_TCB_SIZE: usize = TCB_SIZE;

export class TcpEnv {
  tcbAlloc: () => u32 = noAlloc;
  tcbPtr: (handle: u32) => usize = noPtr;
  tcbFree: (handle: u32) => void = noFree;
  lookup: (localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16) => u32 = noLookup;
  tableInsert: (tcb: usize) => i32 = noInsert;
  tableRemove: (tcb: usize) => void = noRemove;
  tupleInUse: (localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16) => bool = noInUse;
  sndAppend: (tcb: usize, src: usize, len: u32) => u32 = noAppend;
  sndCopy: (tcb: usize, off: u32, dst: usize, len: u32) => void = noCopy;
  sndConsume: (tcb: usize, n: u32) => void = noConsume;
  sndLen: (tcb: usize) => u32 = noLen;
  poolWait: (handle: u32) => void = noFree;
  rcvWriteAt: (tcb: usize, off: u32, src: usize, len: u32) => u32 = noWriteAt;
  rcvCommit: (tcb: usize, n: u32) => void = noConsume;
  rcvRead: (tcb: usize, dst: usize, len: u32) => u32 = noRead;
  rcvLen: (tcb: usize) => u32 = noLen;
  rcvSpace: (tcb: usize) => u32 = noLen;
  bufRelease: (tcb: usize) => void = noRelease;
  txBegin: () => usize = noTxBegin;
  txSend: (seg: usize, len: u32, srcAddr: u32, dstAddr: u32) => void = noTxSend;
  event: (type: u16, handle: u32, arg0: u32, arg1: u32) => void = noEvent;
  hash: (a: u32, b: u32, c: u32, d: u32) => u32 = noHash;
}

/** Installs every function reference at once (called once at init, or per spec). */
export function setTcpEnv(e: TcpEnv): void {
  envTcbAlloc = e.tcbAlloc; envTcbPtr = e.tcbPtr; envTcbFree = e.tcbFree;
  envLookup = e.lookup; envTableInsert = e.tableInsert; envTableRemove = e.tableRemove;
  envTupleInUse = e.tupleInUse;
  envSndAppend = e.sndAppend; envSndCopy = e.sndCopy; envSndConsume = e.sndConsume; envSndLen = e.sndLen;
  envPoolWait = e.poolWait;
  envRcvWriteAt = e.rcvWriteAt; envRcvCommit = e.rcvCommit; envRcvRead = e.rcvRead;
  envRcvLen = e.rcvLen; envRcvSpace = e.rcvSpace; envBufRelease = e.bufRelease;
  envTxBegin = e.txBegin; envTxSend = e.txSend; envEvent = e.event; envHash = e.hash;
}

// Defaults: an unwired engine refuses everything and never traps.
function noAlloc(): u32 { return 0; }
function noPtr(h: u32): usize { return 0; }
function noFree(h: u32): void {}
function noLookup(a: u32, b: u16, c: u32, d: u16): u32 { return 0; }
function noInsert(p: usize): i32 { return 25; }
function noRemove(p: usize): void {}
function noInUse(a: u32, b: u16, c: u32, d: u16): bool { return true; }
function noAppend(p: usize, s: usize, n: u32): u32 { return 0; }
function noCopy(p: usize, o: u32, d: usize, n: u32): void {}
function noConsume(p: usize, n: u32): void {}
function noLen(p: usize): u32 { return 0; }
function noWriteAt(p: usize, o: u32, s: usize, n: u32): u32 { return 0; }
function noRead(p: usize, d: usize, n: u32): u32 { return 0; }
function noRelease(p: usize): void {}
function noTxBegin(): usize { return 0; }
function noTxSend(s: usize, n: u32, a: u32, b: u32): void {}
function noEvent(t: u16, h: u32, a: u32, b: u32): void {}
function noHash(a: u32, b: u32, c: u32, d: u32): u32 { return a ^ b ^ c ^ d; }
