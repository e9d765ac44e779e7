// Test kit for the TCP dialogue specs (gVisor "context" + "channel", smoltcp TestSocket):
// in-memory doubles for every function of assembly/tcp/env.ts, a capture of every
// segment the engine sends, an event log, segment builders, and virtual time.
// Not a spec itself (no .spec suffix); the tcp-*.spec.ts files import it.

import * as tcp from "../../assembly/wire/tcp";
import { TcpRepr } from "../../assembly/wire/tcp";
import { TcpEnv, setTcpEnv } from "../../assembly/tcp/env";
import { TCB_SIZE, tcbReset, tcbActiveTimers, Tcb, TCB_TIMER_RTX, tcbRtxRunning } from "../../assembly/tcp/tcb";
import { timerIsActive } from "../../assembly/time/timer";
import { STATE_LISTEN, STATE_CLOSED } from "../../assembly/tcp/state";
import { tcpInput } from "../../assembly/tcp/input";
import { tcpOnTimer } from "../../assembly/tcp/timers";
import { initTimers, setNowUs, nowUs, timers } from "../../assembly/time/clock";
import { statsReset } from "../../assembly/tcp/config";
import { challengeAckReset } from "../../assembly/tcp/output";

export const MAXE: i32 = 16;
export const BUFCAP: u32 = 65536;
export const A_ADDR: u32 = 0x0a000001; // the peer ("A", the test side)
export const B_ADDR: u32 = 0x0a000002; // the stack under test ("B")

let recs: usize = 0;
let sndBufs: usize = 0;
let rcvBufs: usize = 0;
const inUse = new StaticArray<bool>(16);
const inTable = new StaticArray<bool>(16);
const gen = new StaticArray<u32>(16);
const sndLen = new StaticArray<u32>(16);
const rcvReadable = new StaticArray<u32>(16);
export let freedWithTimers: i32 = 0;
export let allocFail: bool = false;

// captured output
const CAP: i32 = 256;
const CAP_SLOT: u32 = 2048;
let capBuf: usize = 0;
const capLen = new StaticArray<u32>(256);
const capSrc = new StaticArray<u32>(256);
const capDst = new StaticArray<u32>(256);
let capCount: i32 = 0;
let capRead: i32 = 0;
export let txBlocked: bool = false;

// events
const evType = new StaticArray<u16>(512);
const evHandle = new StaticArray<u32>(512);
const evArg = new StaticArray<u32>(512);
let evCount: i32 = 0;

@inline function idxOf(h: u32): i32 { return <i32>(h & 0xff) - 1; }

