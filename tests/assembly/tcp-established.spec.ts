// ESTABLISHED dialogues: in-order and out-of-order data across the 2^32 wrap (HC-01),
// FIN carrying data (HC-06), delayed ACK, RFC 5961 RST / SYN challenge ACKs, and the
// send side across the wrap.
import * as k from "./tcp-kit";
import * as tcp from "../../assembly/wire/tcp";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_PSH, TCP_FLAG_FIN } from "../../assembly/wire/tcp";
import { tcpState, tcpRecv, tcpSend } from "../../assembly/tcp/api";
import { STATE_ESTABLISHED, STATE_CLOSE_WAIT, STATE_CLOSED } from "../../assembly/tcp/state";
import { EV_PEER_CLOSED, EV_ERROR, EV_READABLE, E_CONNRESET } from "../../assembly/tcp/codes";
import { statChallengeAcks, statDropChecksum } from "../../assembly/tcp/config";
import { TCB_TIMER_RTX, tcbRtxRunning } from "../../assembly/tcp/tcb";
import { timerIsActive } from "../../assembly/time/timer";
import { timers } from "../../assembly/time/clock";

const PA: u8 = TCP_FLAG_PSH | TCP_FLAG_ACK;
let rbuf: usize = 0;
function readAll(c: u32): i32 {
  if (rbuf == 0) rbuf = heap.alloc(65536);
  return tcpRecv(c, rbuf, 65536);
}

describe("HC-01 receive side across 2^32", () => {
  test("in-order, hole, fill, exact RST — all after the wrap", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 0xfffffff0);
    expect(c).not.toBe(0);
    const iss = k.lastIss;
    // 4. 100 bytes ending at 0x54
    tmpl(PA, 0xfffffff1, iss + 1); inject(100, 0);
    advance(40); // delayed ACK
    expect(next()).toBe(true);
    expect(rout.ack).toBe(0x55);
    expect(readAll(c)).toBe(100);
    expect(load<u8>(rbuf + 99)).toBe(99);
    // 5. hole 0x55..0xB8: duplicate ACK 0x55 at once, nothing delivered
    tmpl(PA, 0xb9, iss + 1); inject(100, 200);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(0x55);
    expect(readAll(c)).toBeLessThan(0); // E_AGAIN
    // 6. fill: ACK 0x11D at once, 200 bytes in order
    tmpl(PA, 0x55, iss + 1); inject(100, 100);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(0x11d);
    expect(readAll(c)).toBe(200);
    for (let i = 0; i < 200; i++) expect(load<u8>(rbuf + i)).toBe(<u8>(100 + i));
    // 7. RST exactly at RCV.NXT resets
    tmpl(TCP_FLAG_RST, 0x11d, 0); inject();
    const e = k.findEvent(EV_ERROR);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(k.eventArg(e)).toBe(E_CONNRESET);
    expect(tcpState(c)).toBe(STATE_CLOSED);
    expect(timers.active).toBe(0);
  });
  test("send side: ISS fixture at 0xFFFFFF00, 1000 bytes wrap, ACK 0x2E9 acknowledges all and stops the timer", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 5000);
    const t = k.tcbOf(c);
    t.iss = 0xffffff00; t.sndUna = 0xffffff01; t.sndNxt = 0xffffff01; t.sndMax = 0xffffff01;
    t.sndWl2 = 0xffffff01;
    t.flags |= 1; // noDelay
    const src = heap.alloc(1000);
    expect(tcpSend(c, src, 1000)).toBe(1000);
    let expectSeq: u32 = 0xffffff01;
    let total: u32 = 0;
    while (next()) { expect(rout.seq).toBe(expectSeq); expectSeq += rout.payloadLen; total += rout.payloadLen; }
    expect(total).toBe(1000);
    expect(tcbRtxRunning(k.ptrOf(c))).toBe(true);
    expect(timerIsActive(k.ptrOf(c) + TCB_TIMER_RTX)).toBe(true);
    tmpl(TCP_FLAG_ACK, 5001, 0x2e9); inject();
    expect(t.sndUna).toBe(0x2e9);
    // The timer stops (RFC 6298 §5.2). The stop is lazy (snd.ts stopRtx): the node may
    // stay armed, but it fires without effect — no retransmission, and then it is idle.
    expect(tcbRtxRunning(k.ptrOf(c))).toBe(false);
    drain();
    advance(130000); // past any RTO (rtoMaxMs = 120 s)
    expect(pending()).toBe(0);
    expect(timerIsActive(k.ptrOf(c) + TCB_TIMER_RTX)).toBe(false);
    expect(t.sndUna).toBe(0x2e9);
  });
});

