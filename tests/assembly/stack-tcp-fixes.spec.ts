// TCP bugs the integration exposed (two stacks on a 1500-byte MTU), each with the
// focused dialogue that pins its fix. Uses the engine's test kit (tcp-kit.ts).
import * as k from "./tcp-kit";
import * as tcp from "../../assembly/wire/tcp";
import { rin, rout, tmpl, inject, next, drain, listener } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_PSH } from "../../assembly/wire/tcp";
import { tcpAccept, tcpSend, tcpSetOption, OPT_NODELAY } from "../../assembly/tcp/api";
import { TCP_TS_OPT_SPACE } from "../../assembly/tcp/connect";

const PA: u8 = TCP_FLAG_PSH | TCP_FLAG_ACK;
let sbuf: usize = 0;
let lastIss: u32 = 0;

/** Passive open with timestamps, SACK-permitted and MSS 1460 from A; returns the child. */
function handshakeTs(irs: u32): u32 {
  const l = listener();
  tmpl(TCP_FLAG_SYN, irs, 0);
  rin.mss = 1460; rin.hasTs = true; rin.tsVal = 1000; rin.tsEcr = 0; rin.sackPermitted = true;
  inject();
  expect(next()).toBe(true);
  const iss = rout.seq;
  expect(rout.hasTs).toBe(true);
  tmpl(TCP_FLAG_ACK, irs + 1, iss + 1);
  rin.hasTs = true; rin.tsVal = 1001; rin.tsEcr = rout.tsVal;
  inject();
  drain();
  lastIss = iss;
  return tcpAccept(l);
}

describe("RFC 6691: options count against the MSS", () => {
  test("with timestamps a full segment carries MSS − 12 data bytes and fits the MTU", () => {
    k.setup();
    const c = handshakeTs(5000);
    expect(c).not.toBe(0);
    expect(<u32>k.tcbOf(c).sndMss).toBe(1460 - TCP_TS_OPT_SPACE);
    if (sbuf == 0) sbuf = heap.alloc(8192);
    tcpSetOption(c, OPT_NODELAY, 1);
    expect(tcpSend(c, sbuf, 4000)).toBe(4000);
    let segs = 0, data: u32 = 0;
    while (next()) {
      segs++;
      data += rout.payloadLen;
      // The peer's MSS 1460 bounds the whole TCP segment at 1460 + 20 bytes (an IP
      // datagram of 1500 bytes on the MTU that MSS was derived from).
      expect(rout.headerLen + rout.payloadLen).toBeLessThanOrEqual(1460 + 20);
      expect(rout.hasTs).toBe(true);
    }
    expect(data).toBe(4000);
    expect(segs).toBe(3); // 1448 + 1448 + 1104
  });

  test("SACK blocks never push a data segment beyond the MSS; pure ACKs keep them", () => {
    k.setup();
    const c = handshakeTs(7000);
    const iss = lastIss;
    // Hold out-of-order data (two ranges), so every ACK we send carries SACK blocks.
    tmpl(PA, 7001 + 1000, iss + 1); rin.hasTs = true; rin.tsVal = 1002; inject(100, 1);
    expect(next()).toBe(true);
    expect(rout.sackCount).toBe(1);
    tmpl(PA, 7001 + 3000, iss + 1); rin.hasTs = true; rin.tsVal = 1003; inject(100, 2);
    expect(next()).toBe(true);
    expect(rout.sackCount).toBe(2);
    drain();
    if (sbuf == 0) sbuf = heap.alloc(8192);
    tcpSetOption(c, OPT_NODELAY, 1);
    expect(tcpSend(c, sbuf, 3000)).toBe(3000);
    let data: u32 = 0;
    while (next()) {
      data += rout.payloadLen;
      expect(rout.headerLen + rout.payloadLen).toBeLessThanOrEqual(1460 + 20);
      // A full segment has no room for blocks; the short last one has.
      if (rout.payloadLen == 1460 - TCP_TS_OPT_SPACE) expect(rout.sackCount).toBe(0);
      else expect(rout.sackCount).toBe(2);
    }
    expect(data).toBe(3000);
  });
});

describe("pure ACKs after a retransmission timeout", () => {
  test("carry SND.MAX, not the rewound sndNxt: the peer accepts them and learns our ACK", () => {
    k.setup();
    const l = listener();
    const c = k.handshake(l, 9000);
    expect(c).not.toBe(0);
    const iss = k.lastIss;
    if (sbuf == 0) sbuf = heap.alloc(8192);
    tcpSetOption(c, OPT_NODELAY, 1);
    expect(tcpSend(c, sbuf, 3000)).toBe(3000); // 1460 + 1460 + 80, none acknowledged
    drain();
    k.advance(1000); // RTO: sndNxt goes back to sndUna, the first segment is resent
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1);
    drain();
    // The peer sends data; our ACK must say SEQ = iss + 1 + 3000 (everything we sent).
    tmpl(PA, 9001, iss + 1); inject(10, 3);
    k.advance(40);
    expect(next()).toBe(true);
    expect(rout.payloadLen).toBe(0);
    expect(rout.ack).toBe(9011);
    expect(rout.seq).toBe(iss + 1 + 3000);
  });
});
