// LISTEN and SYN-RECEIVED dialogues: handshake, options (HC-05), malformed options
// (HC-04), RST/ACK rules of RFC 9293 §3.10.7.1–2, syncache and accept-queue bounds,
// and IT-TCP-2 (a dropped SYN,ACK is retransmitted by the wheel).
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, pending, drain, advance, listener, handshake } from "./tcp-kit";
import { TCP_FLAG_SYN, TCP_FLAG_ACK, TCP_FLAG_RST, TCP_FLAG_PSH, TCP_FLAG_FIN } from "../../assembly/wire/tcp";
import { tcpAccept, tcpState, tcpClose, tcpSend } from "../../assembly/tcp/api";
import { STATE_SYN_RECEIVED, STATE_ESTABLISHED, STATE_LISTEN } from "../../assembly/tcp/state";
import { statSyncacheOverflow, statAcceptOverflow, statOptMalformed, statWsClamped, statDropNoEndpoint, setSynCacheMax, setRetries } from "../../assembly/tcp/config";
import { EV_ACCEPTED } from "../../assembly/tcp/codes";
import { TF_WS_OK } from "../../assembly/tcp/tcb";
import { timers } from "../../assembly/time/clock";

describe("CLOSED port (RFC 9293 §3.10.7.1)", () => {
  test("SYN to a port nobody listens on gets <SEQ=0><ACK=SEG.SEQ+1><RST,ACK>", () => {
    k.setup();
    tmpl(TCP_FLAG_SYN, 0x1000, 0);
    expect(inject()).toBe(3);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST | TCP_FLAG_ACK);
    expect(rout.seq).toBe(0);
    expect(rout.ack).toBe(0x1001);
    expect(statDropNoEndpoint).toBe(1);
  });
  test("ACK to a closed port gets <SEQ=SEG.ACK><RST>", () => {
    k.setup();
    tmpl(TCP_FLAG_ACK, 5, 0xabcdef01);
    inject(10);
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    expect(rout.seq).toBe(0xabcdef01);
  });
  test("a RST is never answered with a RST", () => {
    k.setup();
    tmpl(TCP_FLAG_RST | TCP_FLAG_ACK, 5, 6);
    inject();
    expect(pending()).toBe(0);
  });
});

describe("LISTEN (RFC 9293 §3.10.7.2)", () => {
  test("SYN → SYN,ACK with MSS; ACK → ESTABLISHED child in the accept queue", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 1000, 0);
    rin.mss = 1460;
    inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.ack).toBe(1001);
    expect(rout.mss).toBe(1460);
    expect(rout.hasWs).toBe(false); // RFC 7323 §2.2: only if the SYN had WS (HC-05 (e))
    expect(rout.hasTs).toBe(false);
    expect(rout.sackPermitted).toBe(false);
    expect(rout.srcPort).toBe(80);
    expect(rout.dstPort).toBe(40000);
    const iss = rout.seq;
    expect(tcpAccept(l)).toBe(0); // still half-open
    tmpl(TCP_FLAG_ACK, 1001, iss + 1);
    inject();
    expect(pending()).toBe(0);
    const ev = k.findEvent(EV_ACCEPTED);
    expect(ev).toBeGreaterThanOrEqual(0);
    const c = tcpAccept(l);
    expect(c).not.toBe(0);
    expect(k.eventArg(ev)).toBe(c);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect(tcpAccept(l)).toBe(0);
  });
  test("RST is ignored, ACK gets RST, plain data is dropped", () => {
    k.setup();
    listener();
    tmpl(TCP_FLAG_RST, 1, 0); inject();
    expect(pending()).toBe(0);
    tmpl(TCP_FLAG_ACK, 1, 777); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    expect(rout.seq).toBe(777);
    tmpl(TCP_FLAG_PSH, 1, 0); inject(5);
    expect(pending()).toBe(0);
  });
  test("HC-01: SYN with IRS 16 below the wrap is acknowledged as 0xFFFFFFF1", () => {
    k.setup();
    listener();
    tmpl(TCP_FLAG_SYN, 0xfffffff0, 0);
    rin.mss = 1460;
    inject();
    expect(next()).toBe(true);
    expect(rout.ack).toBe(0xfffffff1);
  });
  test("options: WS/TS/SACK-permitted answered only when offered; SYN,ACK window unscaled", () => {
    k.setup();
    listener();
    tmpl(TCP_FLAG_SYN, 50, 0);
    rin.mss = 1400; rin.hasWs = true; rin.wsShift = 7; rin.hasTs = true; rin.tsVal = 99; rin.sackPermitted = true;
    inject();
    expect(next()).toBe(true);
    expect(rout.hasWs).toBe(true);
    expect(rout.wsShift).toBeLessThanOrEqual(14);
    expect(rout.hasTs).toBe(true);
    expect(rout.tsEcr).toBe(99); // RFC 7323 §3.2
    expect(rout.sackPermitted).toBe(true);
    expect(rout.window).toBe(0xffff); // 64 KiB buffer: min(buffer, 65535) (HC-05 (d))
  });
});

