// Ingress validation through the interface: HC-02 (b)(e), HC-03 (c)(d)(e), the
// Ethernet-level drops, address checks, and the TCP hook's contract.
import * as eth from "../../assembly/wire/ethernet";
import * as ip from "../../assembly/wire/ipv4";
import { Ipv4Repr } from "../../assembly/wire/ipv4";
import { storeU16BE, storeMac } from "../../assembly/util/bytes";
import { setTcpInput, tcpInputDefault } from "../../assembly/iface/interface";
import {
  ifStat, ifDispositionSum, IF_RX_FRAMES, IF_IP_DROP_CHECKSUM, IF_IP_DROP_MALFORMED, IF_IP_DROP_TRUNCATED,
  IF_ETH_DROP_VLAN, IF_ETH_DROP_NOT_FOR_US, IF_ETH_DROP_UNKNOWN_TYPE, IF_ETH_DROP_TRUNCATED, IF_ETH_DROP_MALFORMED,
  IF_IP_DROP_NOT_FOR_US, IF_IP_DROP_BAD_SRC, IF_IP_DELIVER_TCP, IF_TCP_NO_TRANSPORT, IF_IP_DROP_TCP_BCAST,
} from "../../assembly/iface/stats";
import { TCP_SYN_IPOPT, TCP_ACK_PADDED, ICMP_ECHO } from "../fixtures/frames";
import { hexToMem, hexLen } from "../fixtures/hex";
import { setup, injectMem, txPending, OUR_IP, PEER_IP } from "../fixtures/iface-harness";

let calls: u32 = 0;
let gotPayload: usize = 0;
let gotLen: u32 = 0;
let gotHdrLen: u32 = 0;
let gotSrc: u32 = 0;
let gotDst: u32 = 0;

function capture(d: Ipv4Repr, payload: usize, len: u32): void {
  calls++;
  gotPayload = payload;
  gotLen = len;
  gotHdrLen = d.headerLen;
  gotSrc = d.srcAddr;
  gotDst = d.dstAddr;
}

function fresh(): void {
  setup();
  calls = 0;
  gotLen = 0;
  setTcpInput(capture);
}

describe("TCP hook", () => {
  test("HC-03 (e): IHL 6 with a Router Alert option is accepted; the segment starts at byte 24", () => {
    fresh();
    const f = hexToMem(TCP_SYN_IPOPT);
    injectMem(f, hexLen(TCP_SYN_IPOPT));
    expect(calls).toBe(1);
    expect(ifStat(IF_IP_DELIVER_TCP)).toBe(1);
    expect(gotHdrLen).toBe(24);
    expect(gotPayload).toBe(f + 14 + 24);
    expect(gotLen).toBe(24);
    expect(load<u8>(gotPayload)).toBe(0x9c);
    expect(load<u8>(gotPayload + 1)).toBe(0x40);
    expect(gotSrc).toBe(PEER_IP);
    expect(gotDst).toBe(OUR_IP);
  });

  test("HC-02 (e): a 40-byte datagram in a 60-byte frame gives a 20-byte segment (padding excluded)", () => {
    fresh();
    injectMem(hexToMem(TCP_ACK_PADDED), 60);
    expect(calls).toBe(1);
    expect(gotLen).toBe(20);
  });

  test("the default hook answers nothing and counts 'no transport'", () => {
    fresh();
    setTcpInput(tcpInputDefault());
    injectMem(hexToMem(TCP_ACK_PADDED), 60);
    expect(ifStat(IF_IP_DELIVER_TCP)).toBe(1);
    expect(ifStat(IF_TCP_NO_TRANSPORT)).toBe(1);
    expect(txPending()).toBe(0);
  });

  test("TCP to a broadcast address is dropped (RFC 1122 §4.2.3.10)", () => {
    fresh();
    const f = hexToMem(TCP_ACK_PADDED);
    storeMac(f, 0xffffffffffff);
    ip.setDstAddr(f + 14, 0x0a0000ff);
    ip.fillChecksum(f + 14);
    injectMem(f, 60);
    expect(ifStat(IF_IP_DROP_TCP_BCAST)).toBe(1);
    expect(calls).toBe(0);
  });
});

