// The TCP control block (TCB, RFC 9293 §3.3.1): one fixed-size record per endpoint,
// living in helper B's endpoint slab. Everything a connection (or a listener) needs
// is in here, including its four timer nodes, so an endpoint costs TCB_SIZE bytes
// plus its connection-table entry, and nothing else while idle (data chunks are
// taken from the shared chunk pool only while data waits).
//
// Layout (byte offsets; `offsetof` is authoritative, tcp-tcb.spec checks the
// diagram against it). All sequence numbers are u32 modulo 2^32 (util/seq.ts).
//
//    0 ┌────────────┬────────────┬────────────┬────────────┐
//      │ handle     │ listener   │ localAddr  │ remoteAddr │  identity
//   16 ├──────┬─────┼──┬──┬──┬───┼────────────┼────────────┤
//      │lPort │rPort│st│sW│rW│bo │ flags      │ iss        │  st=state sW/rW=snd/rcv
//   32 ├──────┴─────┼──┴──┴──┴───┼────────────┼────────────┤     window shift bo=backoff
//      │ sndUna     │ sndNxt     │ sndMax     │ sndWnd     │  send sequence space
//   48 ├────────────┼────────────┼────────────┼────────────┤
//      │ sndWl1     │ sndWl2     │ rtxDeadline│ irs        │
//   64 ├────────────┼────────────┼────────────┼────────────┤
//      │ rcvNxt     │ rcvWnd     │ oowAckAt   │ rcvAdv     │  receive sequence space
//   80 ├──────┬─────┼────────────┼────────────┼────────────┤
//      │sndMss│rMss │ tsRecent   │ tsRecentAge│ tsOffset   │  options (RFC 7323)
//   96 ├──────┴─────┼────────────┼────────────┼────────────┤
//      │ srtt (×8)  │ rttvar (×4)│ rto (ms)   │ rttSeq     │  RFC 6298
//  112 ├────────────┼────────────┼────────────┼────────────┤
//      │ rttStartAt │ cwnd       │ ssthresh   │ recover    │  RFC 5681 / 6582
//  128 ├──┬──┬──┬───┼────────────┼────────────┼────────────┤
//      │dA│rt│pr│er│ lastRcvAt  │ sndBufMax  │ rcvBufMax  │  dA=dupAcks rt=retries
//  144 ├──┬──┬──┴───┼────────────┼────────────┼────────────┤     pr=probes er=error
//      │oN│oL│ sgUn │ oooStart[0..3]  oooEnd[0..3]          │  out-of-order ranges
//      │  │  │      │  (8 × u32, 32 bytes, offsets 148..180)  │
//  180 ├──┴──┴──────┼────────────┬────────────┬────────────┤
//      │ acceptNext │ acceptHead │ acceptTail │acLen│bklog │  accept queue (handles)
//  196 ├──────┬─────┼────────────┬────────────┬────────────┘
//      │synCnt│ pad │ rcvFinSeq  │ hsStartUs  │
//  208 ├──────┴─────┴────────────┴────────────┴────────────┐
//      │ sndQueue: 16 B, chunk-queue header (helper B)     │  send buffer
//  224 ├───────────────────────────────────────────────────┤
//      │ rcvQueue: 16 B, chunk-queue header (helper B)     │  receive buffer
//  240 ├─────────────────────────┬────────────┬────────────┤
//      │ cubicWest (f64, bytes)  │cubicEpochMs│ cubicK (ms)│  congestion control
//  256 ├────────────┬────────────┼────────────┼──┬──┬──────┤  (RFC 9438, cubic.ts)
//      │ cubicWmax  │cubicCwndPr.│ cubicRem   │cA│cF│ pad  │  cA=ccAlgo cF=ccFlags
//  272 ├────────────┴────────────┴────────────┴──┴──┴──────┤
//      │ timer[0] retransmit / SYN-ACK     (TimerNode 24 B)│  TCB_TIMER_RTX
//  296 │ timer[1] delayed ACK              (TimerNode 24 B)│  TCB_TIMER_DELACK
//  320 │ timer[2] keepalive / persist      (TimerNode 24 B)│  TCB_TIMER_KEEP
//  344 │ timer[3] TIME-WAIT                (TimerNode 24 B)│  TCB_TIMER_TW
//  368 └───────────────────────────────────────────────────┘  TCB_SIZE
//
// tests/assembly/tcp-tcb.spec.ts checks these offsets against offsetof<Tcb>().
// oN=oooCount oL=oooLast sgUn=segsUnacked. The timers start at an 8-byte boundary.
//
// Contract with the endpoint pool (helper B):
//   - acquire: `tcbReset(p, handle)` initialises every byte (the timers become idle
//     nodes owned by `handle`);
//   - release: `tcbCancelTimers(p)` (through the TCP close path) must have run, so
//     no node of the record is linked in the wheel; the pool may then reuse it.

