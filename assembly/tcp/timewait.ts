// TIME-WAIT with compact records (issue 6; SPEC §5 "TIME-WAIT and port reuse").
//
// When a connection enters TIME-WAIT (RFC 9293 §3.10.7.4), its control block goes
// back to the pool (every timer cancelled, chunks freed) and a 64-byte record of
// mem/timewait.ts keeps what TIME-WAIT needs: the 4-tuple (in its table entry, type
// ENTRY_TIMEWAIT, found by the exact lookup like any other connection), SND.NXT,
// RCV.NXT, TS.Recent and its age, our TSval offset, the window we advertise, and a
// wheel timer of timeWaitMs. Linux does the same with inet_timewait_sock.
//
// The record slab has its own quota (config maxTimeWait, like tcp_max_tw_buckets).
// When it is full the connection closes without TIME-WAIT, as Linux does (it logs
// "TCP: time wait bucket table overflow"); the miss is counted (memory counter
// timeWaitExhausted). Old duplicates of that connection are then answered as for a
// closed port — the risk RFC 9293 §3.4.2 describes, accepted by Linux too.
//
// Segments for a record (twInput; RFC 9293 §3.10.7.4 TIME-WAIT, RFC 1337, RFC 6191,
// RFC 7323 §5):
//   - SYN (no ACK, no RST), not rejected by PAWS, whose sequence number is above
//     RCV.NXT or whose TSval is newer than TS.Recent → the record goes and the SYN
//     is demultiplexed again (a listener takes it); the new connection's ISS is
//     SND.NXT + 65537, above anything the old one sent (RFC 6191 §2; Linux
//     tcp_timewait_state_process does the same);
//   - RST → ignored (RFC 1337 §3, TIME-WAIT assassination), counted;
//   - a retransmitted FIN (ending at RCV.NXT) → ACK, and the 2 MSL timer restarts
//     (RFC 9293 §3.10.7.4);
//   - a bare ACK at RCV.NXT → nothing to do (acceptable, nothing new; dropped);
//   - anything else (old duplicates, data, a rejected SYN, PAWS failures) → an ACK
//     <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 9293 §3.10.7.4 first check; RFC 5961 §4 for the
//     SYN), at most one per record per 500 ms (Linux tcp_invalid_ratelimit).
// Linux also restarts the timer on out-of-window ACKs and on bare ACKs; we restart
// it only for the FIN, as the RFC says, so a peer cannot keep a record alive for
// ever by sending ACKs.
//
// twReuse (Linux tcp_tw_reuse, RFC 6191 / RFC 7323 §5.8): an outgoing connection may
// take a 4-tuple whose record (a) saw timestamps and (b) has received nothing for at
// least TW_REUSE_MIN_MS. Our TSval offset is a keyed hash of the 4-tuple
// (connect.ts tsOffsetFor), so the new incarnation's TSvals continue the old clock
// and the peer's PAWS rejects the old connection's segments; the new ISS is SND.NXT
// + 65537 as above.
//
// Without a record store (the engine's dialogue doubles in tests/assembly/tcp-kit.ts
// carve neither the table nor the slab) the Tcb itself stays in TIME-WAIT (close.ts).

import { FIFO_2MSL } from "../time/fifo";
import * as tcp from "../wire/tcp";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_FIN } from "../wire/tcp";
import { Tcb, TF_TS_OK, TF_WS_OK, TF_ACTIVE_OPEN } from "./tcb";
import { envTxBegin, envTxSend, envTableRemove } from "./env";
import { currentRcvWnd } from "./output";
import { isnHintSet } from "./isn";
import {
  timeWaitAcquire, timeWaitPtr, timeWaitRelease, timeWaitReady, timeWaitInUse, timeWaitRecordBytes,
  TW_TIMER_OFF, TW_ENTRY_OFF, TW_SND_NXT_OFF, TW_RCV_NXT_OFF, TW_TS_RECENT_OFF, TW_TS_RECENT_AT_OFF,
  TW_TS_OFFSET_OFF, TW_WINDOW_OFF, TW_FLAGS_OFF, TW_WSCALE_OFF, TW_LAST_OOW_ACK_OFF, TW_ENTERED_AT_OFF,
} from "../mem/timewait";
import {
  tableReady, tableInsert, tableRemove, tableLookup, tableLookupListener, entryType, entryOwner,
  entryLocalAddr, entryRemoteAddr, entryLocalPort, entryRemotePort, ENTRY_TIMEWAIT, EF_BOUND, ENTRY_SIZE,
} from "./table";
import { TimerNode } from "../time/timer";
import { timers, nowMs } from "../time/clock";
import { seqGt, seqLt, seqGe } from "../util/seq";
import {
  timeWaitMs, incSegsOut, incTxFull, incRstIgnoredTimeWait, incPawsDropped, incDropUnacceptable,
} from "./config";

