// IPv4 output paths: ipv4TxBegin/Commit (ICMP and generic) and the in-place segment
// path TCP uses (ipv4SegmentBegin/Send), with routing, ARP queueing and limits.
import * as eth from "../../assembly/wire/ethernet";
import * as ip from "../../assembly/wire/ipv4";
import { checksum, checksumPartial, pseudoHeaderSum, checksumFinish } from "../../assembly/util/checksum";
import { ipv4TxBegin, ipv4TxCommit, ipv4TxAbort, ipv4TxMaxPayload, ipv4SegmentBegin, ipv4SegmentSend, ipv4SegmentCapacity, ipv4TxOpen } from "../../assembly/iface/output";
import { arpPendingCount } from "../../assembly/iface/neighbor";
import { E_IF_TOO_BIG, E_IF_STATE, E_IF_NO_ROUTE } from "../../assembly/iface/errors";
import { ifaceInit } from "../../assembly/iface/interface";
import {
  ifStat, IF_TX_FRAMES, IF_TX_DROP_TOO_BIG, IF_TX_DROP_RING_FULL, IF_TX_DROP_BUSY, IF_TX_DROP_NO_ROUTE,
  IF_ARP_PENDING_SENT, IF_IP_TX_DATAGRAMS,
} from "../../assembly/iface/stats";
import { ARP_REQUEST, ARP_REPLY } from "../fixtures/frames";
import { setup, inject, txPop, txPending, txDrain, poppedLen, OUR_MAC, PEER_MAC, OUR_IP, PEER_IP } from "../fixtures/iface-harness";

function learnPeer(): void {
  inject(ARP_REQUEST);
  txDrain();
}

/** Builds a 20-byte TCP-like header + `n` data bytes at `seg` with a valid checksum. */
function buildSegment(seg: usize, n: u32): u32 {
  memory.fill(seg, 0, 20);
  store<u8>(seg + 12, 0x50);
  for (let i: u32 = 0; i < n; i++) store<u8>(seg + 20 + i, <u8>i);
  const len = 20 + n;
  const c = checksumFinish(checksumPartial(seg, len, pseudoHeaderSum(OUR_IP, PEER_IP, 6, len)));
  store<u16>(seg + 16, bswap<u16>(c));
  return len;
}

