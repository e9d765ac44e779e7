// The TCP engine's environment (tcp/env.ts), pointed at the real stack: the endpoint
// pool (mem/endpoints.ts), the connection table (tcp/table.ts), the chunk queues
// (mem/chunks.ts), the event ring (mem/rings.ts), the keyed hash (util/hash.ts) and
// the IPv4 output (iface/tcp-glue.ts). installTcpEnv() runs once at init.
//
//   engine call              adapter here             real implementation
//   envTcbAlloc()            epAlloc                  endpointAcquire(allocClass)
//   envTcbPtr(h)             endpointPtrQuiet         slab check, record address
//   envTcbFree(h)            epFree                   endpointRelease (timers, chunks, generation)
//   envLookup(la,lp,ra,rp)   lookup                   tableDemux → entry owner
//   envTableInsert(tcb)      insert                   tableInsert / tableInsertListener
//   envTableRemove(tcb)      remove                   tableRemove(the record's entry)
//   envTupleInUse(...)       tupleInUse               exact tuple, or a listener on the port
//   envSnd*(tcb, ...)        snd*                     ChunkQueue at tcb + TCB_SNDQ
//   envRcv*(tcb, ...)        rcv*                     RcvQueue at tcb + TCB_RCVQ
//   envTxBegin / envTxSend   txBegin / txSend         ipv4SegmentBegin / ipv4SegmentSend
//   envEvent                 event                    eventPush
//   envHash(a,b,c,d)         hash4                    SipHash-1-3 with the ISN key
//
// Endpoint classes (mem/endpoints.ts quotas): the engine allocates in two places,
// tcpOpen (the host's listen/connect: glue/api.ts sets `allocClass` to EP_LISTENER or
// EP_CONNECTION around the call) and listen.ts (a half-open child: the default,
// EP_SYNCACHE). A child stays EP_SYNCACHE (and its table entry ENTRY_SYNCACHE) until
// the application accepts it (glue/api.ts promotes it then), so embryonic
// connections can never eat the connection quota.
//
// Table keys: LISTEN records by (localAddr, localPort) in the listener index;
// passive children (SYN-RECEIVED) as ENTRY_SYNCACHE by 4-tuple, not bound; active
// opens as ENTRY_CONN by 4-tuple with EF_BOUND (they occupy their local port for
// bind checks, as Linux's connect does). The entry handle is kept beside the record
// (endpointEntry), so remove is O(1).

import {
  TcpEnv, setTcpEnv,
} from "../tcp/env";
import { Tcb, TCB_SNDQ, TCB_RCVQ, TF_ACTIVE_OPEN, TF_APP_CLOSED } from "../tcp/tcb";
import { STATE_LISTEN, STATE_SYN_RECEIVED } from "../tcp/state";
import {
  endpointAcquire, endpointRelease, endpointPtrQuiet, endpointEntry, endpointSetEntry,
  EP_SYNCACHE, endpointPoolWaitPush,
} from "../mem/endpoints";
import {
  tableDemux, tableLookup, tableLookupListener, tableInsert, tableInsertListener, tableRemove,
  tableBindCheck, entryOwner, entryType, ENTRY_CONN, ENTRY_SYNCACHE, ENTRY_TIMEWAIT, EF_BOUND,
} from "../tcp/table";
import {
  cqAppend, cqPeek, cqConsume, cqLength, cqFree, rqSpace, rqWriteAt, rqCommit, rqRead, rqTrim,
  rqLength, rqFree, cqTailRoom, chunksFreeForSend, chunkSize,
} from "../mem/chunks";
import { count, C_CHUNKS_EXHAUSTED } from "../mem/stats";
import { eventPush } from "../mem/rings";
import { hashKeyed2, isnK0, isnK1 } from "../util/hash";
import { tcpEnvTxBegin, tcpEnvTxSend } from "../iface/tcp-glue";
import { OK, E_EXISTS, lastError } from "../errors";