/** The old connection used timestamps (RFC 7323 §3.2): ACKs carry TSopt; PAWS applies. */
export const TWF_TS_OK: u8 = 1;
/** The table entry occupies its local port (active open: bind checks see it). */
export const TWF_BOUND: u8 = 2;

/** RFC 7323 §5.5: TS.Recent older than 24 days is invalid for PAWS. */
const PAWS_IDLE_MS: u32 = 24 * 24 * 3600 * 1000;
/** Out-of-window ACKs per record: at most one per this many ms (Linux tcp_invalid_ratelimit). */
export const TW_OOW_ACK_MS: u32 = 500;
/** twReuse: a record may be taken over once this long has passed since its TS.Recent (Linux: 1 s). */
export const TW_REUSE_MIN_MS: u32 = 1000;
/** RFC 6191 §2 / Linux: the new incarnation's ISS is the old SND.NXT plus this. */
export const TW_ISS_GAP: u32 = 65535 + 2;

// twInput results.
/** No TIME-WAIT record holds the segment's 4-tuple. */
export const TW_IN_NONE: i32 = 0;
/** The record consumed the segment. */
export const TW_IN_DONE: i32 = 1;
/** An acceptable SYN: the record is gone; demultiplex the SYN again (listener). */
export const TW_IN_NEW_SYN: i32 = 2;

// ── counters (monotonic; glue/api.ts exposes them with the TIME-WAIT gauges) ─────
export let twEntered: u64 = 0;
export let twExpired: u64 = 0;
export let twSynAccepted: u64 = 0;
export let twSynRejected: u64 = 0;
export let twFinAcked: u64 = 0;
export let twReused: u64 = 0;
export let twAcks: u64 = 0;
export let twAckLimited: u64 = 0;

export function twStatsReset(): void {
  twEntered = 0; twExpired = 0; twSynAccepted = 0; twSynRejected = 0; twFinAcked = 0;
  twReused = 0; twAcks = 0; twAckLimited = 0;
}

/** The one repr TIME-WAIT replies are built from. */
const out = new TcpRepr();

/** True when compact records can be kept (the table and the record slab are carved). */
export function twStoreReady(): bool {
  return timeWaitReady() && tableReady();
}

/** Records in TIME-WAIT now. */
export function twCount(): u32 {
  return timeWaitInUse();
}

/** Bytes one TIME-WAIT costs: its record and handle word plus its table entry and handle word. */
export function twBytesPerRecord(): u32 {
  return timeWaitRecordBytes() + ENTRY_SIZE + 4;
}

/** Bytes the TIME-WAIT records hold now. */
export function twBytes(): u64 {
  return <u64>twCount() * <u64>twBytesPerRecord();
}

/**
 * Moves connection `p` (its FIN exchange done) into a compact record: the record
 * takes the 4-tuple's place in the table (the Tcb's entry is removed) and its timer
 * runs timeWaitMs. Returns false when the record slab is full (counted; the caller
 * closes without TIME-WAIT) or the table refuses the entry. The Tcb is left for the
 * caller to finish (close.ts).
 */
export function twCreate(p: usize): bool {
  const t = changetype<Tcb>(p);
  const h = timeWaitAcquire(); // zeroed, idle node; 0 → counted (timeWaitExhausted)
  if (h == 0) return false;
  const r = timeWaitPtr(h);
  const now = <u32>nowMs();
  const ts = (t.flags & TF_TS_OK) != 0;
  const shift = (t.flags & TF_WS_OK) != 0 ? <u32>t.rcvWndScale : 0;
  const wnd = currentRcvWnd(p) >> shift; // before the buffers go
  store<u32>(r + TW_SND_NXT_OFF, t.sndMax);
  store<u32>(r + TW_RCV_NXT_OFF, t.rcvNxt);
  store<u32>(r + TW_TS_RECENT_OFF, t.tsRecent);
  store<u32>(r + TW_TS_RECENT_AT_OFF, ts ? t.tsRecentAge : now);
  store<u32>(r + TW_TS_OFFSET_OFF, t.tsOffset);
  store<u16>(r + TW_WINDOW_OFF, wnd > 0xffff ? 0xffff : <u16>wnd);
  const bound = (t.flags & TF_ACTIVE_OPEN) != 0;
  store<u8>(r + TW_FLAGS_OFF, (ts ? TWF_TS_OK : 0) | (bound ? TWF_BOUND : 0));
  store<u8>(r + TW_WSCALE_OFF, <u8>shift);
  store<u32>(r + TW_LAST_OOW_ACK_OFF, 0);
  store<u32>(r + TW_ENTERED_AT_OFF, now);
  // The Tcb's entry goes, the record's comes: same tuple, type ENTRY_TIMEWAIT. An active
  // opener keeps its port bound (bind checks need reuseAddress to take it); a passive
  // child's port is its listener's and stays unbound, as before.
  envTableRemove(p);
  const e = tableInsert(ENTRY_TIMEWAIT, t.localAddr, t.localPort, t.remoteAddr, t.remotePort, h, bound ? EF_BOUND : 0);
  if (e == 0) {
    timeWaitRelease(h);
    return false;
  }
  store<u32>(r + TW_ENTRY_OFF, e);
  timers.scheduleFifo(FIFO_2MSL, r + TW_TIMER_OFF, <u64>timeWaitMs);
  twEntered++;
  return true;
}

