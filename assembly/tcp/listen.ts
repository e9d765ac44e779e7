// LISTEN: SYN handling with a bounded syncache (half-open children in
// SYN-RECEIVED, SYN,ACK retransmitted on the retransmit timer with backoff) and an
// accept queue bounded by the backlog (RFC 9293 §3.10.7.2).
//
// Syncache entries are full Tcb records in SYN-RECEIVED (one slab, one table):
// simpler than a separate compact record, at TCB_SIZE bytes per half-open entry.
// Linux keeps a smaller request_sock; see docs/tcp.md.
//
// A child never outlives its listener: close() of the listener resets the children
// in its accept queue (api.ts) and its half-open ones (listenerDropHalfOpen, found by
// their ENTRY_SYNCACHE table entries), and a final ACK for a child whose listener is
// gone gets a RST as for a closed port (childEstablished). Linux likewise drops a
// closed listener's request socks and resets the ACKs that arrive for them.

import {
  Tcb, TF_DETACHED, TF_IN_SYNCACHE, TF_IN_ACCEPTQ, TF_WS_OK, TF_SACK_OK, TF_TS_OK,
  TF_NODELAY, TF_KEEPALIVE, TF_HS_STAMPED,
} from "./tcb";
import { nowUs } from "../time/clock";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST } from "../wire/tcp";
import { STATE_SYN_RECEIVED, STATE_LISTEN } from "./state";
import { envTcbAlloc, envTcbPtr, envTcbFree, envTableInsert, envEvent } from "./env";
import { sendRstReply, sendRstFor } from "./output";
import { tcbFinish } from "./close";
import { tableReady, tableEntries, entryType, entryOwner, ENTRY_SYNCACHE } from "./table";
import { slabHandleAt } from "../mem/slab";
import { negotiate, sendSyn, scaleFor, tsOffsetFor } from "./connect";
import { armRtx } from "./snd";
import { isnFor } from "./isn";
import { EV_ACCEPTED } from "./codes";
import {
  synCacheMax, announceMss, incSyncacheOverflow, incAcceptOverflow, incEndpointsExhausted,
} from "./config";

/** Segment arrives for listener `lp` from srcAddr to dstAddr (RFC 9293 §3.10.7.2). */
export function listenInput(lp: usize, seg: TcpRepr, srcAddr: u32, dstAddr: u32): void {
  const l = changetype<Tcb>(lp);
  // First: an incoming RST is ignored.
  if ((seg.flags & TCP_FLAG_RST) != 0) return;
  // Second: an ACK is bad: <SEQ=SEG.ACK><CTL=RST>.
  if ((seg.flags & TCP_FLAG_ACK) != 0) { sendRstReply(seg, dstAddr, srcAddr); return; }
  // Third: SYN.
  if ((seg.flags & TCP_FLAG_SYN) == 0) return;
  if (<u32>l.synCount >= synCacheMax) { incSyncacheOverflow(); return; } // the peer retransmits
  if (l.acceptLen >= l.backlog) { incAcceptOverflow(); return; } // as Linux: drop the SYN
  const h = envTcbAlloc();
  if (h == 0) { incEndpointsExhausted(); sendRstReply(seg, dstAddr, srcAddr); return; } // SPEC §4
  const p = envTcbPtr(h);
  if (p == 0) return;
  const t = changetype<Tcb>(p);
  t.localAddr = dstAddr;
  t.localPort = seg.dstPort;
  t.remoteAddr = srcAddr;
  t.remotePort = seg.srcPort;
  t.listener = l.handle;
  t.sndBufMax = l.sndBufMax;
  t.rcvBufMax = l.rcvBufMax;
  t.flags = TF_DETACHED | TF_IN_SYNCACHE | TF_WS_OK | TF_SACK_OK | TF_TS_OK | TF_HS_STAMPED | (l.flags & (TF_NODELAY | TF_KEEPALIVE));
  // Server handshake latency (SPEC §6) starts at this SYN's RX stamp: the module clock
  // stands at the frame's receive time while it is processed (glue/tick.ts rxFrame).
  t.hsStartUs = <u32>nowUs;
  t.rcvWndScale = scaleFor(t.rcvBufMax);
  t.rcvMss = announceMss;
  t.irs = seg.seq;
  t.rcvNxt = seg.seq + 1;
  t.iss = isnFor(dstAddr, seg.dstPort, srcAddr, seg.srcPort);
  t.sndUna = t.iss;
  t.sndNxt = t.iss + 1;
  t.sndMax = t.iss + 1;
  t.recover = t.iss;
  t.tsOffset = tsOffsetFor(t);
  negotiate(t, seg);
  t.sndWnd = <u32>seg.window; // RFC 7323 §2.2: never scaled in a SYN
  t.sndWl1 = seg.seq;
  t.sndWl2 = t.iss;
  t.state = STATE_SYN_RECEIVED;
  if (envTableInsert(p) != 0) { t.state = 0; envTcbFree(h); return; }
  l.synCount++;
  // Data on the SYN is not queued (it is not acknowledged and will be retransmitted).
  sendSyn(p);
  armRtx(p);
}