import { TimerNode, TIMER_NODE_SIZE, timerInit, timerIsActive,
  TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK, TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT,
} from "../time/timer";
import { timers } from "../time/clock";
import { STATE_CLOSED } from "./state";
import { congestionControl } from "./config";

/** Out-of-order ranges remembered per connection (RFC 2018 allows up to 4 SACK blocks). */
export const TCB_OOO_MAX: i32 = 4;

// ── flags bits ─────────────────────────────────────────────────────────────────
/** Nagle disabled (socket option noDelay). */
export const TF_NODELAY: u32 = 1 << 0;
/** Keepalive probes enabled (socket option keepAlive). */
export const TF_KEEPALIVE: u32 = 1 << 1;
/** Both SYNs carried SACK-permitted (RFC 2018 §2). */
export const TF_SACK_OK: u32 = 1 << 2;
/** Both SYNs carried timestamps (RFC 7323 §3.2): every segment carries TSopt. */
export const TF_TS_OK: u32 = 1 << 3;
/** Both SYNs carried window scale (RFC 7323 §2.2): shifts apply. */
export const TF_WS_OK: u32 = 1 << 4;
/** The application closed/shut down the send side: send FIN after the queued data. */
export const TF_FIN_QUEUED: u32 = 1 << 5;
/** Our FIN has been sent (it occupies sequence number sndMax - 1). */
export const TF_FIN_SENT: u32 = 1 << 6;
/** An ACK must go out now (not delayed). */
export const TF_ACK_NOW: u32 = 1 << 7;
/** A delayed ACK is pending (the delayed-ACK timer runs). */
export const TF_DELACK: u32 = 1 << 8;
/** In NewReno fast recovery (RFC 6582 §3.2). */
export const TF_IN_RECOVERY: u32 = 1 << 9;
/** A round-trip sample is being timed (rttSeq/rttStartAt valid, Karn's rule). */
export const TF_RTT_TIMING: u32 = 1 << 10;
/** Active open (we sent the first SYN). */
export const TF_ACTIVE_OPEN: u32 = 1 << 11;
/** The persist timer (not keepalive) owns timer[2]. */
export const TF_PERSIST: u32 = 1 << 12;
/** The application has released its handle: free the record when the protocol is done. */
export const TF_DETACHED: u32 = 1 << 13;
/** The peer's FIN was delivered to the application (EOF event posted). */
export const TF_EOF_POSTED: u32 = 1 << 14;
/** Child sits in its listener's accept queue, not yet taken by the application. */
export const TF_IN_ACCEPTQ: u32 = 1 << 15;
/** Half-open child counted in its listener's syncache. */
export const TF_IN_SYNCACHE: u32 = 1 << 16;
/** The application asked for a shutdown of the receive side (data is discarded). */
export const TF_RCV_SHUT: u32 = 1 << 17;
/** A writable event is owed once send-buffer space frees up. */
export const TF_WANT_WRITABLE: u32 = 1 << 18;
/** A FIN arrived beyond a hole; it takes effect when rcvNxt reaches rcvFinSeq (HC-06 (b)). */
export const TF_FIN_PENDING: u32 = 1 << 19;
/** The connection was reset or timed out (error holds the code). */
export const TF_ERROR: u32 = 1 << 20;
/** The application closed the handle (close()): no more events, the handle is stale to commands. */
export const TF_APP_CLOSED: u32 = 1 << 21;
/**
 * The retransmission timer runs (logically, deadline rtxDeadline). Its node in timer[0]
 * may be armed while this is clear (a lazily stopped timer: it fires and does nothing),
 * and while it is set the node is always armed at or before the deadline (snd.ts).
 * Everything that asks "is the retransmission timer running" reads this bit.
 */
