// TIME-WAIT with compact records (issue 6): the dialogue doubles of tcp-kit.ts for the
// Tcbs, plus the real connection table and TIME-WAIT record slab (tcp/table.ts,
// mem/timewait.ts), so the engine keeps compact records as in the integrated stack.
// IT-TCP-3 against the records, FIN retransmission, RFC 1337, RFC 6191 SYNs (sequence
// and timestamps), PAWS, the maxTimeWait cap, twReuse, reusePort spreading, bind fixes.
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_FIN, TCP_FLAG_PSH } from "../../assembly/wire/tcp";
import { tcpAccept, tcpState, tcpClose, tcpOpen, tcpConnect } from "../../assembly/tcp/api";
import { STATE_ESTABLISHED, STATE_FIN_WAIT_2, STATE_CLOSED, STATE_TIME_WAIT } from "../../assembly/tcp/state";
import { setTimeWaitMs, setEphemeralRange, statRstIgnoredTimeWait, statPawsDropped } from "../../assembly/tcp/config";
import { EV_CLOSED, E_NO_PORT } from "../../assembly/tcp/codes";
import {
  TcpEnv, setTcpEnv, envTcbAlloc, envTcbPtr, envTcbFree, envLookup, envTableInsert, envTableRemove,
  envTupleInUse, envSndAppend, envSndCopy, envSndConsume, envSndLen, envRcvWriteAt, envRcvCommit,
  envRcvRead, envRcvLen, envRcvSpace, envBufRelease, envTxBegin, envTxSend, envEvent, envHash,
} from "../../assembly/tcp/env";
import { tcpOnTimer } from "../../assembly/tcp/timers";
import {
  twCount, twStatsReset, twHolds, twSynAccepted, twSynRejected, twFinAcked, twReused, twAckLimited,
  twOnTimer, twBytesPerRecord, twBytes, TW_ISS_GAP,
} from "../../assembly/tcp/timewait";
import {
  tableInit, tableSize, tableCount, tableInsert, tableInsertListener, tableDemux, tableRemove,
  tableBindCheck, entryOwner, ENTRY_TIMEWAIT, ENTRY_CONN, EF_BOUND, EF_REUSE_ADDR, EF_REUSE_PORT,
} from "../../assembly/tcp/table";
import { timeWaitInit, TW_NODE_FLAG, TW_RECORD_SIZE } from "../../assembly/mem/timewait";
import { counter, C_TIMEWAIT_EXHAUSTED } from "../../assembly/mem/stats";
import { hashSetSecret } from "../../assembly/util/hash";
import { TimerNode } from "../../assembly/time/timer";
import { initTimers, timers, nowUs } from "../../assembly/time/clock";
import { OK, E_ADDR_IN_USE, E_BAD_ARGUMENT, lastError } from "../../assembly/errors";

const FA: u8 = TCP_FLAG_FIN | TCP_FLAG_ACK;
const TW_MS: u32 = 1000;

// ── a kit world with the real table + record slab ───────────────────────────────
let kitLookup: (la: u32, lp: u16, ra: u32, rp: u16) => u32 = envLookup;
let kitInUse: (la: u32, lp: u16, ra: u32, rp: u16) => bool = envTupleInUse;

// As glue/tcp-env.ts: a 4-tuple held by a TIME-WAIT record is no control block (and the
// listener does not answer for it); such a tuple is in use for the port choice.
function twLookup(la: u32, lp: u16, ra: u32, rp: u16): u32 {
  if (twHolds(la, lp, ra, rp)) return 0;
  return kitLookup(la, lp, ra, rp);
}
function twInUse(la: u32, lp: u16, ra: u32, rp: u16): bool {
  return twHolds(la, lp, ra, rp) || kitInUse(la, lp, ra, rp);
}
// As dispatch.ts: a record's node goes to twOnTimer.
function specTimer(node: usize): void {
  if (changetype<TimerNode>(node).flags == TW_NODE_FLAG) twOnTimer(node);
  else tcpOnTimer(node);
}