function kAlloc(): u32 {
  if (allocFail) return 0;
  for (let i = 0; i < MAXE; i++) {
    if (!inUse[i]) {
      inUse[i] = true;
      gen[i] = gen[i] + 1;
      const h = (gen[i] << 8) | <u32>(i + 1);
      tcbReset(recs + <usize>i * TCB_SIZE, h);
      sndLen[i] = 0;
      rcvReadable[i] = 0;
      return h;
    }
  }
  return 0;
}
function kPtr(h: u32): usize {
  const i = idxOf(h);
  if (i < 0 || i >= MAXE || !inUse[i] || (h >> 8) != gen[i]) return 0;
  return recs + <usize>i * TCB_SIZE;
}
function kFree(h: u32): void {
  const p = kPtr(h);
  if (p == 0) return;
  if (tcbActiveTimers(p) != 0) freedWithTimers++;
  const i = idxOf(h);
  inUse[i] = false;
  inTable[i] = false;
}
function slotOf(p: usize): i32 { return <i32>((p - recs) / TCB_SIZE); }
function kLookup(la: u32, lp: u16, ra: u32, rp: u16): u32 {
  for (let i = 0; i < MAXE; i++) {
    if (!inUse[i] || !inTable[i]) continue;
    const t = changetype<Tcb>(recs + <usize>i * TCB_SIZE);
    if (t.state != STATE_LISTEN && t.localAddr == la && t.localPort == lp && t.remoteAddr == ra && t.remotePort == rp) return t.handle;
  }
  for (let i = 0; i < MAXE; i++) {
    if (!inUse[i] || !inTable[i]) continue;
    const t = changetype<Tcb>(recs + <usize>i * TCB_SIZE);
    if (t.state == STATE_LISTEN && t.localPort == lp && (t.localAddr == 0 || t.localAddr == la)) return t.handle;
  }
  return 0;
}
function kInsert(p: usize): i32 { inTable[slotOf(p)] = true; return 0; }
function kRemove(p: usize): void { inTable[slotOf(p)] = false; }
function kInUse(la: u32, lp: u16, ra: u32, rp: u16): bool {
  for (let i = 0; i < MAXE; i++) {
    if (!inUse[i] || !inTable[i]) continue;
    const t = changetype<Tcb>(recs + <usize>i * TCB_SIZE);
    if (t.localPort == lp && t.remoteAddr == ra && t.remotePort == rp) return true;
  }
  return false;
}
function sndCap(p: usize): u32 { const m = changetype<Tcb>(p).sndBufMax; return m < BUFCAP ? m : BUFCAP; }
function rcvCap(p: usize): u32 { const m = changetype<Tcb>(p).rcvBufMax; return m < BUFCAP ? m : BUFCAP; }
function kSndAppend(p: usize, src: usize, len: u32): u32 {
  const i = slotOf(p);
  const room = sndCap(p) - sndLen[i];
  const n = len < room ? len : room;
  memory.copy(sndBufs + <usize>i * BUFCAP + sndLen[i], src, n);
  sndLen[i] = sndLen[i] + n;
  return n;
}
function kSndCopy(p: usize, off: u32, dst: usize, len: u32): void {
  const i = slotOf(p);
  assert(off + len <= sndLen[i], "sndCopy out of range");
  memory.copy(dst, sndBufs + <usize>i * BUFCAP + off, len);
}
function kSndConsume(p: usize, n: u32): void {
  const i = slotOf(p);
  assert(n <= sndLen[i], "sndConsume beyond data");
  const b = sndBufs + <usize>i * BUFCAP;
  memory.copy(b, b + n, sndLen[i] - n);
  sndLen[i] = sndLen[i] - n;
}
function kSndLen(p: usize): u32 { return sndLen[slotOf(p)]; }
function kRcvWriteAt(p: usize, off: u32, src: usize, len: u32): u32 {
  const i = slotOf(p);
  const cap = rcvCap(p);
  const start = rcvReadable[i] + off;
  if (start >= cap) return 0;
  const n = len < cap - start ? len : cap - start;
  memory.copy(rcvBufs + <usize>i * BUFCAP + start, src, n);
  return n;
}
function kRcvCommit(p: usize, n: u32): void { const i = slotOf(p); rcvReadable[i] = rcvReadable[i] + n; }
function kRcvRead(p: usize, dst: usize, len: u32): u32 {
  const i = slotOf(p);
  const n = len < rcvReadable[i] ? len : rcvReadable[i];
  const b = rcvBufs + <usize>i * BUFCAP;
  memory.copy(dst, b, n);
  memory.copy(b, b + n, BUFCAP - n);
  rcvReadable[i] = rcvReadable[i] - n;
  return n;
}
function kRcvLen(p: usize): u32 { return rcvReadable[slotOf(p)]; }
function kRcvSpace(p: usize): u32 { const c = rcvCap(p); const r = rcvReadable[slotOf(p)]; return c > r ? c - r : 0; }
function kRelease(p: usize): void { const i = slotOf(p); sndLen[i] = 0; rcvReadable[i] = 0; }
function kTxBegin(): usize {
  if (capRead == capCount) { capRead = 0; capCount = 0; } // everything taken: reuse the capture
  if (txBlocked || capCount >= CAP) return 0;
  return capBuf + <usize>capCount * CAP_SLOT;
}
function kTxSend(seg: usize, len: u32, src: u32, dst: u32): void {
  capLen[capCount] = len; capSrc[capCount] = src; capDst[capCount] = dst;
  capCount++;
}
function kEvent(type: u16, h: u32, a0: u32, a1: u32): void {
  if (evCount >= 512) return;
  evType[evCount] = type; evHandle[evCount] = h; evArg[evCount] = a0; evCount++;
}
function kHash(a: u32, b: u32, c: u32, d: u32): u32 {
  let x = a * 0x9e3779b1 ^ b * 0x85ebca77 ^ c * 0xc2b2ae3d ^ d * 0x27d4eb2f;
  x ^= x >> 15; x *= 0x2c1b3c6d; x ^= x >> 12;
  return x;
}