export const TF_RTX_ON: u32 = 1 << 22;
/**
 * timer[0] runs the orphaned FIN-WAIT-2 timeout (deadline rtxDeadline; snd.ts
 * armFinWait2): in FIN-WAIT-2 everything we sent is acknowledged, the retransmission
 * timer is stopped for good, and its node carries the timeout instead.
 */
export const TF_FW2_TIMEOUT: u32 = 1 << 23;
/** hsStartUs holds the handshake start (set once per connection; issue 8 histograms). */
export const TF_HS_STAMPED: u32 = 1 << 30;

// ── ccFlags bits (congestion control, RFC 9438; cubic.ts) ──────────────────────
/** A CUBIC congestion-avoidance epoch runs (cubicEpochMs, cubicK, cubicWest valid). */
export const CCF_EPOCH: u8 = 1 << 0;
/** The next epoch is the first after an RTO: K = 0, W_max = cwnd_epoch (RFC 9438 §4.8). */
export const CCF_AFTER_RTO: u8 = 1 << 1;

// ── defaults (RFC values; the stack config may override per connection) ───────
/** RFC 9293 §3.7.1 / RFC 1122 §4.2.2.6: send MSS when the peer sent no MSS option. */
export const TCP_DEFAULT_MSS: u16 = 536;
/** RFC 6298 §2.1: initial RTO of 1 s. */
export const TCP_INITIAL_RTO_MS: u32 = 1000;

@unmanaged
export class Tcb {
  // identity ------------------------------------------------------------------
  /** This record's own handle (generation-tagged, never 0 while in use). */
  handle: u32;
  /** Handle of the listener that created this child (0 for active opens / listeners). */
  listener: u32;
  /** Local IPv4 address, host order (0 = any, listeners only). */
  localAddr: u32;
  /** Remote IPv4 address, host order (0 for listeners). */
  remoteAddr: u32;
  /** Local port, host order. */
  localPort: u16;
  /** Remote port, host order (0 for listeners). */
  remotePort: u16;
  /** STATE_* from state.ts. */
  state: u8;
  /** SND.WND.SCALE: shift applied to the peer's window field (0..14, RFC 7323 §2.3). */
  sndWndScale: u8;
  /** RCV.WND.SCALE: shift we apply to our advertised window (0..14). */
  rcvWndScale: u8;
  /** RTO backoff exponent (RFC 6298 §5.5): rto << backoff, capped. */
  backoff: u8;
  /** TF_* bits. */
  flags: u32;
  /** ISS: our initial send sequence number (RFC 6528). */
  iss: u32;

  // send sequence space (RFC 9293 §3.3.1, Figure 3) ---------------------------
  /** SND.UNA: oldest unacknowledged sequence number. */
  sndUna: u32;
  /** SND.NXT: next sequence number to send (pulled back to sndUna on RTO). */
  sndNxt: u32;
  /** Highest sequence number sent so far + 1 (sndNxt ≤ sndMax; ACKs above it are invalid). */
  sndMax: u32;
  /** SND.WND: peer's window in bytes, already scaled by sndWndScale. */
  sndWnd: u32;
  /** SND.WL1: segment sequence number used for the last window update. */
  sndWl1: u32;
  /** SND.WL2: segment acknowledgment number used for the last window update. */
  sndWl2: u32;
  /**
   * Logical deadline of the retransmission timer (timer ticks, low 32 bits), valid
   * with TF_RTX_ON. The restart is lazy (RFC 6298 §5.3, snd.ts armRtx): the node in
   * timer[0] may sit at an earlier tick and re-arms for the rest when it fires.
   * Takes the place of SND.UP (urgent data is never sent), so the layout is unchanged.
   */
  rtxDeadline: u32;
  /** IRS: the peer's initial sequence number. */
  irs: u32;

