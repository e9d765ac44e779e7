// wire/arp.ts: the six cases of STYLE §6 over hex fixtures.
import * as arp from "../../assembly/wire/arp";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_UNSUPPORTED } from "../../assembly/iface/errors";
import { ARP_REQUEST_PKT, ARP_REPLY } from "../fixtures/frames";
import { hexToMem, hexLen, poisoned, memEqualsHex, memToHex } from "../fixtures/hex";

const PEER_MAC: u64 = 0x525400123456;
const OUR_MAC: u64 = 0x020000000001;
const PEER_IP: u32 = 0x0a000001;
const OUR_IP: u32 = 0x0a000002;

describe("wire/arp", () => {
  test("deconstruct", () => {
    const p = hexToMem(ARP_REQUEST_PKT);
    expect(arp.checkLen(p, 28)).toBe(0);
    expect(arp.htype(p)).toBe(1);
    expect(arp.ptype(p)).toBe(0x0800);
    expect(arp.hlen(p)).toBe(6);
    expect(arp.plen(p)).toBe(4);
    expect(arp.oper(p)).toBe(arp.ARP_OP_REQUEST);
    expect(arp.sha(p)).toBe(PEER_MAC);
    expect(arp.spa(p)).toBe(PEER_IP);
    expect(arp.tha(p)).toBe(0);
    expect(arp.tpa(p)).toBe(OUR_IP);
  });

  test("construct into a 0xA5-filled buffer", () => {
    const p = poisoned(28);
    arp.setHtype(p, 1);
    arp.setPtype(p, 0x0800);
    arp.setHlen(p, 6);
    arp.setPlen(p, 4);
    arp.setOper(p, arp.ARP_OP_REQUEST);
    arp.setSha(p, PEER_MAC);
    arp.setSpa(p, PEER_IP);
    arp.setTha(p, 0);
    arp.setTpa(p, OUR_IP);
    expect(memEqualsHex(p, ARP_REQUEST_PKT)).toBe(true, memToHex(p, 28));
    expect(load<u8>(p + 28)).toBe(0xa5);
  });

  test("truncated: fixed part, then the addresses hlen/plen announce", () => {
    const p = hexToMem(ARP_REQUEST_PKT);
    const r = new arp.ArpRepr();
    for (let n: u32 = 0; n < 28; n++) expect(arp.parse(p, n, r)).toBe(E_IF_TRUNCATED);
    // A generic ARP with hlen 255 / plen 255 claims 8 + 1020 bytes.
    store<u8>(p + 4, 255);
    store<u8>(p + 5, 255);
    expect(arp.checkLen(p, 28)).toBe(E_IF_TRUNCATED);
    expect(arp.checkLen(p, 1027)).toBe(E_IF_TRUNCATED);
  });

  test("malformed and unsupported", () => {
    const r = new arp.ArpRepr();
    let p = hexToMem(ARP_REQUEST_PKT);
    arp.setOper(p, 3); // RARP request: not ARP
    expect(arp.parse(p, 28, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ARP_REQUEST_PKT);
    arp.setHlen(p, 4); // Ethernet with a 4-byte hardware address
    expect(arp.parse(p, 28, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ARP_REQUEST_PKT);
    arp.setHtype(p, 6); // IEEE 802 networks
    expect(arp.parse(p, 28, r)).toBe(E_IF_UNSUPPORTED);
    p = hexToMem(ARP_REQUEST_PKT);
    arp.setPtype(p, 0x86dd);
    expect(arp.parse(p, 28, r)).toBe(E_IF_UNSUPPORTED);
  });

  test("parse", () => {
    const p = hexToMem(ARP_REPLY) + 14;
    const r = new arp.ArpRepr();
    expect(arp.parse(p, hexLen(ARP_REPLY) - 14, r)).toBe(0);
    expect(r.operation).toBe(arp.ARP_OP_REPLY);
    expect(r.senderMac).toBe(PEER_MAC);
    expect(r.senderIp).toBe(PEER_IP);
    expect(r.targetMac).toBe(OUR_MAC);
    expect(r.targetIp).toBe(OUR_IP);
  });

  test("emit", () => {
    const r = new arp.ArpRepr();
    r.operation = arp.ARP_OP_REPLY;
    r.senderMac = PEER_MAC;
    r.senderIp = PEER_IP;
    r.targetMac = OUR_MAC;
    r.targetIp = OUR_IP;
    const p = poisoned(28);
    arp.emit(r, p);
    expect(memEqualsHex(p, ARP_REPLY.substr(28))).toBe(true, memToHex(p, 28));
  });
});