function twSetup(cap: u32 = 8): void {
  k.setup();
  hashSetSecret(0x1234, 0x5678);
  tableInit(64, 8, 1);
  timeWaitInit(cap);
  twStatsReset();
  initTimers(true, nowUs, specTimer);
  setTimeWaitMs(TW_MS);
  kitLookup = envLookup;
  kitInUse = envTupleInUse;
  const e = new TcpEnv();
  e.tcbAlloc = envTcbAlloc; e.tcbPtr = envTcbPtr; e.tcbFree = envTcbFree; e.lookup = twLookup;
  e.tableInsert = envTableInsert; e.tableRemove = envTableRemove; e.tupleInUse = twInUse;
  e.sndAppend = envSndAppend; e.sndCopy = envSndCopy; e.sndConsume = envSndConsume; e.sndLen = envSndLen;
  e.rcvWriteAt = envRcvWriteAt; e.rcvCommit = envRcvCommit; e.rcvRead = envRcvRead; e.rcvLen = envRcvLen;
  e.rcvSpace = envRcvSpace; e.bufRelease = envBufRelease; e.txBegin = envTxBegin; e.txSend = envTxSend;
  e.event = envEvent; e.hash = envHash;
  setTcpEnv(e);
}

function twTeardown(): void {
  setTimeWaitMs(60000);
}

/** B closes first; A ACKs and sends its FIN; B answers and is in TIME-WAIT. Returns B's ISS. */
function closeFromB(c: u32, irs: u32, iss: u32): void {
  tcpClose(c);
  drain(); // B's FIN
  tmpl(TCP_FLAG_ACK, irs + 1, iss + 2); inject();
  tmpl(FA, irs + 1, iss + 2); inject();
}

// TS variants: every segment from A carries TSopt.
let aTs: u32 = 5000;
let bTs: u32 = 0;
let tsIss: u32 = 0;
function tsOn(): void { rin.hasTs = true; rin.tsVal = aTs; rin.tsEcr = bTs; }

/** Handshake with timestamps (A's TSval starts at aTs). Returns the child. */
function tsHandshake(l: u32, irs: u32): u32 {
  tmpl(TCP_FLAG_SYN, irs, 0); rin.mss = 1460; rin.hasTs = true; rin.tsVal = aTs; rin.tsEcr = 0;
  inject();
  if (!next() || !rout.hasTs) return 0;
  tsIss = rout.seq;
  bTs = rout.tsVal;
  aTs += 10;
  tmpl(TCP_FLAG_ACK, irs + 1, rout.seq + 1); tsOn(); inject();
  drain();
  return tcpAccept(l);
}

describe("compact records (IT-TCP-3)", () => {
  test("the Tcb goes back to the pool; the record leaves after timeWaitMs; nothing left", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK, "the FIN's ACK goes out before the Tcb is released");
    expect(rout.ack).toBe(1002);
    expect(k.inUseCount()).toBe(1, "only the listener holds a Tcb");
    expect(k.ptrOf(c)).toBe(0, "the application's handle is stale (it closed)");
    expect(twCount()).toBe(1);
    expect(tableCount(ENTRY_TIMEWAIT)).toBe(1);
    expect(timers.active).toBe(1, "one wheel timer: the record's");
    expect(twBytes()).toBe(<u64>twBytesPerRecord());
    expect(twBytesPerRecord()).toBeLessThanOrEqual(TW_RECORD_SIZE + 40, "≤ 64 B record + 36 B entry");
    advance(TW_MS - 1);
    expect(twCount()).toBe(1);
    advance(1);
    expect(twCount()).toBe(0);
    expect(tableSize()).toBe(0, "the record's entry left the table");
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    twTeardown();
  });

  test("a handle the application still holds keeps its Tcb in TIME-WAIT (data readable); close() moves it to a record", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    // half-close only: the application keeps the handle
    expect(k.tcbOf(c).state).toBe(STATE_ESTABLISHED);
    tcpStateAfterShutdown(c, 1000, iss);
    expect(twCount()).toBe(0);
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
    expect(k.findEvent(EV_CLOSED)).toBe(-1);
    advance(300);
    expect(tcpClose(c)).toBe(0);
    expect(k.inUseCount()).toBe(1);
    expect(twCount()).toBe(1, "the record took over");
    expect(timers.active).toBe(1);
    advance(TW_MS - 1);
    expect(twCount()).toBe(1, "a full timeWaitMs from close()");
    advance(TW_MS);
    expect(twCount()).toBe(0);
    twTeardown();
  });
});