describe("ipv4 segment output (TCP's path)", () => {
  test("resolved next hop: headers written in front of the segment, slot committed, no copy", () => {
    setup();
    learnPeer();
    const seg = ipv4SegmentBegin();
    expect(seg).not.toBe(0);
    expect(ipv4SegmentCapacity()).toBe(1480);
    const len = buildSegment(seg, 100);
    expect(ipv4SegmentSend(seg, len, OUR_IP, PEER_IP, 6)).toBe(0);
    const f = txPop();
    expect(f).toBe(seg - 34); // same slot: built in place
    expect(poppedLen).toBe(34 + 120);
    expect(eth.dst(f)).toBe(PEER_MAC);
    expect(eth.src(f)).toBe(OUR_MAC);
    const h = f + 14;
    expect(ip.verifyChecksum(h)).toBe(true);
    expect(ip.totalLen(h)).toBe(140);
    expect(ip.dontFrag(h)).toBe(true);
    expect(ip.ttl(h)).toBe(64);
    expect(ip.protocol(h)).toBe(6);
    // The L4 checksum still verifies over pseudo-header + segment.
    expect(checksumFinish(checksumPartial(h + 20, 120, pseudoHeaderSum(OUR_IP, PEER_IP, 6, 120)))).toBe(0);
  });

  test("unresolved next hop: the segment is copied behind ARP and leaves on the reply", () => {
    setup();
    const seg = ipv4SegmentBegin();
    const len = buildSegment(seg, 10);
    expect(ipv4SegmentSend(seg, len, OUR_IP, PEER_IP, 6)).toBe(0);
    expect(arpPendingCount(PEER_IP)).toBe(1);
    expect(eth.etherType(txPop())).toBe(eth.ETHERTYPE_ARP);
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_PENDING_SENT)).toBe(1);
    const f = txPop();
    expect(poppedLen).toBe(64);
    expect(eth.dst(f)).toBe(PEER_MAC);
    expect(ip.verifyChecksum(f + 14)).toBe(true);
    expect(load<u8>(f + 34 + 20 + 9)).toBe(9);
  });

  test("oversized, stale and unroutable sends are refused and counted", () => {
    setup();
    learnPeer();
    let seg = ipv4SegmentBegin();
    expect(ipv4SegmentSend(seg, 1481, OUR_IP, PEER_IP, 6)).toBe(E_IF_TOO_BIG);
    expect(ifStat(IF_TX_DROP_TOO_BIG)).toBe(1);
    expect(ipv4SegmentSend(seg + 8, 20, OUR_IP, PEER_IP, 6)).toBe(E_IF_STATE);
    expect(ifStat(IF_TX_DROP_BUSY)).toBe(1);
    expect(ipv4SegmentSend(seg, 20, OUR_IP, 0x0a0000ff, 6)).toBe(E_IF_NO_ROUTE);
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 1500, 8, 8, 0, 0)).toBe(0);
    seg = ipv4SegmentBegin();
    expect(ipv4SegmentSend(seg, 20, OUR_IP, 0x08080808, 6)).toBe(E_IF_NO_ROUTE);
    expect(ifStat(IF_TX_DROP_NO_ROUTE)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("a full TX ring gives no buffer (counted)", () => {
    setup(8, 8, 0, 0, 4);
    learnPeer();
    for (let i = 0; i < 4; i++) {
      const seg = ipv4SegmentBegin();
      ipv4SegmentSend(seg, buildSegment(seg, 1), OUR_IP, PEER_IP, 6);
    }
    expect(ipv4SegmentBegin()).toBe(0);
    expect(ifStat(IF_TX_DROP_RING_FULL)).toBe(1);
  });
});

describe("ipv4 datagram output", () => {
  test("begin/commit writes a valid header; oversized commit is refused", () => {
    setup();
    learnPeer();
    expect(ipv4TxMaxPayload()).toBe(1480);
    let l4 = ipv4TxBegin(PEER_IP, 17);
    expect(ipv4TxOpen()).toBe(true);
    expect(ipv4TxCommit(1481)).toBe(E_IF_TOO_BIG);
    expect(ipv4TxOpen()).toBe(false);
    expect(ipv4TxCommit(1)).toBe(E_IF_STATE);
    l4 = ipv4TxBegin(PEER_IP, 17);
    memory.fill(l4, 0x33, 1480);
    expect(ipv4TxCommit(1480)).toBe(0);
    const f = txPop();
    expect(poppedLen).toBe(1514);
    expect(ip.verifyChecksum(f + 14)).toBe(true);
    expect(ip.totalLen(f + 14)).toBe(1500);
    expect(ifStat(IF_IP_TX_DATAGRAMS)).toBe(1);
  });

  test("a second begin abandons the first (counted), abort sends nothing", () => {
    setup();
    learnPeer();
    ipv4TxBegin(PEER_IP, 17);
    const l4 = ipv4TxBegin(PEER_IP, 17);
    expect(ifStat(IF_TX_DROP_BUSY)).toBe(1);
    expect(ipv4TxCommit(4)).toBe(0);
    expect(txPending()).toBe(1);
    ipv4TxBegin(PEER_IP, 17);
    ipv4TxAbort();
    expect(txPending()).toBe(1);
    expect(l4).not.toBe(0);
  });

  test("identification changes per datagram; a smaller MTU bounds the payload", () => {
    setup();
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 576, 8, 8, 0, 0)).toBe(0);
    learnPeer();
    expect(ipv4TxMaxPayload()).toBe(556);
    ipv4TxCommit(0);
    let l4 = ipv4TxBegin(PEER_IP, 17);
    ipv4TxCommit(8);
    l4 = ipv4TxBegin(PEER_IP, 17);
    ipv4TxCommit(8);
    const a = ip.ident(txPop() + 14);
    const b = ip.ident(txPop() + 14);
    expect(b).toBe(a + 1);
  });
});
