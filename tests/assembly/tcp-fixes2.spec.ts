// Dialogues for the second round of TCP fixes (each failed before its fix):
//   - data beyond a FIN that is held beyond a hole (RFC 9293 §3.4, §3.10.7.4 seventh and
//     eighth steps): never delivered, never acknowledged; the FIN still closes the stream;
//   - CLOSE in SYN-RECEIVED (simultaneous open), RFC 9293 §3.10.4: the queued FIN moves
//     the connection to FIN-WAIT-1 when the handshake completes, every path ends in
//     CLOSED and a closed handle's record is freed;
//   - RFC 6298 §5.7: after a retransmitted SYN or SYN,ACK without an RTT sample, the RTO
//     is 3 s when data transmission begins.
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_PSH, TCP_FLAG_FIN, TCP_FLAG_RST } from "../../assembly/wire/tcp";
import { tcpOpen, tcpConnect, tcpState, tcpRecv, tcpSend, tcpShutdown, tcpClose, tcpAccept, tcpSetOption, OPT_NODELAY } from "../../assembly/tcp/api";
import {
  STATE_ESTABLISHED, STATE_CLOSE_WAIT, STATE_CLOSED, STATE_SYN_RECEIVED, STATE_FIN_WAIT_1, STATE_FIN_WAIT_2,
  STATE_TIME_WAIT, STATE_CLOSING,
} from "../../assembly/tcp/state";
import { EV_PEER_CLOSED, EV_CLOSED, EV_CONNECTED } from "../../assembly/tcp/codes";
import { timeWaitMs } from "../../assembly/tcp/config";
import { timers } from "../../assembly/time/clock";

const PA: u8 = TCP_FLAG_PSH | TCP_FLAG_ACK;
const FPA: u8 = TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK;
let rbuf: usize = 0;
function readAll(c: u32): i32 {
  if (rbuf == 0) rbuf = heap.alloc(65536);
  return tcpRecv(c, rbuf, 65536);
}
/** The last ACK number B sent among the captured segments (0 when none). */
function lastAck(): u32 {
  let a: u32 = 0;
  while (next()) a = rout.ack;
  return a;
}
/** 200 bytes 0..199 delivered, then EOF, EV_PEER_CLOSED, CLOSE-WAIT. */
function expectStreamOf200(c: u32): void {
  expect(readAll(c)).toBe(200);
  for (let i = 0; i < 200; i++) expect(load<u8>(rbuf + i)).toBe(<u8>i);
  expect(readAll(c)).toBe(0); // end of stream
  expect(k.findEvent(EV_PEER_CLOSED)).toBeGreaterThanOrEqual(0);
  expect(tcpState(c)).toBe(STATE_CLOSE_WAIT);
}

describe("data beyond a FIN held beyond a hole (RFC 9293 §3.4, §3.10.7.4)", () => {
  test("[100,200)+FIN, then [200,300) beyond the FIN, then [0,100): 200 bytes, EOF, CLOSE-WAIT, ACK R+201", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    const A = k.lastIss + 1;
    tmpl(FPA, R + 100, A); inject(100, 100);
    expect(lastAck()).toBe(R);
    tmpl(PA, R + 200, A); inject(100, 200); // beyond the peer's own FIN: not data
    expect(lastAck()).toBe(R); // still a duplicate ACK: nothing new is held
    expect(k.tcbOf(c).oooCount).toBe(1);
    tmpl(PA, R, A); inject(100, 0);
    expect(lastAck()).toBe(R + 201);
    expectStreamOf200(c);
    // The peer retransmits its FIN: re-ACKed, nothing more delivered.
    tmpl(TCP_FLAG_FIN | TCP_FLAG_ACK, R + 200, A); inject();
    expect(lastAck()).toBe(R + 201);
    expect(readAll(c)).toBe(0);
  });
  test("data beyond first: [200,300), then [100,200)+FIN, then [0,100): the held range is cut at the FIN", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    const A = k.lastIss + 1;
    tmpl(PA, R + 200, A); inject(100, 200);
    tmpl(FPA, R + 100, A); inject(100, 100);
    expect(lastAck()).toBe(R);
    expect(k.tcbOf(c).oooCount).toBe(1);
    tmpl(PA, R, A); inject(100, 0);
    expect(lastAck()).toBe(R + 201);
    expectStreamOf200(c);
  });
  test("an in-order FIN with data held beyond it: [200,300) held, then [0,200)+FIN → 200 bytes and EOF", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    const A = k.lastIss + 1;
    tmpl(PA, R + 200, A); inject(100, 200);
    drain();
    tmpl(FPA, R, A); inject(200, 0);
    expect(lastAck()).toBe(R + 201);
    expectStreamOf200(c);
  });
  test("a FIN held at R+200, then one in-order segment [0,300) straddling it: the bytes past the FIN are dropped", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    const A = k.lastIss + 1;
    tmpl(TCP_FLAG_FIN | TCP_FLAG_ACK, R + 200, A); inject();
    expect(lastAck()).toBe(R);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    tmpl(PA, R, A); inject(300, 0);
    expect(lastAck()).toBe(R + 201);
    expectStreamOf200(c);
  });
  test("a second FIN at another place does not move the first; the stream still ends at the first", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    const A = k.lastIss + 1;
    tmpl(FPA, R + 100, A); inject(100, 100); // FIN at R+200
    tmpl(FPA, R + 250, A); inject(50, 250); // a FIN at R+300 and data beyond R+200: ignored
    expect(lastAck()).toBe(R);
    tmpl(PA, R, A); inject(100, 0);
    expect(lastAck()).toBe(R + 201);
    expectStreamOf200(c);
  });
});