import { tcpShutdown } from "../../assembly/tcp/api";
function tcpStateAfterShutdown(c: u32, irs: u32, iss: u32): void {
  tcpShutdown(c);
  drain();
  tmpl(TCP_FLAG_ACK, irs + 1, iss + 2); inject();
  expect(tcpState(c)).toBe(STATE_FIN_WAIT_2);
  tmpl(FA, irs + 1, iss + 2); inject();
  drain();
}

describe("segments in TIME-WAIT", () => {
  test("a retransmitted FIN is ACKed and restarts the 2 MSL timer (RFC 9293 §3.10.7.4)", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    drain();
    advance(600);
    tmpl(FA, 1001, iss + 2); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss + 2);
    expect(rout.ack).toBe(1002);
    expect(twFinAcked).toBe(1);
    advance(600); // 1200 ms after entry, 600 after the restart
    expect(twCount()).toBe(1, "restarted: still there past the first deadline");
    advance(399);
    expect(twCount()).toBe(1);
    advance(1);
    expect(twCount()).toBe(0);
    expect(timers.active).toBe(0);
    twTeardown();
  });

  test("RST is ignored, in window or not (RFC 1337); nothing is sent", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    drain();
    const r0 = statRstIgnoredTimeWait;
    tmpl(TCP_FLAG_RST, 1002, 0); inject();
    tmpl(TCP_FLAG_RST | TCP_FLAG_ACK, 77777, iss + 2); inject();
    expect(statRstIgnoredTimeWait).toBe(r0 + 2);
    expect(pending()).toBe(0);
    expect(twCount()).toBe(1);
    advance(TW_MS);
    expect(twCount()).toBe(0, "the timer was not restarted either");
    twTeardown();
  });

  test("a bare ACK at RCV.NXT is dropped silently; data and old segments get a rate-limited ACK", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    drain();
    tmpl(TCP_FLAG_ACK, 1002, iss + 2); inject();
    expect(pending()).toBe(0);
    tmpl(TCP_FLAG_ACK | TCP_FLAG_PSH, 1002, iss + 2); inject(10);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss + 2);
    expect(rout.ack).toBe(1002);
    tmpl(TCP_FLAG_ACK, 500, iss + 2); inject(); // old duplicate
    expect(pending()).toBe(0, "second out-of-window ACK within 500 ms is limited");
    expect(twAckLimited).toBe(1);
    advance(500);
    tmpl(TCP_FLAG_ACK, 500, iss + 2); inject();
    expect(next()).toBe(true);
    expect(twCount()).toBe(1);
    twTeardown();
  });
});

