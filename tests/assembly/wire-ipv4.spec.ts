// wire/ipv4.ts: the six cases of STYLE §6 over hex fixtures, plus HC-03 (c)(d)(e)
// and HC-02 (b)/(e) at the header level.
import * as ip from "../../assembly/wire/ipv4";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_CHECKSUM } from "../../assembly/iface/errors";
import { IPV4_HDR_ICMP, TCP_SYN_IPOPT, TCP_ACK_PADDED, ICMP_ECHO } from "../fixtures/frames";
import { hexToMem, hexLen, poisoned, memEqualsHex, memToHex } from "../fixtures/hex";

const PEER_IP: u32 = 0x0a000001;
const OUR_IP: u32 = 0x0a000002;

describe("wire/ipv4", () => {
  test("deconstruct", () => {
    const p = hexToMem(ICMP_ECHO) + 14;
    expect(ip.checkLen(p, 68)).toBe(0);
    expect(ip.version(p)).toBe(4);
    expect(ip.headerLen(p)).toBe(20);
    expect(ip.dscpEcn(p)).toBe(0);
    expect(ip.totalLen(p)).toBe(68);
    expect(ip.ident(p)).toBe(0x1c46);
    expect(ip.dontFrag(p)).toBe(true);
    expect(ip.moreFrags(p)).toBe(false);
    expect(ip.fragOffset(p)).toBe(0);
    expect(ip.ttl(p)).toBe(64);
    expect(ip.protocol(p)).toBe(ip.IP_PROTO_ICMP);
    expect(ip.hdrChecksum(p)).toBe(0x0a71);
    expect(ip.srcAddr(p)).toBe(PEER_IP);
    expect(ip.dstAddr(p)).toBe(OUR_IP);
    expect(ip.verifyChecksum(p)).toBe(true);
  });

  test("construct into a 0xA5-filled buffer", () => {
    const p = poisoned(20);
    ip.setVersionIhl(p, 20);
    ip.setDscpEcn(p, 0);
    ip.setTotalLen(p, 68);
    ip.setIdent(p, 0x1c46);
    ip.setFlagsFrag(p, ip.IPV4_FLAG_DF);
    ip.setTtl(p, 64);
    ip.setProtocol(p, 1);
    ip.setSrcAddr(p, PEER_IP);
    ip.setDstAddr(p, OUR_IP);
    ip.fillChecksum(p);
    expect(memEqualsHex(p, IPV4_HDR_ICMP)).toBe(true, memToHex(p, 20));
    expect(load<u8>(p + 20)).toBe(0xa5);
  });

  test("truncated (HC-03 (d): total length larger than the bytes present)", () => {
    const p = hexToMem(ICMP_ECHO) + 14;
    const r = new ip.Ipv4Repr();
    for (let n: u32 = 0; n < 68; n++) expect(ip.parse(p, n, r)).toBe(E_IF_TRUNCATED);
    expect(ip.parse(p, 68, r)).toBe(0);
    ip.setTotalLen(p, 69);
    ip.fillChecksum(p);
    expect(ip.parse(p, 68, r)).toBe(E_IF_TRUNCATED);
  });

  test("malformed (HC-03 (c)(d)): IHL 4, IHL 15 with total 40, total < IHL·4, version 6, reserved flag", () => {
    const r = new ip.Ipv4Repr();
    let p = hexToMem(ICMP_ECHO) + 14;
    store<u8>(p, 0x44);
    ip.fillChecksum(p); // checksum over 16 bytes: valid, still malformed
    expect(ip.checkLen(p, 68)).toBe(E_IF_MALFORMED);
    expect(ip.parse(p, 68, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ICMP_ECHO) + 14;
    store<u8>(p, 0x4f);
    ip.setTotalLen(p, 40);
    expect(ip.parse(p, 68, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ICMP_ECHO) + 14;
    ip.setTotalLen(p, 19);
    ip.fillChecksum(p);
    expect(ip.parse(p, 68, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ICMP_ECHO) + 14;
    store<u8>(p, 0x65);
    ip.fillChecksum(p);
    expect(ip.parse(p, 68, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ICMP_ECHO) + 14;
    ip.setFlagsFrag(p, 0x8000);
    ip.fillChecksum(p);
    expect(ip.parse(p, 68, r)).toBe(E_IF_MALFORMED);
  });

  test("checksum (HC-02 (b)): any flipped header bit fails", () => {
    const r = new ip.Ipv4Repr();
    for (let bit: u32 = 0; bit < 160; bit++) {
      const p = hexToMem(ICMP_ECHO) + 14;
      const byte = p + (bit >> 3);
      store<u8>(byte, load<u8>(byte) ^ <u8>(<u32>1 << (bit & 7)));
      const res = ip.parse(p, 68, r);
      expect(res).not.toBe(0);
      // Bits in the length/version fields may fail an earlier check first.
      if (bit >= 64) expect(res).toBe(E_IF_CHECKSUM);
    }
  });

  test("parse", () => {
    const p = hexToMem(ICMP_ECHO) + 14;
    const r = new ip.Ipv4Repr();
    expect(ip.parse(p, 68, r)).toBe(0);
    expect(r.srcAddr).toBe(PEER_IP);
    expect(r.dstAddr).toBe(OUR_IP);
    expect(r.protocol).toBe(1);
    expect(r.ttl).toBe(64);
    expect(r.dontFrag).toBe(true);
    expect(r.moreFrags).toBe(false);
    expect(r.ident).toBe(0x1c46);
    expect(r.fragOffset).toBe(0);
    expect(r.headerLen).toBe(20);
    expect(r.payloadLen).toBe(48);
  });

  test("parse: options skipped (HC-03 (e)): IHL 6, payload at byte 24", () => {
    const p = hexToMem(TCP_SYN_IPOPT) + 14;
    const r = new ip.Ipv4Repr();
    expect(ip.parse(p, hexLen(TCP_SYN_IPOPT) - 14, r)).toBe(0);
    expect(r.headerLen).toBe(24);
    expect(r.payloadLen).toBe(24);
    expect(r.protocol).toBe(ip.IP_PROTO_TCP);
    expect(load<u8>(p + r.headerLen)).toBe(0x9c); // TCP source port 40000 = 0x9c40
  });

  test("parse: Ethernet padding is not payload (HC-02 (e))", () => {
    const p = hexToMem(TCP_ACK_PADDED) + 14;
    const r = new ip.Ipv4Repr();
    expect(ip.parse(p, 46, r)).toBe(0); // 40-byte datagram + 6 bytes of padding
    expect(r.payloadLen).toBe(20);
  });

  test("emit", () => {
    const r = new ip.Ipv4Repr();
    r.srcAddr = PEER_IP;
    r.dstAddr = OUR_IP;
    r.protocol = 1;
    r.ttl = 64;
    r.ident = 0x1c46;
    r.dontFrag = true;
    r.payloadLen = 48;
    const p = poisoned(20);
    ip.emit(r, p);
    expect(memEqualsHex(p, IPV4_HDR_ICMP)).toBe(true, memToHex(p, 20));
  });
});
