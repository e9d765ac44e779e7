// Closing dialogues: active close through FIN-WAIT-1/2 and TIME-WAIT (IT-TCP-3),
// passive close through CLOSE-WAIT/LAST-ACK, simultaneous close (CLOSING), RFC 1337,
// and IT-TCP-1 (closing cancels every timer; the pool returns to baseline).
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_PSH, TCP_FLAG_FIN } from "../../assembly/wire/tcp";
import { tcpAccept, tcpState, tcpClose, tcpShutdown, tcpAbort, tcpSend, tcpSetOption, OPT_KEEPALIVE } from "../../assembly/tcp/api";
import {
  STATE_FIN_WAIT_1, STATE_FIN_WAIT_2, STATE_TIME_WAIT, STATE_CLOSING, STATE_CLOSE_WAIT, STATE_LAST_ACK,
  STATE_ESTABLISHED, STATE_CLOSED,
} from "../../assembly/tcp/state";
import { setTimeWaitMs, statRstIgnoredTimeWait } from "../../assembly/tcp/config";
import { EV_CLOSED } from "../../assembly/tcp/codes";
import { tcbActiveTimers, TF_FW2_TIMEOUT } from "../../assembly/tcp/tcb";
import { timers } from "../../assembly/time/clock";

const FA: u8 = TCP_FLAG_FIN | TCP_FLAG_ACK;

describe("active close", () => {
  test("FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT; IT-TCP-3: the endpoint leaves after timeWaitMs", () => {
    k.setup();
    setTimeWaitMs(5000);
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    expect(tcpClose(c)).toBe(0);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(FA);
    expect(rout.seq).toBe(iss + 1);
    expect(tcpState(c)).toBe(STATE_FIN_WAIT_1);
    tmpl(TCP_FLAG_ACK, 1001, iss + 2); inject();
    expect(tcpState(c)).toBe(STATE_FIN_WAIT_2);
    tmpl(FA, 1001, iss + 2); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.ack).toBe(1002);
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
    expect(tcbActiveTimers(k.ptrOf(c))).toBe(1); // only the TIME-WAIT timer
    expect(k.inUseCount()).toBe(2);
    advance(4999);
    expect(k.inUseCount()).toBe(2);
    advance(1);
    expect(k.inUseCount()).toBe(1); // only the listener remains
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    setTimeWaitMs(60000);
  });
  test("an orphaned FIN-WAIT-2 ends after timeWaitMs; its timeout rides on timer[0] without a queue operation", () => {
    k.setup();
    setTimeWaitMs(5000);
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    const p = k.ptrOf(c);
    expect(tcpClose(c)).toBe(0); // detached: an orphan
    expect(next()).toBe(true);
    expect(rout.flags).toBe(FA);
    const ops = timers.totalScheduled + timers.totalCancelled + timers.fifoScheduled + timers.fifoCancelled;
    tmpl(TCP_FLAG_ACK, 1001, iss + 2); inject(); // our FIN acknowledged
    expect(tcpState(c)).toBe(STATE_FIN_WAIT_2);
    // the lazily stopped retransmission node, still armed, carries the timeout
    expect(timers.totalScheduled + timers.totalCancelled + timers.fifoScheduled + timers.fifoCancelled).toBe(ops);
    expect((k.tcbOf(c).flags & TF_FW2_TIMEOUT) != 0).toBe(true);
    expect(k.tcbOf(c).rtxDeadline - <u32>timers.now).toBe(5000);
    expect(tcbActiveTimers(p)).toBe(1);
    drain();
    advance(4999); // the node fires early (its RTO tick) and re-arms for the rest
    expect(pending()).toBe(0);
    expect(k.inUseCount()).toBe(2);
    expect(tcpState(c)).toBe(STATE_FIN_WAIT_2);
    advance(1);
    expect(k.inUseCount()).toBe(1); // only the listener
    expect(pending()).toBe(0); // no retransmission, no RST
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    setTimeWaitMs(60000);
  });
  test("TIME-WAIT: RFC 1337 ignores an exact RST; a retransmitted FIN is re-ACKed and restarts the timer", () => {
    k.setup();
    setTimeWaitMs(1000);
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    tcpClose(c); drain();
    tmpl(FA, 1001, iss + 2); inject(); drain();
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
    tmpl(TCP_FLAG_RST, 1002, 0); inject();
    expect(statRstIgnoredTimeWait).toBe(1);
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
    advance(600);
    tmpl(FA, 1001, iss + 2); inject();
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1002);
    advance(600); // 1200 ms after entry, 600 after the restart
    expect(k.inUseCount()).toBe(2);
    advance(400);
    expect(k.inUseCount()).toBe(1);
    setTimeWaitMs(60000);
  });
  test("simultaneous close: FIN-WAIT-1 + FIN → CLOSING → ACK → TIME-WAIT", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    tcpShutdown(c); drain();
    tmpl(FA, 1001, iss + 1); inject(); // their FIN, not acknowledging ours
    expect(tcpState(c)).toBe(STATE_CLOSING);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1002);
    tmpl(TCP_FLAG_ACK, 1002, iss + 2); inject();
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
  });
  test("FIN and ACK together in FIN-WAIT-1 go straight to TIME-WAIT", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    tcpShutdown(c); drain();
    tmpl(FA, 1001, iss + 2); inject();
    expect(tcpState(c)).toBe(STATE_TIME_WAIT);
  });
});