describe("SYN in TIME-WAIT (RFC 6191)", () => {
  test("no timestamps: a SYN above RCV.NXT starts a new connection with ISS = SND.NXT + 65537", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    drain();
    tmpl(TCP_FLAG_SYN, 50000, 0); rin.mss = 1460; inject();
    expect(twCount()).toBe(0);
    expect(twSynAccepted).toBe(1);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.ack).toBe(50001);
    expect(rout.seq).toBe(iss + 2 + TW_ISS_GAP);
    // the handshake completes on the same 4-tuple
    tmpl(TCP_FLAG_ACK, 50001, rout.seq + 1); inject();
    const c2 = tcpAccept(l);
    expect(c2).not.toBe(0);
    expect(tcpState(c2)).toBe(STATE_ESTABLISHED);
    twTeardown();
  });

  test("no timestamps: a SYN at or below RCV.NXT is rejected with an ACK; the record stays", () => {
    twSetup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    closeFromB(c, 1000, iss);
    drain();
    tmpl(TCP_FLAG_SYN, 1000, 0); inject(); // the old connection's SYN, delayed
    expect(twCount()).toBe(1);
    expect(twSynRejected).toBe(1);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss + 2);
    expect(rout.ack).toBe(1002);
    expect(k.inUseCount()).toBe(1, "no child was created");
    twTeardown();
  });

  test("timestamps: a newer TSval is accepted even below RCV.NXT; an older one is PAWS-rejected", () => {
    twSetup();
    aTs = 5000;
    const l = listener();
    const c = tsHandshake(l, 1000);
    expect(c).not.toBe(0);
    expect(k.tcbOf(c).flags & 8).toBe(8, "TF_TS_OK");
    const iss = tsIss;
    tcpClose(c); drain();
    aTs += 10; tmpl(TCP_FLAG_ACK, 1001, iss + 2); tsOn(); inject();
    aTs += 10; tmpl(FA, 1001, iss + 2); tsOn(); inject();
    drain();
    expect(twCount()).toBe(1);
    // higher sequence number but an older TSval: PAWS rejects it (RFC 7323 §5.3)
    const p0 = statPawsDropped;
    tmpl(TCP_FLAG_SYN, 90000, 0); rin.hasTs = true; rin.tsVal = aTs - 100; rin.tsEcr = 0; inject();
    expect(twCount()).toBe(1);
    expect(statPawsDropped).toBe(p0 + 1);
    expect(twSynRejected).toBe(1);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.hasTs).toBe(true, "the ACK carries TSopt");
    expect(rout.tsEcr).toBe(aTs, "TSecr = TS.Recent (the FIN's TSval)");
    // lower sequence number, newer TSval: a new incarnation
    advance(10);
    tmpl(TCP_FLAG_SYN, 10, 0); rin.mss = 1460; rin.hasTs = true; rin.tsVal = aTs + 50; rin.tsEcr = 0; inject();
    expect(twCount()).toBe(0);
    expect(twSynAccepted).toBe(1);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss + 2 + TW_ISS_GAP);
    expect(k.inUseCount()).toBe(2, "listener + the new half-open child");
    tmpl(TCP_FLAG_ACK, 11, rout.seq + 1); rin.hasTs = true; rin.tsVal = aTs + 60; rin.tsEcr = rout.tsVal; inject();
    const c2 = tcpAccept(l);
    expect(c2).not.toBe(0);
    expect(tcpState(c2)).toBe(STATE_ESTABLISHED);
    twTeardown();
  });
});

describe("maxTimeWait cap", () => {
  test("a full record slab: the connection closes without TIME-WAIT (Linux), counted", () => {
    twSetup(1);
    const l = listener();
    const c1 = handshake(l, 1000);
    const iss1 = k.lastIss;
    closeFromB(c1, 1000, iss1);
    drain();
    expect(twCount()).toBe(1);
    const e0 = counter(C_TIMEWAIT_EXHAUSTED);
    rin.srcPort = 40001;
    // second connection from another port
    tmpl(TCP_FLAG_SYN, 3000, 0); rin.srcPort = 40001; rin.mss = 1460; inject();
    expect(next()).toBe(true);
    const iss2 = rout.seq;
    tmpl(TCP_FLAG_ACK, 3001, iss2 + 1); rin.srcPort = 40001; inject();
    const c2 = tcpAccept(l);
    expect(c2).not.toBe(0);
    tcpClose(c2); drain();
    tmpl(TCP_FLAG_ACK, 3001, iss2 + 2); rin.srcPort = 40001; inject();
    tmpl(FA, 3001, iss2 + 2); rin.srcPort = 40001; inject();
    expect(next()).toBe(true);
    expect(rout.ack).toBe(3002, "the FIN is still ACKed");
    expect(counter(C_TIMEWAIT_EXHAUSTED)).toBe(e0 + 1);
    expect(twCount()).toBe(1);
    expect(k.inUseCount()).toBe(1, "closed without TIME-WAIT: the Tcb is gone too");
    // the second tuple answers as a closed port now
    tmpl(TCP_FLAG_ACK, 3002, iss2 + 2); rin.srcPort = 40001; inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    twTeardown();
  });
});