/** Removes record `h` (at `r`): its table entry, its timer, its slot. */
function twRemove(h: u32, r: usize): void {
  tableRemove(load<u32>(r + TW_ENTRY_OFF));
  timeWaitRelease(h); // cancels the node
}

/** Dispatcher entry for a record's node (dispatch.ts, TW_NODE_FLAG): 2 MSL are over. */
export function twOnTimer(node: usize): void {
  const h = changetype<TimerNode>(node).owner;
  const r = timeWaitPtr(h); // 0 for a stale owner (counted): nothing to free
  if (r == 0 || r + TW_TIMER_OFF != node) return;
  twRemove(h, r);
  twExpired++;
}

/** The record handle holding the exact 4-tuple, 0 if none. */
export function twFind(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  if (!twStoreReady()) return 0;
  const e = tableLookup(localAddr, localPort, remoteAddr, remotePort);
  if (e == 0 || entryType(e) != ENTRY_TIMEWAIT) return 0;
  return entryOwner(e);
}

/** The record's address for handle `h`, 0 when stale (tests). */
export function twPtr(h: u32): usize {
  return timeWaitPtr(h);
}

/** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from record `r`, with TSopt when the connection used it. */
function twSendAck(r: usize): bool {
  const e = load<u32>(r + TW_ENTRY_OFF);
  const localAddr = entryLocalAddr(e);
  const remoteAddr = entryRemoteAddr(e);
  const buf = envTxBegin();
  if (buf == 0) { incTxFull(); return false; }
  out.clear();
  out.srcPort = entryLocalPort(e);
  out.dstPort = entryRemotePort(e);
  out.seq = load<u32>(r + TW_SND_NXT_OFF);
  out.ack = load<u32>(r + TW_RCV_NXT_OFF);
  out.flags = TCP_FLAG_ACK;
  out.window = load<u16>(r + TW_WINDOW_OFF);
  if ((load<u8>(r + TW_FLAGS_OFF) & TWF_TS_OK) != 0) {
    out.hasTs = true;
    out.tsVal = <u32>nowMs() + load<u32>(r + TW_TS_OFFSET_OFF); // RFC 7323 §5.4, as output.ts tsNow
    out.tsEcr = load<u32>(r + TW_TS_RECENT_OFF);
  }
  const len = tcp.emit(out, buf);
  tcp.fillChecksum(buf, len, localAddr, remoteAddr);
  envTxSend(buf, len, localAddr, remoteAddr);
  incSegsOut();
  twAcks++;
  return true;
}

/** The ACK for an unacceptable segment, at most one per TW_OOW_ACK_MS per record. */
function twSendOowAck(r: usize): void {
  const now = <u32>nowMs();
  const last = load<u32>(r + TW_LAST_OOW_ACK_OFF);
  if (last != 0 && now - last < TW_OOW_ACK_MS) { twAckLimited++; return; }
  store<u32>(r + TW_LAST_OOW_ACK_OFF, now == 0 ? 1 : now);
  twSendAck(r);
}

/**
 * A segment (already parsed and checksummed) from (srcAddr, seg.srcPort) to
 * (dstAddr, seg.dstPort) while no control block holds its 4-tuple: TIME-WAIT
 * processing when a record does. Returns TW_IN_NONE, TW_IN_DONE or TW_IN_NEW_SYN
 * (then the caller demultiplexes the SYN again; isn.ts holds the ISS to use).
 */
