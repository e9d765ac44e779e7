// SYN-SENT dialogues (RFC 9293 §3.10.7.3): active open, refused, bad ACK,
// simultaneous open, SYN retransmission and ETIMEDOUT.
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST } from "../../assembly/wire/tcp";
import { tcpOpen, tcpConnect, tcpState } from "../../assembly/tcp/api";
import { STATE_SYN_SENT, STATE_SYN_RECEIVED, STATE_ESTABLISHED, STATE_CLOSED } from "../../assembly/tcp/state";
import { EV_CONNECTED, EV_ERROR, E_CONNREFUSED, E_TIMEDOUT } from "../../assembly/tcp/codes";
import { setRetries } from "../../assembly/tcp/config";
import { timers } from "../../assembly/time/clock";

// The stack connects B:ephemeral → A:40000; incoming segments come from A:40000.
function connectOut(): u32 {
  const h = tcpOpen();
  expect(tcpConnect(h, k.B_ADDR, 0, k.A_ADDR, 40000)).toBe(0);
  return h;
}
function fromPeer(flags: u8, seq: u32, ack: u32): void {
  tmpl(flags, seq, ack);
  rin.srcPort = 40000;
  rin.dstPort = rout.srcPort; // our ephemeral port, from the last captured segment
}

describe("SYN-SENT", () => {
  test("SYN offers MSS/WS/SACK/TS from an ephemeral port; SYN,ACK → ESTABLISHED + ACK + EV_CONNECTED", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN);
    expect(rout.srcPort).toBeGreaterThanOrEqual(49152);
    expect(rout.mss).toBe(1460);
    expect(rout.hasWs).toBe(true);
    expect(rout.sackPermitted).toBe(true);
    expect(rout.hasTs).toBe(true);
    expect(rout.tsEcr).toBe(0);
    const iss = rout.seq;
    fromPeer(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, iss + 1);
    rin.mss = 1200;
    inject();
    expect(tcpState(h)).toBe(STATE_ESTABLISHED);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss + 1);
    expect(rout.ack).toBe(7001);
    expect(rout.hasTs).toBe(false); // the peer did not echo TS: not used
    expect(k.findEvent(EV_CONNECTED)).toBeGreaterThanOrEqual(0);
    expect(k.tcbOf(h).sndMss).toBe(1200);
    expect(k.runningTimers()).toBe(0); // the SYN timer stopped (lazily: snd.ts stopRtx)
  });
  test("RST,ACK acknowledging the SYN → ECONNREFUSED", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    fromPeer(TCP_FLAG_RST | TCP_FLAG_ACK, 0, rout.seq + 1);
    inject();
    const e = k.findEvent(EV_ERROR);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(k.eventArg(e)).toBe(E_CONNREFUSED);
    expect(tcpState(h)).toBe(STATE_CLOSED);
    expect(timers.active).toBe(0);
  });
  test("a RST whose ACK does not acknowledge the SYN is ignored; a bad ACK gets a RST", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    const iss = rout.seq;
    fromPeer(TCP_FLAG_RST | TCP_FLAG_ACK, 0, iss + 50);
    inject();
    expect(tcpState(h)).toBe(STATE_SYN_SENT);
    expect(pending()).toBe(0);
    fromPeer(TCP_FLAG_ACK, 0, iss + 50);
    inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    expect(rout.seq).toBe(iss + 50);
    expect(tcpState(h)).toBe(STATE_SYN_SENT);
  });
  test("simultaneous open: SYN → SYN-RECEIVED, SYN,ACK with the same ISS; ACK → ESTABLISHED", () => {
    k.setup();
    const h = connectOut();
    expect(next()).toBe(true);
    const iss = rout.seq;
    fromPeer(TCP_FLAG_SYN, 9000, 0);
    inject();
    expect(tcpState(h)).toBe(STATE_SYN_RECEIVED);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss);
    expect(rout.ack).toBe(9001);
    fromPeer(TCP_FLAG_SYN | TCP_FLAG_ACK, 9000, iss + 1);
    inject(); // their SYN,ACK: a SYN in SYN-RECEIVED of an active open → challenge ACK
    drain();
    fromPeer(TCP_FLAG_ACK, 9001, iss + 1);
    inject();
    expect(tcpState(h)).toBe(STATE_ESTABLISHED);
    expect(k.findEvent(EV_CONNECTED)).toBeGreaterThanOrEqual(0);
  });
  test("the SYN is retransmitted with backoff, then connect fails with ETIMEDOUT", () => {
    k.setup();
    setRetries(15, 2, 5);
    const h = connectOut();
    expect(next()).toBe(true);
    const iss = rout.seq;
    advance(1000);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss);
    expect(rout.flags).toBe(TCP_FLAG_SYN);
    advance(2000);
    expect(next()).toBe(true);
    advance(4000);
    const e = k.findEvent(EV_ERROR);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(k.eventArg(e)).toBe(E_TIMEDOUT);
    expect(tcpState(h)).toBe(STATE_CLOSED);
    expect(timers.active).toBe(0);
    setRetries(15, 6, 5);
  });
});