  // receive sequence space (RFC 9293 §3.3.1, Figure 4) -------------------------
  /** RCV.NXT: next sequence number expected. */
  rcvNxt: u32;
  /** RCV.WND: window we currently offer, bytes (≤ what the chunk pool can back). */
  rcvWnd: u32;
  /**
   * When we last answered a zero-length out-of-window segment with an ACK (ms clock; 0 =
   * never): such ACKs are rate-limited, as Linux's tcp_oow_rate_limited, so that two
   * desynchronized ends cannot trade ACKs for ever (input.ts oowAckAllowed). Takes the
   * place of RCV.UP (urgent data is never processed), so the layout is unchanged.
   */
  oowAckAt: u32;
  /** Right edge last advertised (rcvNxt + window at the last send): never shrunk (RFC 9293 §3.8.6.2.2). */
  rcvAdv: u32;

  // negotiated options ----------------------------------------------------------
  /** Effective send MSS: payload bytes per segment we send (≥ 1, HC-05). */
  sndMss: u16;
  /** MSS we announce (derived from the MTU). */
  rcvMss: u16;
  /** TS.Recent (RFC 7323 §4.3): latest TSval from the peer, echoed in TSecr. */
  tsRecent: u32;
  /** Time (ms) at which tsRecent was stored, for the 24-day PAWS rule (RFC 7323 §5.5). */
  tsRecentAge: u32;
  /** Per-connection offset added to our clock for TSval (RFC 7323 §5.4). */
  tsOffset: u32;

  // round-trip time (RFC 6298) -------------------------------------------------
  /** SRTT in ms, scaled by 8 (0 = no sample yet). */
  srtt: u32;
  /** RTTVAR in ms, scaled by 4. */
  rttvar: u32;
  /** Current RTO in ms, before backoff. */
  rto: u32;
  /** Sequence number whose ACK ends the timed round trip (valid with TF_RTT_TIMING). */
  rttSeq: u32;
  /** Time (ms, low 32 bits) when rttSeq was sent. */
  rttStartAt: u32;

  // congestion control (RFC 5681, RFC 6582) ------------------------------------
  /** cwnd in bytes. */
  cwnd: u32;
  /** ssthresh in bytes. */
  ssthresh: u32;
  /** NewReno "recover": sndMax when fast recovery began (RFC 6582 §3.2 step 2). */
  recover: u32;
  /** Consecutive duplicate ACKs (RFC 5681 §2 definition). */
  dupAcks: u8;
  /** Consecutive retransmissions of the same data (retry limit → ETIMEDOUT). */
  retries: u8;
  /** Unanswered keepalive or persist probes. */
  probes: u8;
  /** Pending error code (errors for the host, 0 = none). */
  error: u8;
  /** Time (ms, low 32 bits) of the last segment received (keepalive idle). */
  lastRcvAt: u32;
  /** Send buffer limit in bytes (socket option). */
  sndBufMax: u32;
  /** Receive buffer limit in bytes (socket option). */
  rcvBufMax: u32;

  // out-of-order bookkeeping ---------------------------------------------------
  /** Number of valid out-of-order ranges (0..TCB_OOO_MAX), sorted by start. */
  oooCount: u8;
  /** Index of the range that received the latest segment (first SACK block, RFC 2018 §4). */
  oooLast: u8;
  /** Full-sized segments received since our last ACK (delayed ACK: ACK every 2nd, RFC 5681 §4.2). */
  segsUnacked: u16;
  /** Ranges [start, end) of data held beyond rcvNxt, in sequence space. */
  oooStart0: u32; oooStart1: u32; oooStart2: u32; oooStart3: u32;
  oooEnd0: u32; oooEnd1: u32; oooEnd2: u32; oooEnd3: u32;