export function twInput(seg: TcpRepr, srcAddr: u32, dstAddr: u32): i32 {
  const h = twFind(dstAddr, seg.dstPort, srcAddr, seg.srcPort);
  if (h == 0) return TW_IN_NONE;
  const r = timeWaitPtr(h);
  if (r == 0) return TW_IN_NONE;
  const isRst = (seg.flags & TCP_FLAG_RST) != 0;
  const isSyn = (seg.flags & TCP_FLAG_SYN) != 0;
  const isAck = (seg.flags & TCP_FLAG_ACK) != 0;
  const isFin = (seg.flags & TCP_FLAG_FIN) != 0;
  const tsOk = (load<u8>(r + TW_FLAGS_OFF) & TWF_TS_OK) != 0;
  const rcvNxt = load<u32>(r + TW_RCV_NXT_OFF);
  const tsRecent = load<u32>(r + TW_TS_RECENT_OFF);
  const now = <u32>nowMs();

  // PAWS (RFC 7323 §5.3 R1): TSval older than TS.Recent marks an old duplicate,
  // unless TS.Recent is more than 24 days old (§5.5).
  const paws = tsOk && seg.hasTs && !isRst && seqLt(seg.tsVal, tsRecent) &&
    now - load<u32>(r + TW_TS_RECENT_AT_OFF) < PAWS_IDLE_MS;

  // RFC 6191 §2 (and RFC 9293 §3.10.7.4 note, as Linux): a new SYN for this 4-tuple.
  if (isSyn && !isRst && !isAck && !paws &&
      (seqGt(seg.seq, rcvNxt) || (tsOk && seg.hasTs && seqGt(seg.tsVal, tsRecent)))) {
    let iss = load<u32>(r + TW_SND_NXT_OFF) + TW_ISS_GAP;
    if (iss == 0) iss = 1;
    isnHintSet(dstAddr, seg.dstPort, srcAddr, seg.srcPort, iss);
    twRemove(h, r);
    twSynAccepted++;
    return TW_IN_NEW_SYN;
  }
  // RFC 1337 §3: a RST must not end TIME-WAIT early (assassination hazards H1–H3).
  if (isRst) {
    incRstIgnoredTimeWait();
    return TW_IN_DONE;
  }
  if (isSyn) {
    // Old or reordered SYN: RFC 5961 §4.2 / RFC 9293 §3.10.7.4 — an ACK, no new connection.
    twSynRejected++;
    if (paws) incPawsDropped();
    twSendOowAck(r);
    return TW_IN_DONE;
  }
  if (paws) {
    incPawsDropped();
    twSendOowAck(r);
    return TW_IN_DONE;
  }
  // RFC 9293 §3.10.7.4: "The only thing that can arrive in this state is a
  // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
  if (isFin && seg.seq + seg.segLen == rcvNxt) {
    // RFC 7323 §4.3: the segment covers Last.ACK.sent, so its TSval becomes TS.Recent.
    if (tsOk && seg.hasTs && seqGe(seg.tsVal, tsRecent)) {
      store<u32>(r + TW_TS_RECENT_OFF, seg.tsVal);
      store<u32>(r + TW_TS_RECENT_AT_OFF, now);
    }
    twSendAck(r);
    timers.scheduleFifo(FIFO_2MSL, r + TW_TIMER_OFF, <u64>timeWaitMs);
    twFinAcked++;
    return TW_IN_DONE;
  }
  // An acceptable bare ACK (e.g. a duplicate of the one that completed the close).
  if (isAck && seg.segLen == 0 && seg.seq == rcvNxt) return TW_IN_DONE;
  // Everything else is unacceptable here (RFC 9293 §3.10.7.4 first check): ACK it.
  incDropUnacceptable();
  twSendOowAck(r);
  return TW_IN_DONE;
}

/** True when a TIME-WAIT record holds the exact 4-tuple. */
export function twHolds(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): bool {
  return twFind(localAddr, localPort, remoteAddr, remotePort) != 0;
}

/**
 * twReuse (Linux tcp_tw_reuse; RFC 6191, RFC 7323 §5.8): takes over the record
 * holding the 4-tuple for a new outgoing connection when that is safe — the old
 * connection used timestamps and TW_REUSE_MIN_MS have passed since its TS.Recent —
 * and no listener owns the port. The record goes; isn.ts holds the new ISS
 * (SND.NXT + 65537). Returns false (nothing changed) otherwise.
 */
export function twTakeOver(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): bool {
  const h = twFind(localAddr, localPort, remoteAddr, remotePort);
  if (h == 0) return false;
  const r = timeWaitPtr(h);
  if (r == 0) return false;
  if ((load<u8>(r + TW_FLAGS_OFF) & TWF_TS_OK) == 0) return false;
  if (<u32>nowMs() - load<u32>(r + TW_TS_RECENT_AT_OFF) < TW_REUSE_MIN_MS) return false;
  if (tableLookupListener(localAddr, localPort) != 0) return false;
  let iss = load<u32>(r + TW_SND_NXT_OFF) + TW_ISS_GAP;
  if (iss == 0) iss = 1;
  isnHintSet(localAddr, localPort, remoteAddr, remotePort, iss);
  twRemove(h, r);
  twReused++;
  return true;
}