describe("passive close", () => {
  test("CLOSE-WAIT → shutdown → LAST-ACK → ACK → CLOSED (EV_CLOSED, freed by close)", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    tmpl(FA, 1001, iss + 1); inject();
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1002);
    expect(tcpState(c)).toBe(STATE_CLOSE_WAIT);
    tcpShutdown(c);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(FA);
    expect(tcpState(c)).toBe(STATE_LAST_ACK);
    tmpl(TCP_FLAG_ACK, 1002, iss + 2); inject();
    expect(k.findEvent(EV_CLOSED)).toBeGreaterThanOrEqual(0);
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(k.inUseCount()).toBe(2);
    tcpClose(c);
    expect(k.inUseCount()).toBe(1);
    expect(timers.active).toBe(0);
  });
  test("data queued before shutdown goes out before the FIN", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const iss = k.lastIss;
    const src = heap.alloc(100);
    tcpSend(c, src, 100);
    tcpShutdown(c);
    let sawFin = false;
    let bytes: u32 = 0;
    while (next()) {
      bytes += rout.payloadLen;
      if ((rout.flags & TCP_FLAG_FIN) != 0) { sawFin = true; expect(rout.seq + rout.payloadLen).toBe(iss + 101); }
    }
    expect(bytes).toBe(100);
    expect(sawFin).toBe(true);
  });
});

describe("IT-TCP-1 closing cancels all timers", () => {
  test("abort with retransmit, delayed-ACK and keepalive timers pending leaves none", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tcpSetOption(c, OPT_KEEPALIVE, 1);
    const src = heap.alloc(100);
    tcpSend(c, src, 100); // arms retransmit
    tmpl(TCP_FLAG_PSH | TCP_FLAG_ACK, 1001, k.lastIss + 1); inject(10); // arms delayed ACK
    const p = k.ptrOf(c);
    expect(tcbActiveTimers(p)).toBe(3);
    drain();
    expect(tcpAbort(c)).toBe(0);
    expect(next()).toBe(true);
    expect(rout.flags & TCP_FLAG_RST).toBe(TCP_FLAG_RST);
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    expect(k.inUseCount()).toBe(1);
    advance(10000000); // nothing fires for the dead record
    expect(pending()).toBe(0);
  });
  test("close with unread data sends RST and frees at once (RFC 2525 §2.17)", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(TCP_FLAG_PSH | TCP_FLAG_ACK, 1001, k.lastIss + 1); inject(10);
    tcpClose(c);
    expect(next()).toBe(true);
    expect(rout.flags & TCP_FLAG_RST).toBe(TCP_FLAG_RST);
    expect(k.inUseCount()).toBe(1);
    expect(timers.active).toBe(0);
  });
  test("100 connections opened and closed by both sides leave the pool and the wheel at baseline", () => {
    k.setup();
    setTimeWaitMs(10);
    const l = listener(80, 16);
    for (let i = 0; i < 100; i++) {
      const irs: u32 = 100000 * i;
      tmpl(TCP_FLAG_SYN, irs, 0); rin.srcPort = <u16>(30000 + i); inject();
      const gotSa = next();
      if (!gotSa) log<string>("no SYN-ACK at i=" + i.toString() + " inUse=" + k.inUseCount().toString());
      expect(gotSa).toBe(true);
      const iss = rout.seq;
      tmpl(TCP_FLAG_ACK, irs + 1, iss + 1); rin.srcPort = <u16>(30000 + i); inject();
      const h = tcpAccept(l);
      expect(h).not.toBe(0);
      tcpClose(h); // FIN
      const gotFin = next();
      if (!gotFin) log<string>("no FIN at i=" + i.toString() + " h=" + h.toString() + " inUse=" + k.inUseCount().toString());
      expect(gotFin).toBe(true);
      tmpl(FA, irs + 1, iss + 2); rin.srcPort = <u16>(30000 + i); inject(); // ACK of our FIN + their FIN
      drain();
      advance(10);
    }
    expect(k.inUseCount()).toBe(1);
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    setTimeWaitMs(60000);
  });
});