describe("HC-06 FIN carrying data", () => {
  test("(a) FIN,PSH,ACK with 848 bytes: ACK R+849, 848 bytes then EOF, CLOSE-WAIT", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    tmpl(TCP_FLAG_FIN | PA, R, k.lastIss + 1); inject(848);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(R + 849);
    expect(readAll(c)).toBe(848);
    expect(readAll(c)).toBe(0); // end of stream
    expect(k.findEvent(EV_PEER_CLOSED)).toBeGreaterThanOrEqual(0);
    expect(tcpState(c)).toBe(STATE_CLOSE_WAIT);
  });
  test("(b) FIN beyond a hole waits for the hole", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const R: u32 = 1001;
    tmpl(TCP_FLAG_FIN | PA, R + 100, k.lastIss + 1); inject(100, 100);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(R);
    expect(k.findEvent(EV_PEER_CLOSED)).toBe(-1);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    tmpl(PA, R, k.lastIss + 1); inject(100, 0);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(R + 201);
    expect(readAll(c)).toBe(200);
    for (let i = 0; i < 200; i++) expect(load<u8>(rbuf + i)).toBe(<u8>i);
    expect(k.findEvent(EV_PEER_CLOSED)).toBeGreaterThanOrEqual(0);
    expect(tcpState(c)).toBe(STATE_CLOSE_WAIT);
  });
});

describe("ACK generation", () => {
  test("delayed ACK fires within delAckMs; every second full segment is ACKed at once", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(PA, 1001, k.lastIss + 1); inject(1460);
    expect(pending()).toBe(0);
    advance(39);
    expect(pending()).toBe(0);
    advance(1);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1001 + 1460);
    tmpl(PA, 2461, k.lastIss + 1); inject(1460);
    expect(pending()).toBe(0);
    tmpl(PA, 3921, k.lastIss + 1); inject(1460);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(3921 + 1460);
    expect(c).not.toBe(0);
  });
  test("SACK blocks describe held out-of-order data (RFC 2018)", () => {
    k.setup();
    listener();
    tmpl(TCP_FLAG_SYN, 1000, 0); rin.mss = 1460; rin.sackPermitted = true; inject();
    expect(next()).toBe(true);
    const iss = rout.seq;
    tmpl(TCP_FLAG_ACK, 1001, iss + 1); inject();
    tmpl(PA, 1101, iss + 1); inject(50);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1001);
    expect(rout.sackCount).toBe(1);
    expect(rout.sackLeft(0)).toBe(1101);
    expect(rout.sackRight(0)).toBe(1151);
    tmpl(PA, 1201, iss + 1); inject(10);
    expect(next()).toBe(true);
    expect(rout.sackCount).toBe(2);
    expect(rout.sackLeft(0)).toBe(1201); // most recent first
  });
  test("HC-02 (a): a corrupt checksum is dropped silently, the good copy is ACKed", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    const buf = heap.alloc(128);
    tmpl(PA, 1001, k.lastIss + 1);
    const h = tcp.emit(rin, buf);
    for (let i: u32 = 0; i < 10; i++) store<u8>(buf + h + i, <u8>(i + 1));
    tcp.fillChecksum(buf, h + 10, k.A_ADDR, k.B_ADDR);
    tcp.setChecksumField(buf, tcp.checksumField(buf) ^ 1);
    expect(k.injectRaw(buf, h + 10, false)).toBe(2);
    expect(statDropChecksum).toBe(1);
    advance(100);
    expect(pending()).toBe(0);
    expect(readAll(c)).toBeLessThan(0);
    expect(k.tcbOf(c).rcvNxt).toBe(1001);
    expect(k.injectRaw(buf, h + 10, true)).toBe(0);
    advance(40);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1011);
    expect(readAll(c)).toBe(10);
  });
});

describe("RFC 5961", () => {
  test("an in-window RST that is not exactly RCV.NXT gets a challenge ACK and changes nothing", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(TCP_FLAG_RST, 1001 + 10, 0); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.ack).toBe(1001);
    expect(statChallengeAcks).toBe(1);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
  });
  test("an out-of-window RST is dropped silently", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(TCP_FLAG_RST, 1001 + 200000, 0); inject();
    expect(pending()).toBe(0);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
  });
  test("a SYN in ESTABLISHED gets a challenge ACK, no reset", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(TCP_FLAG_SYN, 1001, 0); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.ack).toBe(1001);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
  });
  test("an unacceptable data segment is answered with an ACK and not delivered", () => {
    k.setup();
    const l = listener();
    const c = handshake(l, 1000);
    tmpl(PA, 1001 - 500, k.lastIss + 1); inject(100);
    expect(next()).toBe(true);
    expect(rout.ack).toBe(1001);
    expect(readAll(c)).toBeLessThan(0);
    expect(k.findEvent(EV_READABLE)).toBe(-1);
  });
});