describe("HC-05 SYN option values", () => {
  test("(a) WS=15 and WS=255: the peer's shift is used as 14", () => {
    for (let v = 0; v < 2; v++) {
      k.setup();
      const l = listener();
      // raw SYN: data offset 7, options 02 04 05 b4 | 01 03 03 (0f or ff) (emit would clamp)
      const raw = heap.alloc(64);
      memory.fill(raw, 0, 64);
      store<u16>(raw, bswap<u16>(40000)); store<u16>(raw + 2, bswap<u16>(80));
      store<u32>(raw + 4, bswap<u32>(100));
      store<u8>(raw + 12, 0x70); store<u8>(raw + 13, TCP_FLAG_SYN); store<u16>(raw + 14, 0xffff);
      store<u32>(raw + 20, bswap<u32>(0x020405b4));
      store<u32>(raw + 24, bswap<u32>(v == 0 ? 0x0103030f : 0x010303ff));
      k.injectRaw(raw, 28, true);
      expect(statWsClamped).toBe(1);
      expect(next()).toBe(true);
      expect(rout.hasWs).toBe(true);
      expect(rout.wsShift).toBeLessThanOrEqual(14);
      const iss = rout.seq;
      tmpl(TCP_FLAG_ACK, 101, iss + 1);
      rin.window = 0xffff;
      inject();
      const c = tcpAccept(l);
      expect(c).not.toBe(0);
      const t = k.tcbOf(c);
      expect(t.sndWndScale).toBe(14);
      expect(t.sndWnd).toBe(<u32>0xffff << 14);
      expect((t.flags & TF_WS_OK) != 0).toBe(true);
    }
  });
  test("(b) MSS 0 reads as 536; 2000 bytes go out in non-empty segments ≤ 536", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0);
    inject(); // no MSS option yet: set below by raw option
    drain();
    k.setup();
    const l2 = listener();
    // SYN with option 02 04 00 00
    const raw = heap.alloc(64);
    memory.fill(raw, 0, 64);
    store<u16>(raw, bswap<u16>(40000)); store<u16>(raw + 2, bswap<u16>(80));
    store<u32>(raw + 4, bswap<u32>(100));
    store<u8>(raw + 12, 0x60); store<u8>(raw + 13, TCP_FLAG_SYN); store<u16>(raw + 14, 0xffff);
    store<u32>(raw + 20, bswap<u32>(0x02040000));
    k.injectRaw(raw, 24, true);
    expect(next()).toBe(true);
    const iss = rout.seq;
    tmpl(TCP_FLAG_ACK, 101, iss + 1); inject();
    const c = tcpAccept(l2);
    expect(k.tcbOf(c).sndMss).toBe(536);
    const src = heap.alloc(2000);
    expect(tcpSend(c, src, 2000)).toBe(2000);
    let total: u32 = 0;
    let segs = 0;
    // ACK everything that arrives until 2000 bytes are seen
    for (let round = 0; round < 10 && total < 2000; round++) {
      while (next()) {
        expect(rout.payloadLen).toBeGreaterThan(0);
        expect(rout.payloadLen).toBeLessThanOrEqual(536);
        total += rout.payloadLen; segs++;
      }
      tmpl(TCP_FLAG_ACK, 101, iss + 1 + total); inject();
    }
    expect(total).toBe(2000);
    expect(segs).toBe(4);
    expect(l).not.toBe(0);
  });
  test("(c) no MSS option: segments carry ≤ 536 bytes", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    expect(next()).toBe(true);
    const iss = rout.seq;
    tmpl(TCP_FLAG_ACK, 101, iss + 1); inject();
    const c = tcpAccept(l);
    const src = heap.alloc(2000);
    tcpSend(c, src, 2000);
    let n: u32 = 0;
    while (next()) { expect(rout.payloadLen).toBeLessThanOrEqual(536); n += rout.payloadLen; }
    expect(n).toBe(3 * 536); // Nagle holds the 392-byte tail while data is unacknowledged
    tmpl(TCP_FLAG_ACK, 101, iss + 1 + n); inject();
    expect(next()).toBe(true);
    expect(rout.payloadLen).toBe(2000 - 3 * 536);
  });
});

describe("HC-04 malformed options on SYN: the listener answers normally and stays usable", () => {
  test("(a)–(d) each SYN gets a SYN,ACK without the bogus option values; (f) control", () => {
    k.setup();
    listener();
    const opts: u32[] = [0x50000000, 0x020105b4, 0x01010102, 0x080a0000, 0x020405b4];
    const raw = heap.alloc(64);
    for (let i = 0; i < opts.length; i++) {
      memory.fill(raw, 0, 64);
      store<u16>(raw, bswap<u16>(<u16>(41000 + i)));
      store<u16>(raw + 2, bswap<u16>(80));
      store<u32>(raw + 4, bswap<u32>(5000));
      store<u8>(raw + 12, 0x60); store<u8>(raw + 13, TCP_FLAG_SYN); store<u16>(raw + 14, 0xffff);
      store<u32>(raw + 20, bswap<u32>(opts[i]));
      expect(k.injectRaw(raw, 24, true)).toBe(0);
      expect(next()).toBe(true);
      expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
      expect(rout.hasTs).toBe(false);
      expect(rout.dstPort).toBe(<u16>(41000 + i));
    }
    expect(statOptMalformed).toBe(4);
  });
});

