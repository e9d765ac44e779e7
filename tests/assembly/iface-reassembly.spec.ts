// IPv4 reassembly (RFC 791 §3.2, RFC 815): in order, out of order, duplicate,
// overlapping, timed out (on virtual time), and every limit.
import * as eth from "../../assembly/wire/ethernet";
import * as ip from "../../assembly/wire/ipv4";
import * as icmp from "../../assembly/wire/icmpv4";
import { Ipv4Repr } from "../../assembly/wire/ipv4";
import { setTcpInput, ifaceSetTimings } from "../../assembly/iface/interface";
import { reasmLive } from "../../assembly/iface/reassembly";
import { timers } from "../../assembly/time/clock";
import {
  ifStat, ifDispositionSum, IF_RX_FRAMES, IF_IP_FRAG_HELD, IF_IP_REASM_OK, IF_ICMP_ECHO_REQUEST,
  IF_ICMP_TX_ECHO_REPLY, IF_IP_FRAG_DROP_OVERLAP, IF_IP_FRAG_DROP_DUPLICATE, IF_IP_REASM_TIMEOUT,
  IF_ICMP_TX_TIME_EXCEEDED, IF_IP_FRAG_DROP_TOO_BIG, IF_IP_FRAG_DROP_NO_BUFFER, IF_IP_FRAG_DROP_MALFORMED,
  IF_IP_FRAG_DROP_TOO_MANY_HOLES, IF_IP_DELIVER_TCP, IF_ICMP_ERR_SUPPRESSED,
} from "../../assembly/iface/stats";
import { ARP_REQUEST } from "../fixtures/frames";
import { setup, inject, injectMem, txPop, txPending, txDrain, poppedLen, advance, strayTimers, OUR_MAC, PEER_MAC, OUR_IP, PEER_IP } from "../fixtures/iface-harness";

const ECHO_LEN: u32 = 1008; // ICMP header + 1000 data bytes
let echoMsg: usize = 0;

/** A 1008-byte echo request message (pattern data, valid checksum). */
function makeEcho(): usize {
  const m = heap.alloc(ECHO_LEN);
  icmp.setMsgType(m, icmp.ICMP_ECHO_REQUEST);
  icmp.setCode(m, 0);
  icmp.setEchoIdent(m, 0x4242);
  icmp.setEchoSeq(m, 7);
  for (let i: u32 = 8; i < ECHO_LEN; i++) store<u8>(m + i, <u8>(i * 13 + 5));
  icmp.fillChecksum(m, ECHO_LEN);
  return m;
}

/** A frame carrying bytes [off, off+len) of `msg` as a fragment of datagram `id`. */
function frag(msg: usize, id: u16, off: u32, len: u32, mf: bool, proto: u8 = 1): usize {
  const f = heap.alloc(34 + len + 8);
  eth.emitHeader(f, OUR_MAC, PEER_MAC, eth.ETHERTYPE_IPV4);
  const ff: u16 = <u16>((off >> 3) | (mf ? ip.IPV4_FLAG_MF : 0));
  ip.emitHeader(f + 14, PEER_IP, OUR_IP, proto, len, id, ff, 64, 0);
  memory.copy(f + 34, msg + off, len);
  return f;
}

function send(msg: usize, id: u16, off: u32, len: u32, mf: bool, proto: u8 = 1): void {
  injectMem(frag(msg, id, off, len, mf, proto), 34 + len);
}

/** Sets up and learns the peer's MAC, so replies go straight to the TX ring. */
function fresh(slots: u32 = 2, maxBytes: u32 = 4096): void {
  setup(8, 8, slots, maxBytes);
  inject(ARP_REQUEST);
  txDrain();
  echoMsg = makeEcho();
}

/** Expects one echo reply carrying the same 1000 data bytes. */
function expectEchoReply(): void {
  expect(ifStat(IF_ICMP_TX_ECHO_REPLY)).toBe(1);
  const f = txPop();
  expect(poppedLen).toBe(34 + ECHO_LEN);
  const m = f + 34;
  expect(icmp.msgType(m)).toBe(icmp.ICMP_ECHO_REPLY);
  expect(icmp.verifyChecksum(m, ECHO_LEN)).toBe(true);
  expect(icmp.echoIdent(m)).toBe(0x4242);
  expect(memory.compare(m + 8, echoMsg + 8, ECHO_LEN - 8)).toBe(0);
}