// The stack connects B:ephemeral → A:40000; incoming segments come from A:40000.
let ourPort: u16 = 0;
function connectOut(): u32 {
  const h = tcpOpen();
  expect(tcpConnect(h, k.B_ADDR, 0, k.A_ADDR, 40000)).toBe(0);
  return h;
}
function fromPeer(flags: u8, seq: u32, ack: u32): void {
  tmpl(flags, seq, ack);
  rin.srcPort = 40000;
  rin.dstPort = ourPort;
}
/** Active open crossed by the peer's bare SYN (seq 9000): B is in SYN-RECEIVED. Returns B's ISS. */
function simultaneousOpen(h: u32): u32 {
  expect(next()).toBe(true);
  expect(rout.flags).toBe(TCP_FLAG_SYN);
  ourPort = rout.srcPort;
  const iss = rout.seq;
  fromPeer(TCP_FLAG_SYN, 9000, 0);
  inject();
  expect(tcpState(h)).toBe(STATE_SYN_RECEIVED);
  drain(); // our SYN,ACK
  return iss;
}

describe("CLOSE in SYN-RECEIVED (RFC 9293 §3.10.4)", () => {
  test("shutdown() during a simultaneous open: nothing sent yet; the final ACK → FIN-WAIT-1 and the FIN; then FIN-WAIT-2, TIME-WAIT, CLOSED", () => {
    k.setup();
    const h = connectOut();
    const iss = simultaneousOpen(h);
    expect(tcpShutdown(h)).toBe(0);
    expect(tcpState(h)).toBe(STATE_SYN_RECEIVED);
    expect(pending()).toBe(0); // the FIN waits for ESTABLISHED
    fromPeer(TCP_FLAG_ACK, 9001, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_FIN_WAIT_1);
    expect(k.findEvent(EV_CONNECTED)).toBeGreaterThanOrEqual(0);
    expect(next()).toBe(true);
    expect(rout.flags & TCP_FLAG_FIN).toBe(TCP_FLAG_FIN);
    expect(rout.seq).toBe(iss + 1);
    fromPeer(TCP_FLAG_ACK, 9001, iss + 2); // our FIN acknowledged
    inject();
    expect(tcpState(h)).toBe(STATE_FIN_WAIT_2);
    fromPeer(TCP_FLAG_FIN | TCP_FLAG_ACK, 9001, iss + 2);
    inject();
    expect(tcpState(h)).toBe(STATE_TIME_WAIT);
    expect(lastAck()).toBe(9002);
    advance(<u64>timeWaitMs);
    expect(tcpState(h)).toBe(STATE_CLOSED);
    expect(k.findEvent(EV_CLOSED)).toBeGreaterThanOrEqual(0);
    expect(timers.active).toBe(0);
  });
  test("close() during a simultaneous open with data queued: data and FIN after the final ACK; the peer's FIN; the record is freed", () => {
    k.setup();
    const h = connectOut();
    const iss = simultaneousOpen(h);
    if (rbuf == 0) rbuf = heap.alloc(65536);
    memory.fill(rbuf, 7, 10);
    expect(tcpSend(h, rbuf, 10)).toBe(10);
    expect(tcpClose(h)).toBe(0);
    expect(pending()).toBe(0);
    fromPeer(TCP_FLAG_ACK, 9001, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_FIN_WAIT_1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
    expect(rout.payloadLen).toBe(10);
    expect(rout.flags & TCP_FLAG_FIN).toBe(TCP_FLAG_FIN);
    fromPeer(TCP_FLAG_ACK, 9001, iss + 12);
    inject();
    expect(tcpState(h)).toBe(STATE_FIN_WAIT_2);
    fromPeer(TCP_FLAG_FIN | TCP_FLAG_ACK, 9001, iss + 12);
    inject();
    expect(lastAck()).toBe(9002);
    advance(<u64>timeWaitMs);
    expect(k.inUseCount()).toBe(0); // the detached record is gone
    expect(k.freedWithTimers).toBe(0);
    expect(timers.active).toBe(0);
  });
  test("close() during a simultaneous open, the final ACK carries the peer's FIN: CLOSING, then TIME-WAIT, the record is freed", () => {
    k.setup();
    const h = connectOut();
    const iss = simultaneousOpen(h);
    expect(tcpClose(h)).toBe(0);
    fromPeer(TCP_FLAG_FIN | TCP_FLAG_ACK, 9001, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_CLOSING);
    let sawFin = false, ack: u32 = 0;
    while (next()) { if ((rout.flags & TCP_FLAG_FIN) != 0) { sawFin = true; expect(rout.seq).toBe(iss + 1); } ack = rout.ack; }
    expect(sawFin).toBe(true);
    expect(ack).toBe(9002);
    fromPeer(TCP_FLAG_ACK, 9002, iss + 2);
    inject();
    expect(tcpState(h)).toBe(STATE_TIME_WAIT);
    advance(<u64>timeWaitMs);
    expect(k.inUseCount()).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    expect(timers.active).toBe(0);
  });
});

/** Sends 100 bytes on `h` (noDelay) and returns the ms until the first retransmission of them (0: none within 10 s). */
function firstRetransmitAfter(h: u32, seq: u32): u32 {
  if (rbuf == 0) rbuf = heap.alloc(65536);
  expect(tcpSetOption(h, OPT_NODELAY, 1)).toBe(0);
  expect(tcpSend(h, rbuf, 100)).toBe(100);
  expect(next()).toBe(true);
  expect(rout.seq).toBe(seq);
  expect(rout.payloadLen).toBe(100);
  drain();
  for (let ms: u32 = 1; ms <= 10000; ms++) {
    advance(1);
    while (next()) if (rout.payloadLen == 100 && rout.seq == seq) { drain(); return ms; }
  }
  return 0;
}

describe("RFC 6298 §5.7: RTO of 3 s after a SYN timeout without an RTT sample", () => {
  test("active open: the SYN is retransmitted once, then SYN,ACK → RTO 3000 ms; the first data retransmission comes after 3 s", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    ourPort = rout.srcPort;
    const iss = rout.seq;
    advance(1000);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN); // retransmitted
    fromPeer(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_ESTABLISHED);
    expect(k.tcbOf(h).srtt).toBe(0);
    expect(k.tcbOf(h).rto).toBe(3000);
    drain();
    expect(firstRetransmitAfter(h, iss + 1)).toBe(3000);
  });
  test("active open without a SYN timeout keeps the initial 1 s (RFC 6298 §2.1)", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    ourPort = rout.srcPort;
    const iss = rout.seq;
    fromPeer(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, iss + 1);
    inject();
    drain();
    expect(k.tcbOf(h).rto).toBe(1000);
    expect(firstRetransmitAfter(h, iss + 1)).toBe(1000);
  });
  test("passive open: the SYN,ACK is retransmitted once, then the final ACK → RTO 3000 ms", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 1000, 0);
    rin.mss = 1460;
    inject();
    expect(next()).toBe(true);
    const iss = rout.seq;
    advance(1000);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK); // retransmitted
    tmpl(TCP_FLAG_ACK, 1001, iss + 1);
    inject();
    drain();
    const c = tcpAccept(l);
    expect(c).not.toBe(0);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect(k.tcbOf(c).rto).toBe(3000);
    expect(firstRetransmitAfter(c, iss + 1)).toBe(3000);
  });
  test("simultaneous open after a SYN timeout: RTO 3000 ms once ESTABLISHED", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    ourPort = rout.srcPort;
    const iss = rout.seq;
    advance(1000);
    drain(); // the retransmitted SYN
    fromPeer(TCP_FLAG_SYN, 9000, 0);
    inject();
    expect(tcpState(h)).toBe(STATE_SYN_RECEIVED);
    drain();
    fromPeer(TCP_FLAG_ACK, 9001, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_ESTABLISHED);
    expect(k.tcbOf(h).rto).toBe(3000);
  });
});

describe("a child never outlives its listener (RFC 9293 §3.10.7.1, §3.5.2)", () => {
  test("without a table to walk (the doubles): the listener is closed during the handshake, the final ACK gets <SEQ=SEG.ACK><CTL=RST> and the child is freed", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 1000, 0);
    rin.mss = 1460;
    inject();
    expect(next()).toBe(true);
    const iss = rout.seq;
    expect(tcpClose(l)).toBe(0);
    expect(k.inUseCount()).toBe(1); // the half-open child, until its ACK or its SYN,ACK timer
    tmpl(TCP_FLAG_ACK, 1001, iss + 1);
    inject(10, 0);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    expect(rout.seq).toBe(iss + 1);
    expect(pending()).toBe(0);
    expect(k.inUseCount()).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    expect(timers.active).toBe(0);
    expect(k.findEvent(EV_CONNECTED)).toBe(-1);
  });
});