/** B connects B:80 → A:40000 with timestamps, closes first, ends in TIME-WAIT. Returns B's ISS. */
function activeToTimeWait(withTs: bool): u32 {
  const h = tcpOpen();
  expect(tcpConnect(h, k.B_ADDR, 80, k.A_ADDR, 40000)).toBe(0);
  expect(next()).toBe(true);
  const iss = rout.seq;
  expect(rout.hasTs).toBe(true, "we offer timestamps");
  tmpl(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, iss + 1); rin.mss = 1460;
  if (withTs) { rin.hasTs = true; rin.tsVal = aTs; rin.tsEcr = rout.tsVal; }
  inject();
  drain();
  expect(tcpState(h)).toBe(STATE_ESTABLISHED);
  tcpClose(h); drain();
  aTs += 10;
  tmpl(TCP_FLAG_ACK, 7001, iss + 2); if (withTs) tsOn(); inject();
  aTs += 10;
  tmpl(FA, 7001, iss + 2); if (withTs) tsOn(); inject();
  drain();
  expect(twCount()).toBe(1);
  return iss;
}

describe("twReuse (active opener in TIME-WAIT)", () => {
  test("off: the 4-tuple stays taken (E_ADDR_IN_USE); on: taken after 1 s with timestamps, ISS above the old SND.NXT", () => {
    twSetup();
    setTimeWaitMs(5000);
    const iss = activeToTimeWait(true);
    const h2 = tcpOpen();
    expect(tcpConnect(h2, k.B_ADDR, 80, k.A_ADDR, 40000, false)).toBe(E_ADDR_IN_USE);
    expect(tcpConnect(h2, k.B_ADDR, 80, k.A_ADDR, 40000, true)).toBe(E_ADDR_IN_USE, "under 1 s since the last segment");
    expect(twCount()).toBe(1);
    advance(999);
    expect(tcpConnect(h2, k.B_ADDR, 80, k.A_ADDR, 40000, true)).toBe(E_ADDR_IN_USE);
    advance(1);
    expect(twCount()).toBe(1);
    expect(tcpConnect(h2, k.B_ADDR, 80, k.A_ADDR, 40000, true)).toBe(0);
    expect(twCount()).toBe(0);
    expect(twReused).toBe(1);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN);
    expect(rout.seq).toBe(iss + 2 + TW_ISS_GAP);
    twTeardown();
  });

  test("without timestamps the record is never taken over", () => {
    twSetup();
    setTimeWaitMs(5000);
    activeToTimeWait(false);
    advance(2000);
    const h2 = tcpOpen();
    expect(tcpConnect(h2, k.B_ADDR, 80, k.A_ADDR, 40000, true)).toBe(E_ADDR_IN_USE);
    expect(twCount()).toBe(1);
    expect(twReused).toBe(0);
    twTeardown();
  });

  test("the ephemeral port choice takes a reusable record when twReuse is on, skips it when off", () => {
    twSetup();
    setTimeWaitMs(5000);
    activeToTimeWait(true);
    advance(1500);
    setEphemeralRange(80, 80); // the only port is the record's
    const h2 = tcpOpen();
    expect(tcpConnect(h2, k.B_ADDR, 0, k.A_ADDR, 40000, false)).toBe(E_NO_PORT, "the only tuple is in TIME-WAIT");
    expect(twCount()).toBe(1);
    expect(tcpConnect(h2, k.B_ADDR, 0, k.A_ADDR, 40000, true)).toBe(0);
    expect(k.tcbOf(h2).localPort).toBe(80);
    expect(twReused).toBe(1);
    setEphemeralRange(49152, 65535);
    twTeardown();
  });
});


