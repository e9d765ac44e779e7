// End of a connection's life: TIME-WAIT entry, reset/timeout, and the final
// release of the record (RFC 9293 §3.6, §3.10.7.4 RST processing, §3.10.5 ABORT).

import { FIFO_2MSL } from "../time/fifo";
import {
  Tcb, tcbCancelTimers, TCB_TIMER_TW,
  TF_DETACHED, TF_IN_SYNCACHE, TF_IN_ACCEPTQ, TF_PERSIST, TF_ERROR, TF_DELACK,
} from "./tcb";
import { STATE_CLOSED, STATE_TIME_WAIT } from "./state";
import { envTableRemove, envBufRelease, envTcbFree, envTcbPtr, envEvent } from "./env";
import { EV_CLOSED, EV_ERROR } from "./codes";
import { timers } from "../time/clock";
import { timeWaitMs } from "./config";
import { TF_ACK_NOW } from "./tcb";
import { sendAck } from "./output";
import { twStoreReady, twCreate } from "./timewait";

/** Takes a half-open or not-yet-accepted child out of its listener's bookkeeping. */
export function unlinkFromListener(p: usize): void {
  const t = changetype<Tcb>(p);
  if ((t.flags & (TF_IN_SYNCACHE | TF_IN_ACCEPTQ)) == 0) return;
  const lp = envTcbPtr(t.listener);
  if (lp != 0) {
    const l = changetype<Tcb>(lp);
    if ((t.flags & TF_IN_SYNCACHE) != 0 && l.synCount > 0) l.synCount--;
    if ((t.flags & TF_IN_ACCEPTQ) != 0) {
      // singly linked list of handles, bounded by the backlog
      let prev: usize = 0;
      let h = l.acceptHead;
      let guard: u32 = <u32>l.acceptLen + 1;
      while (h != 0 && guard-- > 0) {
        const cp = envTcbPtr(h);
        if (cp == 0) break;
        const c = changetype<Tcb>(cp);
        if (cp == p) {
          if (prev == 0) l.acceptHead = c.acceptNext;
          else changetype<Tcb>(prev).acceptNext = c.acceptNext;
          if (l.acceptTail == h) l.acceptTail = prev == 0 ? 0 : changetype<Tcb>(prev).handle;
          if (l.acceptLen > 0) l.acceptLen--;
          break;
        }
        prev = cp;
        h = c.acceptNext;
      }
    }
  }
  t.flags &= ~(TF_IN_SYNCACHE | TF_IN_ACCEPTQ);
  t.acceptNext = 0;
}

/**
 * The connection is over: cancel every timer (IT-TCP-1), leave the table, give back
 * the chunks, and either free the record (the application no longer holds the
 * handle) or post EV_CLOSED (it does; close() frees it).
 */
export function tcbFinish(p: usize): void {
  const t = changetype<Tcb>(p);
  tcbCancelTimers(p);
  envTableRemove(p);
  envBufRelease(p);
  unlinkFromListener(p);
  t.state = STATE_CLOSED;
  t.flags &= ~(TF_PERSIST | TF_DELACK);
  if ((t.flags & TF_DETACHED) != 0) {
    envTcbFree(t.handle);
  } else {
    envEvent(EV_CLOSED, t.handle, 0, 0);
  }
}

/** The connection failed with `code` (reset, refused, timed out): report and finish. */
export function tcbFail(p: usize, code: i32): void {
  const t = changetype<Tcb>(p);
  t.error = <u8>(code - 200);
  t.flags |= TF_ERROR;
  if ((t.flags & TF_DETACHED) == 0) envEvent(EV_ERROR, t.handle, <u32>code, 0);
  tcbFinish(p);
}

/**
 * Enter TIME-WAIT (RFC 9293 §3.10.7.4 eighth step) for timeWaitMs (2×MSL,
 * configurable; SPEC §5).
 *
 * With the record store (the integrated stack) and a handle the application has
 * closed: the ACK owed for the peer's FIN goes out first, a compact record
 * (tcp/timewait.ts) takes the 4-tuple, and the Tcb is finished like any closed
 * connection (timers cancelled, chunks freed, record back to the pool). When the
 * record slab is full (maxTimeWait), the connection closes without TIME-WAIT, as
 * Linux does past tcp_max_tw_buckets (counted: timeWaitExhausted).
 *
 * Otherwise (the application still holds the handle — it may have unread data and
 * EOF to read — or no store: the dialogue doubles) the Tcb stays in TIME-WAIT with
 * only its TIME-WAIT timer running; close() then moves it to a compact record
 * (tcp/api.ts tcpClose). Linux keeps the user's socket readable in the same case.
 */
export function enterTimeWait(p: usize): void {
  const t = changetype<Tcb>(p);
  if (twStoreReady() && (t.flags & TF_DETACHED) != 0) {
    if ((t.flags & TF_ACK_NOW) != 0) sendAck(p); // the FIN's ACK, before the Tcb goes
    t.state = STATE_TIME_WAIT;
    twCreate(p); // false: slab full (counted) or table refused — no TIME-WAIT then
    tcbFinish(p);
    return;
  }
  t.state = STATE_TIME_WAIT;
  tcbCancelTimers(p); // only the TIME-WAIT timer runs in TIME-WAIT
  t.flags &= ~(TF_PERSIST | TF_DELACK);
  armTimeWait(p);
}

/**
 * (Re)starts the 2 MSL timer of a Tcb in TIME-WAIT (RFC 9293 §3.10.7.4: entering
 * TIME-WAIT, and a retransmitted FIN restarts it), in the timer service's 2 MSL queue
 * (constant delay timeWaitMs, time/fifo.ts).
 */
export function armTimeWait(p: usize): void {
  timers.scheduleFifo(FIFO_2MSL, p + TCB_TIMER_TW, <u64>timeWaitMs);
}
