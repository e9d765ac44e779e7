// wire/ethernet.ts: the six cases of STYLE §6 over hex fixtures.
import * as eth from "../../assembly/wire/ethernet";
import { E_IF_TRUNCATED, E_IF_MALFORMED } from "../../assembly/iface/errors";
import { ICMP_ECHO, ARP_REQUEST } from "../fixtures/frames";
import { hexToMem, hexLen, poisoned, memEqualsHex, memToHex } from "../fixtures/hex";

const PEER: u64 = 0x525400123456;
const OURS: u64 = 0x020000000001;

describe("wire/ethernet", () => {
  test("deconstruct", () => {
    const p = hexToMem(ICMP_ECHO);
    expect(eth.checkLen(p, hexLen(ICMP_ECHO))).toBe(0);
    expect(eth.dst(p)).toBe(OURS);
    expect(eth.src(p)).toBe(PEER);
    expect(eth.etherType(p)).toBe(eth.ETHERTYPE_IPV4);
    expect(eth.payload(p)).toBe(p + 14);
  });

  test("construct into a 0xA5-filled buffer", () => {
    const p = poisoned(14);
    eth.setDst(p, OURS);
    eth.setSrc(p, PEER);
    eth.setEtherType(p, eth.ETHERTYPE_IPV4);
    expect(memEqualsHex(p, ICMP_ECHO.substr(0, 28))).toBe(true, memToHex(p, 14));
    expect(load<u8>(p + 14)).toBe(0xa5); // nothing written past the header
  });

  test("truncated", () => {
    const p = hexToMem(ICMP_ECHO);
    const r = new eth.EthernetRepr();
    for (let n: u32 = 0; n < 14; n++) {
      expect(eth.checkLen(p, n)).toBe(E_IF_TRUNCATED);
      expect(eth.parse(p, n, r)).toBe(E_IF_TRUNCATED);
    }
    expect(eth.parse(p, 14, r)).toBe(0);
  });

  test("malformed: an 802.3 length in the type field", () => {
    const p = hexToMem(ICMP_ECHO);
    eth.setEtherType(p, 0x05dc); // 1500: a length, not a type
    expect(eth.parse(p, hexLen(ICMP_ECHO), new eth.EthernetRepr())).toBe(E_IF_MALFORMED);
    eth.setEtherType(p, 0x0600);
    expect(eth.parse(p, hexLen(ICMP_ECHO), new eth.EthernetRepr())).toBe(0);
  });

  test("parse", () => {
    const p = hexToMem(ARP_REQUEST);
    const r = new eth.EthernetRepr();
    expect(eth.parse(p, hexLen(ARP_REQUEST), r)).toBe(0);
    expect(r.dst).toBe(0xffffffffffff);
    expect(r.src).toBe(PEER);
    expect(r.etherType).toBe(eth.ETHERTYPE_ARP);
  });

  test("emit", () => {
    const r = new eth.EthernetRepr();
    r.dst = 0xffffffffffff;
    r.src = PEER;
    r.etherType = eth.ETHERTYPE_ARP;
    const p = poisoned(14);
    eth.emit(r, p);
    expect(memEqualsHex(p, ARP_REQUEST.substr(0, 28))).toBe(true, memToHex(p, 14));
  });

  test("VLAN types are recognised", () => {
    expect(eth.isVlanType(0x8100)).toBe(true);
    expect(eth.isVlanType(0x88a8)).toBe(true);
    expect(eth.isVlanType(0x0800)).toBe(false);
  });
});