describe("table: bind fixes and reusePort spreading", () => {
  test("tableInsert refuses localAddr 0 for connection, syncache and TIME-WAIT entries", () => {
    twSetup();
    expect(tableInsert(ENTRY_CONN, 0, 2000, 0xc6130001, 3000, 1, EF_BOUND)).toBe(0);
    expect(lastError()).toBe(E_BAD_ARGUMENT);
    expect(tableInsert(ENTRY_TIMEWAIT, 0, 2000, 0xc6130001, 3000, 1, 0)).toBe(0);
    expect(lastError()).toBe(E_BAD_ARGUMENT);
    expect(tableSize()).toBe(0);
    twTeardown();
  });

  test("0.0.0.0:80 and A:80 conflict unless both set reusePort; TIME-WAIT needs reuseAddress", () => {
    twSetup();
    const A: u32 = 0x0a000002;
    const w = tableInsertListener(0, 80, 1, 0);
    expect(tableBindCheck(A, 80, 0)).toBe(E_ADDR_IN_USE);
    expect(tableBindCheck(A, 80, EF_REUSE_PORT)).toBe(E_ADDR_IN_USE, "the wildcard did not set it");
    tableRemove(w);
    const w2 = tableInsertListener(0, 80, 1, EF_REUSE_PORT);
    expect(tableBindCheck(A, 80, EF_REUSE_PORT)).toBe(OK);
    tableRemove(w2);
    const tw = tableInsert(ENTRY_TIMEWAIT, A, 80, 0x0a000001, 40000, 1, EF_BOUND);
    expect(tableBindCheck(A, 80, 0)).toBe(E_ADDR_IN_USE);
    expect(tableBindCheck(A, 80, EF_REUSE_ADDR)).toBe(OK);
    tableRemove(tw);
    twTeardown();
  });

  test("SYNs spread across a reusePort group by 4-tuple hash (seeded; balance bounds)", () => {
    twSetup();
    const A: u32 = 0x0a000002;
    const N = 4;
    const ls = new StaticArray<u32>(N);
    for (let i = 0; i < N; i++) {
      ls[i] = tableInsertListener(A, 80, <u32>(100 + i), EF_REUSE_PORT);
      expect(ls[i]).not.toBe(0);
    }
    const hits = new StaticArray<u32>(N);
    let seed: u32 = 0x2545f491; // fixed seed (xorshift32)
    log<string>("reusePort spread seed 0x2545f491, 8000 tuples, 4 listeners");
    const M = 8000;
    for (let j = 0; j < M; j++) {
      seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
      const ra = 0xc6120000 | (seed & 0xffff);
      const rp = <u16>(1024 + ((seed >> 16) % 60000));
      const e = tableDemux(A, 80, ra, rp);
      expect(tableDemux(A, 80, ra, rp)).toBe(e, "the same tuple always finds the same listener");
      const o = entryOwner(e);
      expect(o >= 100 && o < 100 + <u32>N).toBe(true);
      hits[o - 100]++;
    }
    // Chi-square with 3 degrees of freedom: 16.27 is the 0.1% critical value.
    const exp = <f64>M / <f64>N;
    let chi: f64 = 0;
    for (let i = 0; i < N; i++) {
      const d = <f64>hits[i] - exp;
      chi += d * d / exp;
      expect(hits[i]).toBeGreaterThan(<u32>(exp * 0.9));
      expect(hits[i]).toBeLessThan(<u32>(exp * 1.1));
    }
    expect(chi).toBeLessThan(16.27);
    // A listener without reusePort is alone: it answers everything.
    for (let i = 0; i < N; i++) tableRemove(ls[i]);
    const solo = tableInsertListener(A, 80, 7, 0);
    expect(entryOwner(tableDemux(A, 80, 0xc6120001, 5555))).toBe(7);
    tableRemove(solo);
    twTeardown();
  });
});