describe("IPv4 validation", () => {
  test("HC-02 (b): correct TCP checksum, wrong IPv4 header checksum → silent drop", () => {
    fresh();
    const f = hexToMem(TCP_ACK_PADDED);
    storeU16BE(f + 14 + 10, ip.hdrChecksum(f + 14) ^ 0x0100);
    injectMem(f, 60);
    expect(ifStat(IF_IP_DROP_CHECKSUM)).toBe(1);
    expect(calls).toBe(0);
    expect(txPending()).toBe(0);
  });

  test("HC-03 (c): IHL 4 is dropped, IHL 15 with total length 40 is dropped", () => {
    fresh();
    let f = hexToMem(TCP_ACK_PADDED);
    store<u8>(f + 14, 0x44);
    ip.fillChecksum(f + 14);
    injectMem(f, 60);
    f = hexToMem(TCP_ACK_PADDED);
    store<u8>(f + 14, 0x4f);
    ip.fillChecksum(f + 14); // over 60 bytes: the frame has them (padding included)
    injectMem(f, 60);
    expect(ifStat(IF_IP_DROP_MALFORMED)).toBe(2);
    expect(calls).toBe(0);
  });

  test("HC-03 (d): total length below IHL·4, or above the bytes in the frame → drop", () => {
    fresh();
    let f = hexToMem(TCP_ACK_PADDED);
    ip.setTotalLen(f + 14, 16);
    ip.fillChecksum(f + 14);
    injectMem(f, 60);
    expect(ifStat(IF_IP_DROP_MALFORMED)).toBe(1);
    f = hexToMem(TCP_ACK_PADDED);
    ip.setTotalLen(f + 14, 47); // 46 bytes follow the Ethernet header
    ip.fillChecksum(f + 14);
    injectMem(f, 60);
    expect(ifStat(IF_IP_DROP_TRUNCATED)).toBe(1);
    // A frame cut inside the IPv4 header.
    injectMem(hexToMem(TCP_ACK_PADDED), 14 + 19);
    expect(ifStat(IF_IP_DROP_TRUNCATED)).toBe(2);
    expect(calls).toBe(0);
  });

  test("datagrams for other addresses, from bad sources, or unicast in a link broadcast are dropped", () => {
    fresh();
    let f = hexToMem(ICMP_ECHO);
    ip.setDstAddr(f + 14, 0x0a000003);
    ip.fillChecksum(f + 14);
    injectMem(f, 82);
    expect(ifStat(IF_IP_DROP_NOT_FOR_US)).toBe(1);
    const badSrc: u32[] = [0, 0xffffffff, 0x0a0000ff, 0xe0000001, 0x7f000001, OUR_IP];
    for (let i = 0; i < badSrc.length; i++) {
      f = hexToMem(ICMP_ECHO);
      ip.setSrcAddr(f + 14, badSrc[i]);
      ip.fillChecksum(f + 14);
      injectMem(f, 82);
    }
    expect(ifStat(IF_IP_DROP_BAD_SRC)).toBe(badSrc.length);
    f = hexToMem(ICMP_ECHO);
    storeMac(f, 0xffffffffffff);
    injectMem(f, 82);
    expect(ifStat(IF_IP_DROP_NOT_FOR_US)).toBe(2);
    expect(txPending()).toBe(0);
  });
});

describe("Ethernet drops", () => {
  test("802.1Q tagged frames are dropped and counted", () => {
    fresh();
    const f = heap.alloc(100);
    const src = hexToMem(TCP_ACK_PADDED);
    memory.copy(f, src, 12);
    storeU16BE(f + 12, 0x8100);
    storeU16BE(f + 14, 0x0005); // VID 5
    memory.copy(f + 16, src + 12, 48);
    injectMem(f, 64);
    expect(ifStat(IF_ETH_DROP_VLAN)).toBe(1);
    expect(calls).toBe(0);
  });

  test("other MACs, runts, 802.3 lengths and unknown types are dropped and counted", () => {
    fresh();
    let f = hexToMem(TCP_ACK_PADDED);
    storeMac(f, 0x020000000099);
    injectMem(f, 60);
    storeMac(f, 0x01005e000001); // multicast: no group joined
    injectMem(f, 60);
    expect(ifStat(IF_ETH_DROP_NOT_FOR_US)).toBe(2);
    f = hexToMem(TCP_ACK_PADDED);
    injectMem(f, 13);
    injectMem(f, 0);
    expect(ifStat(IF_ETH_DROP_TRUNCATED)).toBe(2);
    eth.setEtherType(f, 0x0100);
    injectMem(f, 60);
    expect(ifStat(IF_ETH_DROP_MALFORMED)).toBe(1);
    eth.setEtherType(f, 0x86dd);
    injectMem(f, 60);
    expect(ifStat(IF_ETH_DROP_UNKNOWN_TYPE)).toBe(1);
    expect(ifDispositionSum()).toBe(ifStat(IF_RX_FRAMES));
  });
});