  // listener / accept queue ----------------------------------------------------
  /** Child: next child handle in the listener's accept queue (0 = tail). */
  acceptNext: u32;
  /** Listener: first established child waiting for accept (handle, 0 = empty). */
  acceptHead: u32;
  /** Listener: last child in the accept queue. */
  acceptTail: u32;
  /** Listener: children in the accept queue. */
  acceptLen: u16;
  /** Listener: accept-queue bound (listen backlog). */
  backlog: u16;
  /** Listener: half-open children (syncache entries) in SYN-RECEIVED. */
  synCount: u16;
  /** Reserved. */
  pad0: u16;
  /** Sequence number of a FIN received beyond a hole (valid with TF_FIN_PENDING, HC-06 (b)). */
  rcvFinSeq: u32;
  /**
   * Handshake start, µs (low 32 bits of the module clock; valid with TF_HS_STAMPED):
   * server child: its SYN's RX stamp; active open: the connect call (first SYN).
   * Read when the handshake completes (stats/histogram.ts, issue 8). Takes the place
   * of a reserved word, so the layout is unchanged.
   */
  hsStartUs: u32;

  // data buffers: chunk-queue headers, format owned by the chunk pool (helper B) --
  /** Send queue header word 0..1 (16 bytes at TCB_SNDQ). */
  sndQueue0: u64; sndQueue1: u64;
  /** Receive queue header word 0..1 (16 bytes at TCB_RCVQ). */
  rcvQueue0: u64; rcvQueue1: u64;

  // congestion control (RFC 9438 CUBIC; appended, see cubic.ts) ---------------
  /** W_est, the Reno-friendly window estimate in bytes (RFC 9438 §4.3). */
  cubicWest: f64;
  /** t_epoch: module time (ms, low 32 bits) when the current avoidance stage began (§4.2). */
  cubicEpochMs: u32;
  /** K in ms (§4.2 eq. 2). */
  cubicK: u32;
  /** W_max in bytes: the window before the last reduction, after fast convergence (§4.6, §4.7). */
  cubicWmax: u32;
  /** cwnd_prior in bytes: cwnd when ssthresh was last set (§4.3 α switch). */
  cubicCwndPrior: u32;
  /** Remainder of the per-ACK growth (target − cwnd)·acked mod cwnd (no truncation loss). */
  cubicRem: u32;
  /** CC_CUBIC or CC_NEWRENO (config.ts), latched from `congestionControl` at reset. */
  ccAlgo: u8;
  /** CCF_* bits. */
  ccFlags: u8;
  /** Reserved. */
  ccPad: u16;
  // the four TimerNodes follow at TCB_TIMERS (not declared: raw 24-byte records)
}

/** Offset of the send chunk-queue header (16 bytes) inside a Tcb. */
export const TCB_SNDQ: usize = offsetof<Tcb>("sndQueue0");
/** Offset of the receive chunk-queue header (16 bytes) inside a Tcb. */
export const TCB_RCVQ: usize = offsetof<Tcb>("rcvQueue0");
/** Size of one chunk-queue header reserved in the Tcb. */
export const TCB_QUEUE_BYTES: usize = 16;
/** First timer node (8-byte aligned). */
export const TCB_TIMERS: usize = (offsetof<Tcb>() + 7) & ~<usize>7;
/** Retransmit timer (also the SYN-ACK / SYN retransmit in the handshake states). */
export const TCB_TIMER_RTX: usize = TCB_TIMERS;
/** Delayed-ACK timer. */
export const TCB_TIMER_DELACK: usize = TCB_TIMERS + TIMER_NODE_SIZE;
/** Keepalive timer, or the persist timer while TF_PERSIST (they never run together). */
export const TCB_TIMER_KEEP: usize = TCB_TIMERS + 2 * TIMER_NODE_SIZE;
/** TIME-WAIT timer (also the FIN-WAIT-2 timeout). */
export const TCB_TIMER_TW: usize = TCB_TIMERS + 3 * TIMER_NODE_SIZE;
/** Number of timer nodes per Tcb. */
export const TCB_TIMER_COUNT: i32 = 4;
/** Bytes of one Tcb record including its timers (8-byte multiple). */
export const TCB_SIZE: usize = TCB_TIMERS + 4 * TIMER_NODE_SIZE;

