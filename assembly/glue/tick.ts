// One host tick (SPEC §2): RX frames → interface → TCP, then the timers, then the
// output that a full TX ring held back. Every step is bounded:
//
//   tick(nowUs)
//   1. pending output   endpoints whose segments met a full TX ring (mem/endpoints.ts
//                       pending ring), each given one tcpOutput, while the TX ring has room
//   2. RX frames        at most rxBudget frames, in ring order; each is processed at its
//                       receive time (clamped to [last time, nowUs], so time never runs
//                       backwards): the timers are advanced to that time first, so an
//                       ACK that arrived before a retransmission timeout is seen first.
//                       Stops early while the TX or event ring is nearly full
//                       (back-pressure: the frames wait in the RX ring for the next tick)
//   3. timers           advanced to nowUs (each expiry does bounded work: tcp/timers.ts)
//   4. pending output   again (timer output may have met a full ring)
//   5. pool waiters     connections whose send() the chunk pool refused get EV_WRITABLE
//                       once chunks are free again, oldest first, at most one per free
//                       chunk (mem/endpoints.ts pool-wait ring)
//   returns             0 when work is left (RX frames or pending output: drain the TX
//                       and event rings and tick again), else ms until the next timer
//                       work, −1 when none
//
// Per-frame work is bounded by the engine (one segment → at most tcp/config.ts
// outputBudget segments out); per-tick work by rxBudget frames plus the timers due.

import { rxPoll, rxPending, TX_RING, EVENT_RING, ringSlots, ringHead, ringTail } from "../mem/rings";
import { timers, setNowUs, nowUs } from "../time/clock";
import { ifaceInput } from "../iface/interface";
import {
  endpointPendingPush, endpointPendingPop, endpointPendingCount, endpointPtrQuiet, endpointsCapacityNow,
  endpointPoolWaitPop, endpointPoolWaitCount,
} from "../mem/endpoints";
import { chunksFreeForSend } from "../mem/chunks";
import { Tcb, TF_WANT_WRITABLE, TF_FIN_QUEUED } from "../tcp/tcb";
import { isSynchronized, acceptsSend, STATE_SYN_SENT, STATE_SYN_RECEIVED } from "../tcp/state";
import { envEvent } from "../tcp/env";
import { EV_WRITABLE } from "../tcp/codes";
import { tcpOutput } from "../tcp/snd";
import { sendSyn } from "../tcp/connect";
import { outputBudget } from "../tcp/config";
import { txFullHit, clearTxFull, lastLookup, clearLastLookup } from "./tcp-env";

let rxBudget: u32 = 256;
/** Time of the last event processed (µs): frames and ticks never move it backwards. */
let lastUs: u64 = 0;
/** nowUs of the tick in progress (upper bound for RX timestamps). */
let tickUs: u64 = 0;

export function tickSetup(budget: u32, startUs: u64): void {
  rxBudget = budget;
  lastUs = startUs;
  tickUs = startUs;
}

/** Free slots of a module-produced ring (the host owns tail; nonsense reads as full). */
function ringFree(r: usize): u32 {
  const slots = ringSlots(r);
  const used = ringHead(r) - ringTail(r);
  return used >= slots ? 0 : slots - used;
}

/** TX slots one step may need: a segment's output burst plus an ACK, at most half the ring. */
function txReserve(): u32 {
  const half = ringSlots(TX_RING) >> 1;
  const want = outputBudget + 2;
  const r = want < half ? want : half;
  return r == 0 ? 1 : r;
}

/** Event records one frame may post (readable, peer-closed, closed, error, accepted...). */
function eventReserve(): u32 {
  const half = ringSlots(EVENT_RING) >> 1;
  const r: u32 = half > 8 ? 8 : half;
  return r == 0 ? 1 : r;
}

@inline function roomForMore(): bool {
  return ringFree(TX_RING) >= txReserve() && ringFree(EVENT_RING) >= eventReserve();
}

