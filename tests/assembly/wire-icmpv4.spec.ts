// wire/icmpv4.ts: the six cases of STYLE §6 over hex fixtures.
import * as icmp from "../../assembly/wire/icmpv4";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_CHECKSUM, E_IF_UNSUPPORTED } from "../../assembly/iface/errors";
import { ICMP_ECHO_MSG } from "../fixtures/frames";
import { hexToMem, hexLen, poisoned, memEqualsHex, memToHex } from "../fixtures/hex";

const LEN: u32 = 48;

describe("wire/icmpv4", () => {
  test("deconstruct", () => {
    const p = hexToMem(ICMP_ECHO_MSG);
    expect(hexLen(ICMP_ECHO_MSG)).toBe(LEN);
    expect(icmp.checkLen(p, LEN)).toBe(0);
    expect(icmp.msgType(p)).toBe(icmp.ICMP_ECHO_REQUEST);
    expect(icmp.code(p)).toBe(0);
    expect(icmp.icmpChecksum(p)).toBe(0xe5b6);
    expect(icmp.echoIdent(p)).toBe(0x1234);
    expect(icmp.echoSeq(p)).toBe(1);
    expect(load<u8>(icmp.data(p))).toBe(0x20);
    expect(icmp.verifyChecksum(p, LEN)).toBe(true);
  });

  test("construct into a 0xA5-filled buffer", () => {
    const p = poisoned(LEN);
    icmp.setMsgType(p, icmp.ICMP_ECHO_REQUEST);
    icmp.setCode(p, 0);
    icmp.setEchoIdent(p, 0x1234);
    icmp.setEchoSeq(p, 1);
    for (let i: u32 = 0; i < 40; i++) store<u8>(p + 8 + i, <u8>(0x20 + i));
    icmp.fillChecksum(p, LEN);
    expect(memEqualsHex(p, ICMP_ECHO_MSG)).toBe(true, memToHex(p, LEN));
    expect(load<u8>(p + LEN)).toBe(0xa5);
  });

  test("truncated: header, and a message cut short fails its checksum", () => {
    const p = hexToMem(ICMP_ECHO_MSG);
    const r = new icmp.IcmpRepr();
    for (let n: u32 = 0; n < 8; n++) expect(icmp.parse(p, n, r)).toBe(E_IF_TRUNCATED);
    expect(icmp.parse(p, LEN - 1, r)).toBe(E_IF_CHECKSUM);
  });

  test("malformed and unsupported", () => {
    const r = new icmp.IcmpRepr();
    let p = hexToMem(ICMP_ECHO_MSG);
    icmp.setCode(p, 1);
    icmp.fillChecksum(p, LEN);
    expect(icmp.parse(p, LEN, r)).toBe(E_IF_MALFORMED);
    p = hexToMem(ICMP_ECHO_MSG);
    icmp.setMsgType(p, 13); // timestamp request
    icmp.fillChecksum(p, LEN);
    expect(icmp.parse(p, LEN, r)).toBe(E_IF_UNSUPPORTED);
    p = hexToMem(ICMP_ECHO_MSG);
    store<u8>(p + 20, load<u8>(p + 20) ^ 0x40); // data byte flipped
    expect(icmp.parse(p, LEN, r)).toBe(E_IF_CHECKSUM);
  });

  test("parse", () => {
    const p = hexToMem(ICMP_ECHO_MSG);
    const r = new icmp.IcmpRepr();
    expect(icmp.parse(p, LEN, r)).toBe(0);
    expect(r.msgType).toBe(icmp.ICMP_ECHO_REQUEST);
    expect(r.code).toBe(0);
    expect(r.ident).toBe(0x1234);
    expect(r.seqNo).toBe(1);
    expect(r.dataPtr).toBe(p + 8);
    expect(r.dataLen).toBe(40);
  });

  test("emit", () => {
    const r = new icmp.IcmpRepr();
    r.msgType = icmp.ICMP_ECHO_REQUEST;
    r.code = 0;
    r.ident = 0x1234;
    r.seqNo = 1;
    r.dataLen = 40;
    const p = poisoned(LEN);
    for (let i: u32 = 0; i < 40; i++) store<u8>(p + 8 + i, <u8>(0x20 + i));
    icmp.emit(r, p);
    expect(memEqualsHex(p, ICMP_ECHO_MSG)).toBe(true, memToHex(p, LEN));
  });
});