/**
 * The child `p` reached ESTABLISHED on the acceptable ACK `seg`: move it from the
 * syncache to the accept queue and tell the application. Returns false when the
 * child must not become ESTABLISHED:
 *   - the accept queue is full: the ACK is dropped and the child stays in
 *     SYN-RECEIVED (as Linux does);
 *   - its listener is gone (closed): nobody could ever accept it, so it is released
 *     and the ACK answered as for a closed port, <SEQ=SEG.ACK><CTL=RST> (RFC 9293
 *     §3.10.7.1, §3.5.2); the peer sees ECONNRESET. The caller must not touch `p`.
 */
export function childEstablished(p: usize, seg: TcpRepr): bool {
  const t = changetype<Tcb>(p);
  const lp = envTcbPtr(t.listener);
  if (lp == 0 || changetype<Tcb>(lp).state != STATE_LISTEN) {
    sendRstReply(seg, t.localAddr, t.remoteAddr);
    tcbFinish(p); // a child is detached: the record goes back to the pool
    return false;
  }
  const l = changetype<Tcb>(lp);
  if (l.acceptLen >= l.backlog) { incAcceptOverflow(); return false; }
  if ((t.flags & TF_IN_SYNCACHE) != 0) {
    t.flags &= ~TF_IN_SYNCACHE;
    if (l.synCount > 0) l.synCount--;
  }
  t.flags |= TF_IN_ACCEPTQ;
  t.acceptNext = 0;
  if (l.acceptTail != 0) {
    const tp = envTcbPtr(l.acceptTail);
    if (tp != 0) changetype<Tcb>(tp).acceptNext = t.handle;
    else l.acceptHead = t.handle;
  } else {
    l.acceptHead = t.handle;
  }
  l.acceptTail = t.handle;
  l.acceptLen++;
  envEvent(EV_ACCEPTED, l.handle, t.handle, 0);
  return true;
}

/**
 * The listener `lp` is closing: every half-open child it still has in SYN-RECEIVED
 * (its syncache entries) is reset — <SEQ=ISS+1><ACK=RCV.NXT><CTL=RST,ACK>, acceptable
 * to a peer in SYN-SENT (ECONNREFUSED) or already ESTABLISHED (ECONNRESET), RFC 9293
 * §3.10.7.3 / §3.10.7.4 — and released with its timers, chunks and table entry.
 * Without this they kept retransmitting SYN,ACKs for a listener that no longer
 * exists, and a final ACK made one an ownerless ESTABLISHED connection that lived
 * for ever. The children are found by their ENTRY_SYNCACHE table entries (a walk of
 * the entry slab, stopping once the listener's synCount is 0; listener close is
 * rare). Without a table (the dialogue doubles) nothing is walked: the half-open
 * children then expire on their SYN,ACK timer and a final ACK is reset by
 * childEstablished.
 */
export function listenerDropHalfOpen(lp: usize): void {
  const l = changetype<Tcb>(lp);
  if (l.synCount == 0 || !tableReady()) return;
  const entries = tableEntries();
  const n = entries.capacity;
  for (let i: u32 = 0; i < n && l.synCount > 0; i++) {
    const e = slabHandleAt(entries, i);
    if (e == 0 || entryType(e) != ENTRY_SYNCACHE) continue;
    const cp = envTcbPtr(entryOwner(e));
    if (cp == 0) continue;
    const c = changetype<Tcb>(cp);
    if (c.listener != l.handle || (c.flags & TF_IN_SYNCACHE) == 0 || c.state != STATE_SYN_RECEIVED) continue;
    sendRstFor(cp);
    tcbFinish(cp); // unlinks it from the listener (synCount − 1), frees the record
  }
}
