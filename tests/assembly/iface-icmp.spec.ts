// ICMP through the interface: echo replies (identical payload, any size up to the
// MTU), protocol unreachable for unknown protocols, rate limiting, suppression.
import * as eth from "../../assembly/wire/ethernet";
import * as ip from "../../assembly/wire/ipv4";
import * as icmp from "../../assembly/wire/icmpv4";
import { checksum, checksumPartial } from "../../assembly/util/checksum";
import { storeMac } from "../../assembly/util/bytes";
import { ifaceSetRateLimits } from "../../assembly/iface/interface";
import {
  ifStat, ifDispositionSum, IF_RX_FRAMES, IF_ICMP_ECHO_REQUEST, IF_ICMP_TX_ECHO_REPLY, IF_IP_PROTO_UNREACHABLE,
  IF_ICMP_TX_UNREACH, IF_ICMP_ERR_RATE_LIMITED, IF_ICMP_DROP_ECHO_BROADCAST, IF_ICMP_DROP_CHECKSUM,
  IF_ICMP_DROP_ECHO_TOO_BIG, IF_IP_DROP_NO_PROTO_BCAST, IF_ARP_REQUEST_ANSWERED, IF_ARP_PENDING_QUEUED, IF_ARP_PENDING_SENT,
} from "../../assembly/iface/stats";
import { ICMP_ECHO, UDP_DGRAM, ARP_REQUEST, ARP_REPLY } from "../fixtures/frames";
import { hexToMem, hexLen } from "../fixtures/hex";
import { setup, inject, injectMem, txPop, txPending, txDrain, poppedLen, advance, OUR_MAC, PEER_MAC, OUR_IP, PEER_IP } from "../fixtures/iface-harness";

/** Builds an echo request from the peer with `n` data bytes (pattern i*7), valid checksums. */
function echoFrame(n: u32, dst: u32 = OUR_IP, dstMac: u64 = OUR_MAC): usize {
  const f = heap.alloc(14 + 20 + 8 + n);
  eth.emitHeader(f, dstMac, PEER_MAC, eth.ETHERTYPE_IPV4);
  ip.emitHeader(f + 14, PEER_IP, dst, ip.IP_PROTO_ICMP, 8 + n, 0x77, 0, 64, 0);
  const m = f + 34;
  icmp.setMsgType(m, icmp.ICMP_ECHO_REQUEST);
  icmp.setCode(m, 0);
  icmp.setEchoIdent(m, 0xbeef);
  icmp.setEchoSeq(m, 9);
  for (let i: u32 = 0; i < n; i++) store<u8>(m + 8 + i, <u8>(i * 7));
  icmp.fillChecksum(m, 8 + n);
  return f;
}

/** Learns the peer's MAC through its ARP request (RFC 826 merge), then drains the ARP reply. */
function learnPeer(): void {
  inject(ARP_REQUEST);
  expect(ifStat(IF_ARP_REQUEST_ANSWERED)).toBe(1);
  txDrain();
}