// ── state shared with the tick loop and the command ABI ─────────────────────────
/** Class the next envTcbAlloc takes (glue/api.ts sets it around tcpOpen). */
export let allocClass: u8 = EP_SYNCACHE;
export function setAllocClass(c: u8): void { allocClass = c; }

/** Set when an output buffer was refused (TX ring full) since the last clearTxFull(). */
export let txFullHit: bool = false;
export function clearTxFull(): void { txFullHit = false; }

/** The endpoint the last envLookup found (the record a frame was for), 0 = none. */
export let lastLookup: u32 = 0;
export function clearLastLookup(): void { lastLookup = 0; }

// ── endpoint pool ───────────────────────────────────────────────────────────────
function epAlloc(): u32 {
  return endpointAcquire(allocClass); // tcbReset(p, handle) inside; 0 + counter when exhausted
}

function epFree(h: u32): void {
  endpointRelease(h);
}

// ── connection table ────────────────────────────────────────────────────────────
function lookup(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  const e = tableDemux(localAddr, localPort, remoteAddr, remotePort);
  if (e == 0) return 0;
  // TIME-WAIT records (mem/timewait.ts, issue 6) are not control blocks.
  if (entryType(e) == ENTRY_TIMEWAIT) return 0;
  const h = entryOwner(e);
  lastLookup = h;
  return h;
}

function insert(p: usize): i32 {
  const t = changetype<Tcb>(p);
  const h = t.handle;
  if (endpointEntry(h) != 0) return E_EXISTS;
  let e: u32 = 0;
  if (t.state == STATE_LISTEN) {
    // Bind check against every entry of the port (connections bound to it too),
    // then the listener index (which also refuses a second listener).
    const rc = tableBindCheck(t.localAddr, t.localPort, 0);
    if (rc != OK) return rc;
    e = tableInsertListener(t.localAddr, t.localPort, h, 0);
  } else if (t.state == STATE_SYN_RECEIVED && (t.flags & TF_ACTIVE_OPEN) == 0) {
    e = tableInsert(ENTRY_SYNCACHE, t.localAddr, t.localPort, t.remoteAddr, t.remotePort, h, 0);
  } else {
    e = tableInsert(ENTRY_CONN, t.localAddr, t.localPort, t.remoteAddr, t.remotePort, h, EF_BOUND);
  }
  if (e == 0) return lastError();
  endpointSetEntry(h, e);
  return OK;
}

function remove(p: usize): void {
  const h = changetype<Tcb>(p).handle;
  const e = endpointEntry(h);
  if (e == 0) return;
  tableRemove(e);
  endpointSetEntry(h, 0);
}

function tupleInUse(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): bool {
  // RFC 6056: a port is usable for this destination when the 4-tuple is free; we also
  // keep off ports a listener owns, so its SYNs never demux to an outgoing connection.
  return tableLookup(localAddr, localPort, remoteAddr, remotePort) != 0 ||
    tableLookupListener(localAddr, localPort) != 0;
}

// ── send buffer: ChunkQueue at tcb + TCB_SNDQ ─────────────────────────────────────
function sndAppend(p: usize, src: usize, len: u32): u32 {
  const q = p + TCB_SNDQ;
  const have = cqLength(q);
  const max = changetype<Tcb>(p).sndBufMax;
  if (have >= max) return 0;
  const room = max - have;
  let want = len < room ? len : room;
  // Send data may not take the pool's receive reserve (mem/chunks.ts poolSendReserve):
  // the tail chunk's room plus the free chunks above the reserve.
  const poolRoom = <u64>cqTailRoom(q) + <u64>chunksFreeForSend() * <u64>chunkSize();
  if (<u64>want > poolRoom) {
    want = <u32>poolRoom;
    count(C_CHUNKS_EXHAUSTED);
  }
  return cqAppend(q, src, want); // partial when the pool runs dry (counted)
}

function poolWait(h: u32): void {
  endpointPoolWaitPush(h);
}