/** Moves the module clock (and the timers) forward to `t`; never backwards. */
function advanceTo(t: u64): void {
  if (t < lastUs) t = lastUs;
  lastUs = t;
  setNowUs(t);
  timers.tickTo(t / 1000);
}

/** The RX handler (mem/rings.ts setRxHandler): one frame at its receive time. */
export function rxFrame(frame: usize, len: u32, timeUs: u64): void {
  let t = timeUs;
  if (t > tickUs) t = tickUs; // a timestamp from the future is taken as "now"
  advanceTo(t);
  clearTxFull();
  clearLastLookup();
  ifaceInput(frame, len, nowUs);
  // The frame's reply met a full TX ring: retry the endpoint's output next tick.
  if (txFullHit && lastLookup != 0) endpointPendingPush(lastLookup);
}

/**
 * Gives each endpoint waiting for TX room one tcpOutput (data, FIN or an owed ACK),
 * oldest first, while the TX ring has room; an endpoint that meets a full ring again
 * goes back to the end of the queue. At most one pass over the queue.
 */
export function drainPending(): void {
  let n = endpointPendingCount();
  const cap = endpointsCapacityNow();
  if (n > cap) n = cap;
  while (n-- > 0) {
    if (ringFree(TX_RING) < txReserve()) return;
    const h = endpointPendingPop();
    if (h == 0) return;
    const p = endpointPtrQuiet(h);
    if (p == 0) continue;
    const st = changetype<Tcb>(p).state;
    clearTxFull();
    if (st == STATE_SYN_SENT || st == STATE_SYN_RECEIVED) sendSyn(p); // the SYN (or SYN,ACK) that met the full ring
    else if (isSynchronized(st)) tcpOutput(p);
    else continue;
    if (txFullHit) endpointPendingPush(h);
  }
}

/**
 * Tells connections that the chunk pool turned away (tcp/api.ts tcpSend) that chunks
 * are free again: EV_WRITABLE, oldest first, at most one waiter per free chunk (each
 * retry needs at least one) and while the event ring has room; the rest wait for the
 * next tick. A waiter whose retry meets a dry pool again goes back to the end.
 */
export function wakePoolWaiters(): void {
  let n = endpointPoolWaitCount();
  if (n == 0) return;
  const free = chunksFreeForSend();
  if (n > free) n = free;
  while (n > 0) {
    if (ringFree(EVENT_RING) < eventReserve()) return;
    const h = endpointPoolWaitPop();
    if (h == 0) return;
    const p = endpointPtrQuiet(h);
    if (p == 0) continue;
    const t = changetype<Tcb>(p);
    const st = t.state;
    if ((t.flags & (TF_WANT_WRITABLE | TF_FIN_QUEUED)) != TF_WANT_WRITABLE) continue;
    if (!acceptsSend(st)) continue; // as tcp/api.ts tcpSend
    t.flags &= ~TF_WANT_WRITABLE;
    envEvent(EV_WRITABLE, h, 0, 0);
    n--;
  }
}

/** tick(nowUs) for index.ts: see the header comment. */
export function stackTick(now: u64): i64 {
  if (now < lastUs) now = lastUs;
  tickUs = now;
  drainPending();
  // At most one ring lap even when the host wrote a nonsense head (rxPending clamps).
  let n = rxPending();
  if (n > rxBudget) n = rxBudget;
  let taken: u32 = 0;
  while (taken < n && roomForMore()) {
    if (rxPoll(1) == 0) break;
    taken++;
  }
  advanceTo(now);
  drainPending();
  wakePoolWaiters();
  if (rxPending() > 0 || endpointPendingCount() > 0) return 0;
  if (endpointPoolWaitCount() > 0 && chunksFreeForSend() > 0) return 0;
  const w = timers.nextWakeup();
  return w == u64.MAX_VALUE ? -1 : <i64>w;
}

/** The module's clock moves to `now` without taking frames (commands between ticks). */
export function stackSetTime(now: u64): void {
  if (now > lastUs) advanceTo(now);
}