describe("iface ICMP echo", () => {
  test("echo request → echo reply with identical id, seq and payload", () => {
    setup();
    learnPeer();
    inject(ICMP_ECHO);
    expect(ifStat(IF_ICMP_ECHO_REQUEST)).toBe(1);
    expect(ifStat(IF_ICMP_TX_ECHO_REPLY)).toBe(1);
    expect(txPending()).toBe(1);
    const f = txPop();
    expect(poppedLen).toBe(82);
    expect(eth.dst(f)).toBe(PEER_MAC);
    expect(eth.src(f)).toBe(OUR_MAC);
    expect(eth.etherType(f)).toBe(eth.ETHERTYPE_IPV4);
    const h = f + 14;
    expect(ip.checkLen(h, 68)).toBe(0);
    expect(ip.verifyChecksum(h)).toBe(true);
    expect(ip.srcAddr(h)).toBe(OUR_IP);
    expect(ip.dstAddr(h)).toBe(PEER_IP);
    expect(ip.protocol(h)).toBe(1);
    expect(ip.ttl(h)).toBe(64);
    expect(ip.dontFrag(h)).toBe(false); // Linux ICMP replies: IP_PMTUDISC_DONT
    const m = h + 20;
    expect(icmp.msgType(m)).toBe(icmp.ICMP_ECHO_REPLY);
    expect(icmp.code(m)).toBe(0);
    expect(icmp.verifyChecksum(m, 48)).toBe(true);
    const req = hexToMem(ICMP_ECHO) + 34;
    expect(icmp.echoIdent(m)).toBe(0x1234);
    expect(icmp.echoSeq(m)).toBe(1);
    expect(memory.compare(m + 8, req + 8, 40)).toBe(0);
  });

  test("echo reply for every size 0..1472 data bytes (reply up to the 1500-byte MTU)", () => {
    setup();
    learnPeer();
    for (let n: u32 = 0; n <= 1472; n += (n < 64 ? 1 : 97)) {
      injectMem(echoFrame(n), 42 + n);
      const f = txPop();
      expect(f).not.toBe(0);
      expect(poppedLen).toBe(42 + n);
      const m = f + 34;
      expect(icmp.verifyChecksum(m, 8 + n)).toBe(true);
      for (let i: u32 = 0; i < n; i++) expect(load<u8>(m + 8 + i)).toBe(<u8>(i * 7));
    }
    injectMem(echoFrame(1472), 42 + 1472);
    expect(txPop()).not.toBe(0);
    expect(poppedLen).toBe(1514);
    expect(ifDispositionSum()).toBe(ifStat(IF_RX_FRAMES));
  });

  test("echo request whose reply would exceed the MTU is dropped and counted", () => {
    setup();
    learnPeer();
    injectMem(echoFrame(1473), 42 + 1473); // 1501-byte datagram: cannot arrive unfragmented, but may
    expect(ifStat(IF_ICMP_DROP_ECHO_TOO_BIG)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("echo to a broadcast address is ignored (Linux icmp_echo_ignore_broadcasts)", () => {
    setup();
    learnPeer();
    injectMem(echoFrame(8, 0x0a0000ff, 0xffffffffffff), 50);
    expect(ifStat(IF_ICMP_DROP_ECHO_BROADCAST)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("echo with a bad ICMP checksum is dropped silently", () => {
    setup();
    learnPeer();
    const f = hexToMem(ICMP_ECHO);
    store<u8>(f + 50, load<u8>(f + 50) ^ 1);
    injectMem(f, 82);
    expect(ifStat(IF_ICMP_DROP_CHECKSUM)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("unknown peer: the reply waits for ARP, then leaves", () => {
    setup();
    inject(ICMP_ECHO);
    expect(ifStat(IF_ARP_PENDING_QUEUED)).toBe(1);
    const req = txPop(); // our ARP request for 10.0.0.1
    expect(eth.etherType(req)).toBe(eth.ETHERTYPE_ARP);
    expect(txPending()).toBe(0);
    // The peer answers: the queued echo reply leaves, addressed to the MAC just learned,
    // with the request's payload byte for byte.
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_PENDING_SENT)).toBe(1);
    expect(txPending()).toBe(1);
    const f = txPop();
    expect(poppedLen).toBe(82);
    expect(eth.etherType(f)).toBe(eth.ETHERTYPE_IPV4);
    expect(eth.dst(f)).toBe(PEER_MAC);
    expect(ip.dstAddr(f + 14)).toBe(PEER_IP);
    const m = f + 34;
    expect(icmp.msgType(m)).toBe(icmp.ICMP_ECHO_REPLY);
    expect(icmp.verifyChecksum(m, 48)).toBe(true);
    expect(memory.compare(m + 4, hexToMem(ICMP_ECHO) + 38, 44)).toBe(0);
    expect(ifStat(IF_ICMP_TX_ECHO_REPLY)).toBe(1);
  });
});

describe("iface ICMP errors", () => {
  test("unknown protocol → protocol unreachable quoting the header and 8+ bytes", () => {
    setup();
    learnPeer();
    inject(UDP_DGRAM);
    expect(ifStat(IF_IP_PROTO_UNREACHABLE)).toBe(1);
    expect(ifStat(IF_ICMP_TX_UNREACH)).toBe(1);
    const f = txPop();
    const h = f + 14;
    expect(ip.dstAddr(h)).toBe(PEER_IP);
    const m = h + 20;
    const mlen = poppedLen - 34;
    expect(icmp.msgType(m)).toBe(icmp.ICMP_DEST_UNREACH);
    expect(icmp.code(m)).toBe(icmp.ICMP_UNREACH_PROTOCOL);
    expect(icmp.verifyChecksum(m, mlen)).toBe(true);
    expect(mlen).toBe(8 + 32); // the whole 32-byte UDP datagram fits within 576
    const orig = hexToMem(UDP_DGRAM) + 14;
    expect(memory.compare(m + 8, orig, 32)).toBe(0);
  });

  test("protocol unreachable is rate limited by the token bucket", () => {
    setup();
    learnPeer();
    ifaceSetRateLimits(10, 3, 100, 20); // 10/s, burst 3
    for (let i = 0; i < 10; i++) inject(UDP_DGRAM);
    expect(ifStat(IF_IP_PROTO_UNREACHABLE)).toBe(10);
    expect(ifStat(IF_ICMP_TX_UNREACH)).toBe(3);
    expect(ifStat(IF_ICMP_ERR_RATE_LIMITED)).toBe(7);
    advance(100); // one token back
    inject(UDP_DGRAM);
    inject(UDP_DGRAM);
    expect(ifStat(IF_ICMP_TX_UNREACH)).toBe(4);
  });

  test("no error for an unknown protocol sent to a broadcast address", () => {
    setup();
    learnPeer();
    const f = hexToMem(UDP_DGRAM);
    storeMac(f, 0xffffffffffff);
    ip.setDstAddr(f + 14, 0xffffffff);
    ip.fillChecksum(f + 14);
    injectMem(f, hexLen(UDP_DGRAM));
    expect(ifStat(IF_IP_DROP_NO_PROTO_BCAST)).toBe(1);
    expect(txPending()).toBe(0);
  });
});
