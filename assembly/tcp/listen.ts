// LISTEN: SYN handling with a bounded syncache (half-open children in
// SYN-RECEIVED, SYN,ACK retransmitted on the retransmit timer with backoff) and an
// accept queue bounded by the backlog (RFC 9293 §3.10.7.2).
//
// Syncache entries are full Tcb records in SYN-RECEIVED (one slab, one table):
// simpler than a separate compact record, at TCB_SIZE bytes per half-open entry.
// Linux keeps a smaller request_sock; see docs/tcp.md.

import {
  Tcb, TF_DETACHED, TF_IN_SYNCACHE, TF_IN_ACCEPTQ, TF_WS_OK, TF_SACK_OK, TF_TS_OK,
  TF_NODELAY, TF_KEEPALIVE, TF_HS_STAMPED,
} from "./tcb";
import { nowUs } from "../time/clock";
import { TcpRepr, TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST } from "../wire/tcp";
import { STATE_SYN_RECEIVED } from "./state";
import { envTcbAlloc, envTcbPtr, envTcbFree, envTableInsert, envEvent } from "./env";
import { sendRstReply } from "./output";
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
 * The child `p` reached ESTABLISHED: move it from the syncache to the accept queue
 * and tell the application. Returns false when the accept queue is full (the ACK is
 * then dropped and the child stays in SYN-RECEIVED, as Linux does).
 */
export function childEstablished(p: usize): bool {
  const t = changetype<Tcb>(p);
  const lp = envTcbPtr(t.listener);
  if (lp == 0) return true; // listener gone: the child lives on as a detached connection
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