function sndCopy(p: usize, off: u32, dst: usize, len: u32): void {
  cqPeek(p + TCB_SNDQ, off, dst, len);
}

function sndConsume(p: usize, n: u32): void {
  cqConsume(p + TCB_SNDQ, n);
}

function sndLen(p: usize): u32 {
  return cqLength(p + TCB_SNDQ);
}

// ── receive buffer: RcvQueue at tcb + TCB_RCVQ ────────────────────────────────────
function rcvWriteAt(p: usize, off: u32, src: usize, len: u32): u32 {
  return rqWriteAt(p + TCB_RCVQ, off, src, len, changetype<Tcb>(p).rcvBufMax);
}

function rcvCommit(p: usize, n: u32): void {
  const q = p + TCB_RCVQ;
  rqCommit(q, n);
  // No out-of-order range left: chunks past the readable end hold nothing wanted.
  if (changetype<Tcb>(p).oooCount == 0) rqTrim(q);
}

function rcvRead(p: usize, dst: usize, len: u32): u32 {
  return rqRead(p + TCB_RCVQ, dst, len, changetype<Tcb>(p).oooCount > 0);
}

function rcvLen(p: usize): u32 {
  return rqLength(p + TCB_RCVQ);
}

function rcvSpace(p: usize): u32 {
  return rqSpace(p + TCB_RCVQ, changetype<Tcb>(p).rcvBufMax);
}

function bufRelease(p: usize): void {
  cqFree(p + TCB_SNDQ);
  rqFree(p + TCB_RCVQ);
}

// ── output, events, hashing ─────────────────────────────────────────────────────
function txBegin(): usize {
  const b = tcpEnvTxBegin();
  if (b == 0) txFullHit = true;
  return b;
}

function txSend(seg: usize, len: u32, srcAddr: u32, dstAddr: u32): void {
  tcpEnvTxSend(seg, len, srcAddr, dstAddr);
}

/**
 * Posts an event, unless the host has given the handle up with close(): a closed
 * handle gets no more events (no EOF, readable, writable or accepted after close,
 * as a destroyed Node socket emits nothing more), and it is stale to every command.
 */
function event(type: u16, h: u32, arg0: u32, arg1: u32): void {
  const p = endpointPtrQuiet(h);
  if (p != 0 && (changetype<Tcb>(p).flags & TF_APP_CLOSED) != 0) return;
  eventPush(type, h, arg0, arg1); // a full ring drops and counts (C_EVENT_RING_FULL)
}

function hash4(a: u32, b: u32, c: u32, d: u32): u32 {
  return <u32>hashKeyed2(isnK0, isnK1, <u64>a | (<u64>b << 32), <u64>c | (<u64>d << 32));
}

/** Points the engine at the real stack (once, at init). */
export function installTcpEnv(): void {
  const e = new TcpEnv(); // init-time allocation (the stub runtime keeps it for ever)
  e.tcbAlloc = epAlloc;
  e.tcbPtr = endpointPtrQuiet;
  e.tcbFree = epFree;
  e.lookup = lookup;
  e.tableInsert = insert;
  e.tableRemove = remove;
  e.tupleInUse = tupleInUse;
  e.sndAppend = sndAppend;
  e.sndCopy = sndCopy;
  e.sndConsume = sndConsume;
  e.sndLen = sndLen;
  e.poolWait = poolWait;
  e.rcvWriteAt = rcvWriteAt;
  e.rcvCommit = rcvCommit;
  e.rcvRead = rcvRead;
  e.rcvLen = rcvLen;
  e.rcvSpace = rcvSpace;
  e.bufRelease = bufRelease;
  e.txBegin = txBegin;
  e.txSend = txSend;
  e.event = event;
  e.hash = hash4;
  setTcpEnv(e);
  allocClass = EP_SYNCACHE;
}

export { ENTRY_CONN, ENTRY_SYNCACHE };