/** Fresh world: empty pool/table/capture/events, timers at `startMs`, stats zeroed. */
export function setup(startMs: u64 = 1000): void {
  if (recs == 0) {
    recs = heap.alloc(<usize>MAXE * TCB_SIZE);
    sndBufs = heap.alloc(<usize>MAXE * BUFCAP);
    rcvBufs = heap.alloc(<usize>MAXE * BUFCAP);
    capBuf = heap.alloc(<usize>CAP * CAP_SLOT);
  }
  for (let i = 0; i < MAXE; i++) { inUse[i] = false; inTable[i] = false; }
  capCount = 0; capRead = 0; evCount = 0; freedWithTimers = 0; allocFail = false; txBlocked = false;
  initTimers(true, startMs * 1000, tcpOnTimer);
  statsReset();
  challengeAckReset();
  const e = new TcpEnv();
  e.tcbAlloc = kAlloc; e.tcbPtr = kPtr; e.tcbFree = kFree; e.lookup = kLookup;
  e.tableInsert = kInsert; e.tableRemove = kRemove; e.tupleInUse = kInUse;
  e.sndAppend = kSndAppend; e.sndCopy = kSndCopy; e.sndConsume = kSndConsume; e.sndLen = kSndLen;
  e.rcvWriteAt = kRcvWriteAt; e.rcvCommit = kRcvCommit; e.rcvRead = kRcvRead; e.rcvLen = kRcvLen;
  e.rcvSpace = kRcvSpace; e.bufRelease = kRelease; e.txBegin = kTxBegin; e.txSend = kTxSend;
  e.event = kEvent; e.hash = kHash;
  setTcpEnv(e);
}

export function setAllocFail(v: bool): void { allocFail = v; }
export function setTxBlocked(v: bool): void { txBlocked = v; }

/** Records in use (pool occupancy). */
export function inUseCount(): i32 { let n = 0; for (let i = 0; i < MAXE; i++) if (inUse[i]) n++; return n; }
export function ptrOf(h: u32): usize { return kPtr(h); }
export function tcbOf(h: u32): Tcb { return changetype<Tcb>(kPtr(h)); }

/**
 * Timers that run: the queue's armed nodes minus retransmission nodes left armed by a
 * lazy stop (snd.ts stopRtx: TF_RTX_ON clear, the node fires later without effect).
 * "The timer is stopped" is asserted with this; timers.active still counts those nodes.
 */
export function runningTimers(): i32 {
  let n = <i32>timers.active;
  for (let i = 0; i < MAXE; i++) {
    if (!inUse[i]) continue;
    const p = recs + <usize>i * TCB_SIZE;
    if (timerIsActive(p + TCB_TIMER_RTX) && !tcbRtxRunning(p)) n--;
  }
  return n;
}

/** Moves virtual time forward by `ms`, firing due timers. */
export function advance(ms: u64): void {
  const t = nowUs + ms * 1000;
  setNowUs(t);
  timers.tickTo(t / 1000);
}

// ── segments in ──────────────────────────────────────────────────────────────
/** The template the specs modify: A:40000 → B:80, no options. */
export const rin = new TcpRepr();
let inBuf: usize = 0;

/** Clears the input template (ports A:40000 → B:80). */
export function tmpl(flags: u8, seq: u32, ack: u32): TcpRepr {
  rin.clear();
  rin.srcPort = 40000; rin.dstPort = 80;
  rin.flags = flags; rin.seq = seq; rin.ack = ack; rin.window = 0xffff;
  return rin;
}

