// The interface and the TCP engine together (TCP side from tests/assembly/tcp-kit.ts,
// whose env doubles capture the engine's output): HC-03 (e) end to end, and the
// IPv4-layer drops of HC-02 (b) / HC-03 (c)(d) never reaching TCP.
import * as kit from "./tcp-kit";
import * as ip from "../../assembly/wire/ipv4";
import { TCP_FLAG_SYN, TCP_FLAG_ACK } from "../../assembly/wire/tcp";
import { storeU16BE } from "../../assembly/util/bytes";
import { ringsInit } from "../../assembly/mem/rings";
import { ifaceInit, ifaceInput } from "../../assembly/iface/interface";
import { ifaceAttachTcp } from "../../assembly/iface/tcp-glue";
import { ifStat, IF_IP_DELIVER_TCP, IF_IP_DROP_CHECKSUM, IF_IP_DROP_MALFORMED } from "../../assembly/iface/stats";
import { TCP_SYN_IPOPT } from "../fixtures/frames";
import { hexToMem, hexLen } from "../fixtures/hex";

function world(): void {
  kit.setup();
  expect(ringsInit(16, 16, 2048)).toBe(0);
  expect(ifaceInit(0x020000000001, kit.B_ADDR, 24, 0, 1500, 8, 8, 2, 4096)).toBe(0);
  ifaceAttachTcp();
  kit.listener(80);
}

describe("iface + TCP", () => {
  test("HC-03 (e): a SYN inside an IPv4 header with IHL 6 (Router Alert) gets a normal SYN,ACK", () => {
    world();
    const f = hexToMem(TCP_SYN_IPOPT);
    ifaceInput(f, hexLen(TCP_SYN_IPOPT), 0);
    expect(ifStat(IF_IP_DELIVER_TCP)).toBe(1);
    expect(kit.next()).toBe(true);
    expect(kit.rout.flags).toBe(TCP_FLAG_SYN | TCP_FLAG_ACK);
    expect(kit.rout.ack).toBe(0x01020305);
    expect(kit.rout.srcPort).toBe(80);
    expect(kit.rout.dstPort).toBe(40000);
  });

  test("HC-02 (b): the same SYN with a wrong IPv4 header checksum never reaches TCP", () => {
    world();
    const f = hexToMem(TCP_SYN_IPOPT);
    storeU16BE(f + 24, ip.hdrChecksum(f + 14) ^ 0x8000);
    ifaceInput(f, hexLen(TCP_SYN_IPOPT), 0);
    expect(ifStat(IF_IP_DROP_CHECKSUM)).toBe(1);
    expect(kit.pending()).toBe(0);
  });

  test("HC-03 (c)(d): IHL 4, IHL 15 over a 48-byte datagram, total length 16: no reply", () => {
    world();
    let f = hexToMem(TCP_SYN_IPOPT);
    store<u8>(f + 14, 0x44);
    ip.fillChecksum(f + 14);
    ifaceInput(f, hexLen(TCP_SYN_IPOPT), 0);
    f = hexToMem(TCP_SYN_IPOPT);
    store<u8>(f + 14, 0x4f);
    ifaceInput(f, hexLen(TCP_SYN_IPOPT), 0);
    f = hexToMem(TCP_SYN_IPOPT);
    ip.setTotalLen(f + 14, 16);
    ip.fillChecksum(f + 14);
    ifaceInput(f, hexLen(TCP_SYN_IPOPT), 0);
    expect(ifStat(IF_IP_DROP_MALFORMED)).toBe(3);
    expect(kit.pending()).toBe(0);
  });
});