describe("IPv4 reassembly", () => {
  test("in order: three fragments make one echo request, answered whole", () => {
    fresh();
    send(echoMsg, 1, 0, 400, true);
    send(echoMsg, 1, 400, 400, true);
    expect(ifStat(IF_IP_FRAG_HELD)).toBe(2);
    expect(txPending()).toBe(0);
    send(echoMsg, 1, 800, 208, false);
    expect(ifStat(IF_IP_REASM_OK)).toBe(1);
    expect(ifStat(IF_ICMP_ECHO_REQUEST)).toBe(1);
    expectEchoReply();
    expect(reasmLive()).toBe(0);
    expect(timers.active).toBe(1); // only the ARP entry's timer
  });

  test("out of order (last, first, middle) and (middle, last, first)", () => {
    fresh();
    send(echoMsg, 2, 800, 208, false);
    send(echoMsg, 2, 0, 400, true);
    send(echoMsg, 2, 400, 400, true);
    expectEchoReply();
    fresh();
    send(echoMsg, 3, 400, 400, true);
    send(echoMsg, 3, 800, 208, false);
    send(echoMsg, 3, 0, 400, true);
    expectEchoReply();
  });

  test("many small fragments in reverse order", () => {
    fresh();
    let off: u32 = 1000;
    send(echoMsg, 4, 1000, 8, false);
    while (off > 0) {
      off -= 8;
      send(echoMsg, 4, off, 8, true);
    }
    expectEchoReply();
  });

  test("an exact duplicate is dropped alone; the datagram still completes", () => {
    fresh();
    send(echoMsg, 5, 0, 400, true);
    send(echoMsg, 5, 0, 400, true);
    expect(ifStat(IF_IP_FRAG_DROP_DUPLICATE)).toBe(1);
    send(echoMsg, 5, 400, 400, true);
    send(echoMsg, 5, 800, 208, false);
    expectEchoReply();
  });

  test("overlapping fragments discard the whole datagram", () => {
    fresh();
    send(echoMsg, 6, 0, 400, true);
    send(echoMsg, 6, 392, 408, true); // overlaps [392, 400)
    expect(ifStat(IF_IP_FRAG_DROP_OVERLAP)).toBe(1);
    expect(reasmLive()).toBe(0);
    send(echoMsg, 6, 800, 208, false); // starts a new, incomplete datagram
    expect(txPending()).toBe(0);
    expect(ifStat(IF_IP_REASM_OK)).toBe(0);
    // An overlap that covers a received range from both sides.
    fresh();
    send(echoMsg, 7, 400, 8, true);
    send(echoMsg, 7, 0, 800, true);
    expect(ifStat(IF_IP_FRAG_DROP_OVERLAP)).toBe(1);
  });

  test("timed out: the datagram is dropped at the timeout and ICMP time exceeded (code 1) sent", () => {
    fresh();
    ifaceSetTimings(30000, 1000, 3, 15000);
    send(echoMsg, 8, 0, 400, true);
    send(echoMsg, 8, 800, 208, false);
    advance(14999);
    expect(reasmLive()).toBe(1);
    advance(1);
    expect(reasmLive()).toBe(0);
    expect(ifStat(IF_IP_REASM_TIMEOUT)).toBe(1);
    expect(strayTimers).toBe(0);
    // The first fragment (an echo request, a query) is here: time exceeded is sent.
    expect(ifStat(IF_ICMP_TX_TIME_EXCEEDED)).toBe(1);
    const te = txPop();
    expect(icmp.msgType(te + 34)).toBe(icmp.ICMP_TIME_EXCEEDED);
    expect(load<u8>(te + 34 + 8 + 20)).toBe(icmp.ICMP_ECHO_REQUEST); // quoted data
    // The missing middle arrives too late: it starts a new datagram, which is held.
    send(echoMsg, 8, 400, 400, true);
    expect(ifStat(IF_IP_REASM_OK)).toBe(0);
    expect(reasmLive()).toBe(1);
  });

  test("timed out TCP datagram with its first fragment: ICMP time exceeded quotes it", () => {
    fresh();
    send(echoMsg, 9, 0, 400, true, 6);
    advance(30000);
    expect(ifStat(IF_IP_REASM_TIMEOUT)).toBe(1);
    expect(ifStat(IF_ICMP_TX_TIME_EXCEEDED)).toBe(1);
    const f = txPop();
    const m = f + 34;
    expect(icmp.msgType(m)).toBe(icmp.ICMP_TIME_EXCEEDED);
    expect(icmp.code(m)).toBe(icmp.ICMP_TIME_EXCEEDED_REASSEMBLY);
    expect(icmp.verifyChecksum(m, poppedLen - 34)).toBe(true);
    expect(poppedLen - 34).toBe(8 + 20 + 8);
    expect(ip.ident(m + 8)).toBe(9);
  });

  test("no time exceeded about an ICMP error datagram (RFC 1122 §3.2.2)", () => {
    fresh();
    const m = makeEcho();
    icmp.setMsgType(m, icmp.ICMP_DEST_UNREACH);
    send(m, 13, 0, 400, true);
    advance(30000);
    expect(ifStat(IF_IP_REASM_TIMEOUT)).toBe(1);
    expect(ifStat(IF_ICMP_TX_TIME_EXCEEDED)).toBe(0);
    expect(ifStat(IF_ICMP_ERR_SUPPRESSED)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("without the first fragment no time exceeded is sent", () => {
    fresh();
    send(echoMsg, 10, 400, 400, true, 6);
    advance(30000);
    expect(ifStat(IF_IP_REASM_TIMEOUT)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("reassembled TCP is handed to the hook whole", () => {
    fresh();
    setTcpInput((d: Ipv4Repr, p: usize, len: u32): void => {
      expect(len).toBe(ECHO_LEN);
      expect(d.payloadLen).toBe(ECHO_LEN);
      expect(memory.compare(p, echoMsg, ECHO_LEN)).toBe(0);
    });
    send(echoMsg, 11, 400, 400, true, 6);
    send(echoMsg, 11, 0, 400, true, 6);
    send(echoMsg, 11, 800, 208, false, 6);
    expect(ifStat(IF_IP_DELIVER_TCP)).toBe(1);
  });
});

describe("IPv4 reassembly limits", () => {
  test("a datagram longer than the buffer is dropped (TOO_BIG) and its record freed", () => {
    fresh(2, 1000);
    send(echoMsg, 12, 0, 400, true);
    send(echoMsg, 12, 800, 208, false); // ends at 1008 > 1000
    expect(ifStat(IF_IP_FRAG_DROP_TOO_BIG)).toBe(1);
    expect(reasmLive()).toBe(0);
    expect(timers.active).toBe(1);
  });

  test("more datagrams than records: the newcomer is dropped (NO_BUFFER)", () => {
    fresh(2);
    send(echoMsg, 20, 0, 400, true);
    send(echoMsg, 21, 0, 400, true);
    send(echoMsg, 22, 0, 400, true);
    expect(ifStat(IF_IP_FRAG_DROP_NO_BUFFER)).toBe(1);
    expect(reasmLive()).toBe(2);
  });

  test("reassembly disabled (0 records): every fragment is NO_BUFFER", () => {
    fresh(0);
    send(echoMsg, 23, 0, 400, true);
    expect(ifStat(IF_IP_FRAG_DROP_NO_BUFFER)).toBe(1);
  });

  test("MF with a length that is not a multiple of 8, or empty, is malformed", () => {
    fresh();
    send(echoMsg, 24, 0, 401, true);
    send(echoMsg, 24, 0, 0, true);
    expect(ifStat(IF_IP_FRAG_DROP_MALFORMED)).toBe(2);
    expect(reasmLive()).toBe(0);
  });

  test("data past the end, or two different ends, discard the datagram", () => {
    fresh();
    send(echoMsg, 25, 0, 400, false);   // not a fragment at all... offset 0, MF 0: a whole datagram
    txDrain();
    send(echoMsg, 26, 400, 400, false); // end 800
    send(echoMsg, 26, 800, 8, true);    // past the end
    expect(ifStat(IF_IP_FRAG_DROP_MALFORMED)).toBe(1);
    send(echoMsg, 27, 400, 400, false); // end 800
    send(echoMsg, 27, 800, 8, false);   // a second, different end
    expect(ifStat(IF_IP_FRAG_DROP_MALFORMED)).toBe(2);
    send(echoMsg, 28, 800, 8, true);
    send(echoMsg, 28, 400, 400, false); // end 800 below received data
    expect(ifStat(IF_IP_FRAG_DROP_MALFORMED)).toBe(3);
    expect(reasmLive()).toBe(0);
  });

  test("more than MAX_RANGES separate pieces discard the datagram (TOO_MANY_HOLES)", () => {
    fresh();
    for (let k: u32 = 0; k < 13; k++) send(echoMsg, 29, k * 16 + 8, 8, true);
    expect(ifStat(IF_IP_FRAG_DROP_TOO_MANY_HOLES)).toBe(1);
    expect(reasmLive()).toBe(0);
    expect(ifDispositionSum()).toBe(ifStat(IF_RX_FRAMES));
  });
});