describe("syncache and accept queue bounds", () => {
  test("half-open entries beyond synCacheMax are dropped and counted", () => {
    k.setup();
    setSynCacheMax(2);
    listener();
    for (let i = 0; i < 3; i++) {
      tmpl(TCP_FLAG_SYN, 1000, 0);
      rin.srcPort = <u16>(40000 + i);
      inject();
    }
    expect(pending()).toBe(2);
    expect(statSyncacheOverflow).toBe(1);
    setSynCacheMax(256);
  });
  test("a full accept queue drops further SYNs (counted); accept() makes room", () => {
    k.setup();
    const l = listener(80, 1);
    const c1 = handshake(l, 100);
    expect(c1).not.toBe(0);
    // put c1 back? no: accept took it. Fill the queue again with a second connection.
    tmpl(TCP_FLAG_SYN, 200, 0); rin.srcPort = 40001; inject();
    expect(next()).toBe(true);
    const iss2 = rout.seq;
    tmpl(TCP_FLAG_ACK, 201, iss2 + 1); rin.srcPort = 40001; inject();
    // queue holds one child now; a third SYN is refused
    tmpl(TCP_FLAG_SYN, 300, 0); rin.srcPort = 40002; inject();
    expect(pending()).toBe(0);
    expect(statAcceptOverflow).toBe(1);
    expect(tcpAccept(l)).not.toBe(0);
    tmpl(TCP_FLAG_SYN, 300, 0); rin.srcPort = 40002; inject();
    expect(pending()).toBe(1);
  });
  test("closing a listener resets its queued children and frees everything", () => {
    k.setup();
    const l = listener(80, 4);
    tmpl(TCP_FLAG_SYN, 200, 0); inject();
    expect(next()).toBe(true);
    tmpl(TCP_FLAG_ACK, 201, rout.seq + 1); inject();
    expect(k.inUseCount()).toBe(2);
    expect(tcpClose(l)).toBe(0);
    expect(next()).toBe(true);
    expect(rout.flags & TCP_FLAG_RST).toBe(TCP_FLAG_RST);
    expect(k.inUseCount()).toBe(0);
    expect(timers.active).toBe(0);
  });
});

describe("SYN-RECEIVED", () => {
  test("IT-TCP-2: a dropped SYN,ACK is retransmitted by the wheel with backoff, then the entry expires", () => {
    k.setup();
    setRetries(15, 6, 2);
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    expect(next()).toBe(true); // the SYN,ACK "lost" on the way
    const iss = rout.seq;
    advance(999);
    expect(pending()).toBe(0);
    advance(1); // initial RTO 1 s (RFC 6298 §2.1)
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss);
    advance(1999);
    expect(pending()).toBe(0);
    advance(1); // backoff: 2 s
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss);
    expect(k.inUseCount()).toBe(2);
    advance(4000); // third expiry: retry limit 2 reached → half-open entry dropped
    expect(pending()).toBe(0);
    expect(k.inUseCount()).toBe(1);
    expect(k.tcbOf(l).synCount).toBe(0);
    expect(timers.active).toBe(0);
    expect(k.freedWithTimers).toBe(0);
    setRetries(15, 6, 5);
  });
  test("the retransmitted SYN,ACK completes the handshake when ACKed", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    drain();
    advance(1000);
    expect(next()).toBe(true);
    tmpl(TCP_FLAG_ACK, 101, rout.seq + 1); inject();
    const c = tcpAccept(l);
    expect(tcpState(c)).toBe(STATE_ESTABLISHED);
    expect(k.runningTimers()).toBe(0); // SYN,ACK timer stopped (lazily: snd.ts stopRtx)
    drain();
    advance(130000); // the stopped node fires without effect, then nothing is armed
    expect(pending()).toBe(0);
    expect(timers.active).toBe(0);
  });
  test("a duplicate SYN gets the SYN,ACK again; an ACK outside (ISS, SND.NXT] gets a RST", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    expect(next()).toBe(true);
    const iss = rout.seq;
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(rout.seq).toBe(iss);
    tmpl(TCP_FLAG_ACK, 101, iss + 5); inject();
    expect(next()).toBe(true);
    expect(rout.flags).toBe(TCP_FLAG_RST);
    expect(rout.seq).toBe(iss + 5);
    expect(tcpAccept(l)).toBe(0);
  });
  test("RST with SEQ = RCV.NXT removes the half-open child (back to LISTEN only)", () => {
    k.setup();
    const l = listener();
    tmpl(TCP_FLAG_SYN, 100, 0); inject();
    drain();
    expect(k.inUseCount()).toBe(2);
    tmpl(TCP_FLAG_RST, 101, 0); inject();
    expect(k.inUseCount()).toBe(1);
    expect(tcpState(l)).toBe(STATE_LISTEN);
    expect(k.tcbOf(l).synCount).toBe(0);
    expect(timers.active).toBe(0);
  });
});