@inline
export function tcbAt(p: usize): Tcb {
  return changetype<Tcb>(p);
}

/** Out-of-order range i start/end (i < TCB_OOO_MAX). */
@inline export function oooStartAt(p: usize, i: i32): u32 {
  return load<u32>(p + offsetof<Tcb>("oooStart0") + (<usize>i << 2));
}
@inline export function oooEndAt(p: usize, i: i32): u32 {
  return load<u32>(p + offsetof<Tcb>("oooEnd0") + (<usize>i << 2));
}
@inline export function setOooStart(p: usize, i: i32, v: u32): void {
  store<u32>(p + offsetof<Tcb>("oooStart0") + (<usize>i << 2), v);
}
@inline export function setOooEnd(p: usize, i: i32, v: u32): void {
  store<u32>(p + offsetof<Tcb>("oooEnd0") + (<usize>i << 2), v);
}

/**
 * Initialises every byte of the record at `p` for a fresh endpoint `handle`:
 * zero everything (state CLOSED, empty queues), then the non-zero defaults, then
 * the four idle timer nodes owned by `handle`.
 * Precondition: no timer node of `p` is linked (see tcbCancelTimers).
 */
export function tcbReset(p: usize, handle: u32): void {
  memory.fill(p, 0, TCB_SIZE);
  const t = changetype<Tcb>(p);
  t.handle = handle;
  t.state = STATE_CLOSED;
  t.sndMss = TCP_DEFAULT_MSS;
  t.rcvMss = TCP_DEFAULT_MSS;
  t.rto = TCP_INITIAL_RTO_MS;
  // RFC 5681 §3.1: ssthresh starts arbitrarily high.
  t.ssthresh = u32.MAX_VALUE;
  t.ccAlgo = congestionControl; // CUBIC state is all zero: no epoch, W_max 0
  timerInit(p + TCB_TIMER_RTX, TIMER_KIND_RETRANSMIT, handle);
  timerInit(p + TCB_TIMER_DELACK, TIMER_KIND_DELAYED_ACK, handle);
  timerInit(p + TCB_TIMER_KEEP, TIMER_KIND_KEEPALIVE, handle);
  timerInit(p + TCB_TIMER_TW, TIMER_KIND_TIME_WAIT, handle);
}

/** Cancels every timer of the record (no-op for idle ones), the lazily stopped RTX node too. */
export function tcbCancelTimers(p: usize): void {
  changetype<Tcb>(p).flags &= ~(TF_RTX_ON | TF_FW2_TIMEOUT);
  timers.cancel(p + TCB_TIMER_RTX);
  timers.cancel(p + TCB_TIMER_DELACK);
  timers.cancel(p + TCB_TIMER_KEEP);
  timers.cancel(p + TCB_TIMER_TW);
}

/** Number of the record's timers that are linked in the timer queue (IT-TCP-1). */
export function tcbActiveTimers(p: usize): i32 {
  let n = 0;
  if (timerIsActive(p + TCB_TIMER_RTX)) n++;
  if (timerIsActive(p + TCB_TIMER_DELACK)) n++;
  if (timerIsActive(p + TCB_TIMER_KEEP)) n++;
  if (timerIsActive(p + TCB_TIMER_TW)) n++;
  return n;
}

/** True while the retransmission timer runs logically (TF_RTX_ON; its node may be armed without it). */
@inline
export function tcbRtxRunning(p: usize): bool {
  return (changetype<Tcb>(p).flags & TF_RTX_ON) != 0;
}

/** The record that embeds timer node `node` (any of its four), by the node's kind. */
export function tcbOfTimer(node: usize): usize {
  const k = changetype<TimerNode>(node).kind;
  if (k == TIMER_KIND_RETRANSMIT) return node - TCB_TIMER_RTX;
  if (k == TIMER_KIND_DELAYED_ACK) return node - TCB_TIMER_DELACK;
  if (k == TIMER_KIND_TIME_WAIT) return node - TCB_TIMER_TW;
  return node - TCB_TIMER_KEEP; // KEEPALIVE or PERSIST
}