/** Sends `rin` with `len` payload bytes (byte i = (fill + i) & 0xff) from A to B. Returns tcpInput's disposition. */
export function inject(len: u32 = 0, fill: u8 = 0): i32 {
  if (inBuf == 0) inBuf = heap.alloc(4096);
  const h = tcp.emit(rin, inBuf);
  for (let i: u32 = 0; i < len; i++) store<u8>(inBuf + h + i, <u8>(fill + <u8>i));
  tcp.fillChecksum(inBuf, h + len, A_ADDR, B_ADDR);
  return tcpInput(inBuf, h + len, A_ADDR, B_ADDR);
}

/** Injects raw bytes (hex) as a segment from A to B, fixing the checksum when `fix`. */
export function injectRaw(p: usize, len: u32, fix: bool): i32 {
  if (fix) tcp.fillChecksum(p, len, A_ADDR, B_ADDR);
  return tcpInput(p, len, A_ADDR, B_ADDR);
}

// ── segments out ─────────────────────────────────────────────────────────────
export const rout = new TcpRepr();
let outPayload: usize = 0;
let outLen: u32 = 0;

/** Segments captured and not yet taken with next(). */
export function pending(): i32 { return capCount - capRead; }

/**
 * Takes the next captured segment: checks addresses, length and checksum first
 * (STYLE §6 Testing 3), then parses it into `rout`. Returns false when there is
 * none or it fails a check.
 */
export function next(): bool {
  if (capRead >= capCount) return false;
  const i = capRead++;
  const p = capBuf + <usize>i * CAP_SLOT;
  const len = capLen[i];
  if (capSrc[i] != B_ADDR || capDst[i] != A_ADDR) return false;
  if (!tcp.verifyChecksum(p, len, B_ADDR, A_ADDR)) return false;
  if (tcp.parse(p, len, rout) != tcp.TCP_OK) return false;
  outPayload = p + rout.headerLen;
  outLen = rout.payloadLen;
  return true;
}
/** Drops every captured segment. */
export function drain(): void { capRead = capCount; }
/** Payload byte i of the segment taken by next(). */
export function outByte(i: u32): u8 { return load<u8>(outPayload + i); }

// ── events ───────────────────────────────────────────────────────────────────
export function eventCount(): i32 { return evCount; }
export function eventType(i: i32): u16 { return evType[i]; }
export function eventHandle(i: i32): u32 { return evHandle[i]; }
export function eventArg(i: i32): u32 { return evArg[i]; }
/** Index of the first event of `type` at or after `from`, or −1. */
export function findEvent(type: u16, from: i32 = 0): i32 {
  for (let i = from; i < evCount; i++) if (evType[i] == type) return i;
  return -1;
}
export { STATE_CLOSED };

// ── state fixtures ───────────────────────────────────────────────────────────
import { tcpOpen, tcpListen, tcpAccept } from "../../assembly/tcp/api";
import { TCP_FLAG_SYN, TCP_FLAG_ACK } from "../../assembly/wire/tcp";

/** A listener on B:port. */
export function listener(port: u16 = 80, backlog: u16 = 8): u32 {
  const h = tcpOpen();
  assert(h != 0, "pool exhausted");
  assert(tcpListen(h, 0, port, backlog) == 0, "listen failed");
  return h;
}

/** ISS of the last SYN,ACK seen by handshake(). */
export let lastIss: u32 = 0;

/**
 * Passive open driven by A: SYN(seq=irs, MSS 1460) → expect SYN,ACK → ACK.
 * Returns the accepted child handle (0 on any failure). Leaves no captured segment.
 */
export function handshake(lh: u32, irs: u32): u32 {
  tmpl(TCP_FLAG_SYN, irs, 0);
  rin.mss = 1460;
  inject();
  if (!next()) return 0;
  if (rout.flags != (TCP_FLAG_SYN | TCP_FLAG_ACK) || rout.ack != irs + 1) return 0;
  lastIss = rout.seq;
  tmpl(TCP_FLAG_ACK, irs + 1, lastIss + 1);
  inject();
  drain();
  return tcpAccept(lh);
}
