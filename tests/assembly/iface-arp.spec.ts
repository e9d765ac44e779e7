// ARP through the interface: answering requests, resolution with a pending queue,
// retries and their rate limit, expiry and refresh on virtual time, poisoning
// resistance, gratuitous ARP at link up, routing to the gateway.
import * as eth from "../../assembly/wire/ethernet";
import * as arp from "../../assembly/wire/arp";
import * as ip from "../../assembly/wire/ipv4";
import { ifaceInit, ifaceLinkUp, ifaceSetTimings, ifaceSetRateLimits } from "../../assembly/iface/interface";
import { ipv4TxBegin, ipv4TxCommit, ipv4TxAbort } from "../../assembly/iface/output";
import { arpState, arpPendingCount, arpLookup, arpLiveEntries, ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ARP_PROBE } from "../../assembly/iface/neighbor";
import { timers } from "../../assembly/time/clock";
import {
  ifStat, IF_ARP_REQUEST_ANSWERED, IF_ARP_TX_REPLY, IF_ARP_DROP_NOT_FOR_US, IF_ARP_DROP_UNSOLICITED,
  IF_ARP_REPLY_ACCEPTED, IF_ARP_TX_REQUEST, IF_ARP_PENDING_QUEUED, IF_ARP_PENDING_SENT, IF_ARP_PENDING_DROP_UNRESOLVED,
  IF_ARP_RESOLVE_FAILED, IF_ARP_CACHE_EXPIRED, IF_ARP_CACHE_REFRESH, IF_ARP_PENDING_DROP_FULL, IF_ARP_CACHE_EVICT,
  IF_ARP_TX_GRATUITOUS, IF_ARP_DROP_BAD_SENDER, IF_ARP_DROP_CONFLICT, IF_ARP_REQUEST_RATE_LIMITED,
  IF_TX_DROP_NO_ROUTE, IF_ARP_DROP_TRUNCATED, IF_ARP_DROP_UNSUPPORTED, IF_ARP_CACHE_FULL,
} from "../../assembly/iface/stats";
import { E_IF_CONFIG } from "../../assembly/iface/errors";
import { ARP_REQUEST, ARP_REPLY } from "../fixtures/frames";
import { setup, inject, injectMem, txPop, txPending, txDrain, poppedLen, advance, strayTimers, OUR_MAC, PEER_MAC, OUR_IP, PEER_IP, GATEWAY_IP } from "../fixtures/iface-harness";

/** An ARP frame from `sha`/`spa` (Ethernet source sha, destination `ethDst`). */
function arpFrame(op: u16, sha: u64, spa: u32, tha: u64, tpa: u32, ethDst: u64 = OUR_MAC): usize {
  const f = heap.alloc(64);
  eth.emitHeader(f, ethDst, sha, eth.ETHERTYPE_ARP);
  arp.emitPacket(f + 14, op, sha, spa, tha, tpa);
  return f;
}

/** Sends a 10-byte datagram of protocol `proto` to `dst` through the output path. */
function sendTo(dst: u32, proto: u8 = 253, fill: u8 = 0x42): i32 {
  const l4 = ipv4TxBegin(dst, proto);
  if (l4 == 0) return -1;
  memory.fill(l4, fill, 10);
  return ipv4TxCommit(10);
}

/** Checks that `f` is our ARP request for `tpa` sent to `dstMac`. */
function expectRequest(f: usize, tpa: u32, dstMac: u64 = 0xffffffffffff): void {
  expect(f).not.toBe(0);
  expect(eth.dst(f)).toBe(dstMac);
  expect(eth.src(f)).toBe(OUR_MAC);
  expect(eth.etherType(f)).toBe(eth.ETHERTYPE_ARP);
  const a = f + 14;
  expect(arp.oper(a)).toBe(arp.ARP_OP_REQUEST);
  expect(arp.sha(a)).toBe(OUR_MAC);
  expect(arp.spa(a)).toBe(OUR_IP);
  expect(arp.tpa(a)).toBe(tpa);
}

describe("ARP replies", () => {
  test("a request for our address is answered and its sender cached (RFC 826 merge)", () => {
    setup();
    inject(ARP_REQUEST);
    expect(ifStat(IF_ARP_REQUEST_ANSWERED)).toBe(1);
    expect(ifStat(IF_ARP_TX_REPLY)).toBe(1);
    const f = txPop();
    expect(poppedLen).toBe(42);
    expect(eth.dst(f)).toBe(PEER_MAC);
    expect(eth.src(f)).toBe(OUR_MAC);
    const a = f + 14;
    expect(arp.parse(a, 28, new arp.ArpRepr())).toBe(0);
    expect(arp.oper(a)).toBe(arp.ARP_OP_REPLY);
    expect(arp.sha(a)).toBe(OUR_MAC);
    expect(arp.spa(a)).toBe(OUR_IP);
    expect(arp.tha(a)).toBe(PEER_MAC);
    expect(arp.tpa(a)).toBe(PEER_IP);
    expect(arpState(PEER_IP)).toBe(ARP_REACHABLE);
    expect(arpLookup(PEER_IP)).toBe(<i64>PEER_MAC);
  });

  test("a request for another address is neither answered nor cached", () => {
    setup();
    injectMem(arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, PEER_IP, 0, 0x0a000009, 0xffffffffffff), 42);
    expect(ifStat(IF_ARP_DROP_NOT_FOR_US)).toBe(1);
    expect(txPending()).toBe(0);
    expect(arpState(PEER_IP)).toBe(ARP_FREE);
  });

  test("an RFC 5227 probe (sender 0.0.0.0) for our address is answered, not cached", () => {
    setup();
    injectMem(arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, 0, 0, OUR_IP, 0xffffffffffff), 42);
    expect(ifStat(IF_ARP_TX_REPLY)).toBe(1);
    expect(arpLiveEntries()).toBe(0);
    const f = txPop();
    expect(arp.tha(f + 14)).toBe(PEER_MAC);
    expect(arp.tpa(f + 14)).toBe(0);
  });

  test("bad senders and address conflicts are dropped and counted", () => {
    setup();
    injectMem(arpFrame(arp.ARP_OP_REQUEST, 0xffffffffffff, PEER_IP, 0, OUR_IP), 42);
    injectMem(arpFrame(arp.ARP_OP_REQUEST, 0x010000000001, PEER_IP, 0, OUR_IP), 42);
    injectMem(arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, 0xe0000001, 0, OUR_IP), 42);
    expect(ifStat(IF_ARP_DROP_BAD_SENDER)).toBe(3);
    injectMem(arpFrame(arp.ARP_OP_REPLY, PEER_MAC, OUR_IP, OUR_MAC, OUR_IP), 42);
    expect(ifStat(IF_ARP_DROP_CONFLICT)).toBe(1);
    expect(txPending()).toBe(0);
    expect(arpLiveEntries()).toBe(0);
  });

  test("truncated and foreign ARP are counted", () => {
    setup();
    injectMem(arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, PEER_IP, 0, OUR_IP), 41);
    expect(ifStat(IF_ARP_DROP_TRUNCATED)).toBe(1);
    const f = arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, PEER_IP, 0, OUR_IP);
    arp.setPtype(f + 14, 0x86dd);
    injectMem(f, 42);
    expect(ifStat(IF_ARP_DROP_UNSUPPORTED)).toBe(1);
  });
});

describe("ARP poisoning", () => {
  test("an unsolicited reply creates no entry", () => {
    setup();
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_DROP_UNSOLICITED)).toBe(1);
    expect(arpState(PEER_IP)).toBe(ARP_FREE);
  });

  test("gratuitous ARP (request and reply forms) creates no entry", () => {
    setup();
    injectMem(arpFrame(arp.ARP_OP_REQUEST, PEER_MAC, PEER_IP, 0, PEER_IP, 0xffffffffffff), 42);
    injectMem(arpFrame(arp.ARP_OP_REPLY, PEER_MAC, PEER_IP, 0xffffffffffff, PEER_IP, 0xffffffffffff), 42);
    expect(ifStat(IF_ARP_DROP_UNSOLICITED)).toBe(2);
    expect(arpLiveEntries()).toBe(0);
  });

  test("an unsolicited reply does not overwrite a resolved entry", () => {
    setup();
    inject(ARP_REQUEST); // peer cached at PEER_MAC
    txDrain();
    injectMem(arpFrame(arp.ARP_OP_REPLY, 0x0200000000ee, PEER_IP, OUR_MAC, OUR_IP), 42);
    expect(ifStat(IF_ARP_DROP_UNSOLICITED)).toBe(1);
    expect(arpLookup(PEER_IP)).toBe(<i64>PEER_MAC);
  });
});

describe("ARP resolution", () => {
  test("a datagram to an unresolved neighbour waits; the reply releases it with the right MAC", () => {
    setup();
    expect(sendTo(PEER_IP)).toBe(0);
    expect(sendTo(PEER_IP, 253, 0x43)).toBe(0);
    expect(ifStat(IF_ARP_PENDING_QUEUED)).toBe(2);
    expect(arpState(PEER_IP)).toBe(ARP_INCOMPLETE);
    expect(arpPendingCount(PEER_IP)).toBe(2);
    expect(txPending()).toBe(1); // one request, not one per datagram
    expectRequest(txPop(), PEER_IP);
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_REPLY_ACCEPTED)).toBe(1);
    expect(ifStat(IF_ARP_PENDING_SENT)).toBe(2);
    expect(arpState(PEER_IP)).toBe(ARP_REACHABLE);
    for (let k: u8 = 0; k < 2; k++) {
      const f = txPop();
      expect(poppedLen).toBe(44);
      expect(eth.dst(f)).toBe(PEER_MAC);
      expect(ip.verifyChecksum(f + 14)).toBe(true);
      expect(ip.dstAddr(f + 14)).toBe(PEER_IP);
      expect(ip.dontFrag(f + 14)).toBe(true); // DF on non-ICMP output, as Linux
      expect(load<u8>(f + 34)).toBe(0x42 + k); // order kept
    }
    expect(sendTo(PEER_IP)).toBe(0); // now straight to the ring
    expect(eth.dst(txPop())).toBe(PEER_MAC);
  });

  test("retries every arpRetryMs, gives up after 3 requests and drops the queue (virtual time)", () => {
    setup();
    sendTo(PEER_IP);
    expectRequest(txPop(), PEER_IP);
    advance(999);
    expect(txPending()).toBe(0);
    advance(1);
    expectRequest(txPop(), PEER_IP); // 2nd at +1000
    advance(1000);
    expectRequest(txPop(), PEER_IP); // 3rd at +2000
    expect(ifStat(IF_ARP_TX_REQUEST)).toBe(3);
    advance(999);
    expect(arpState(PEER_IP)).toBe(ARP_INCOMPLETE);
    advance(1);
    expect(txPending()).toBe(0);
    expect(arpState(PEER_IP)).toBe(ARP_FREE);
    expect(ifStat(IF_ARP_RESOLVE_FAILED)).toBe(1);
    expect(ifStat(IF_ARP_PENDING_DROP_UNRESOLVED)).toBe(1);
    expect(timers.active).toBe(0);
    expect(strayTimers).toBe(0);
    // A late reply is unsolicited now.
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_DROP_UNSOLICITED)).toBe(1);
  });

  test("requests are rate limited globally", () => {
    setup(16, 16);
    ifaceSetRateLimits(1000, 50, 2, 3); // ARP: 2/s, burst 3
    for (let i: u32 = 0; i < 6; i++) sendTo(0x0a000010 + i);
    expect(ifStat(IF_ARP_TX_REQUEST)).toBe(3);
    expect(ifStat(IF_ARP_REQUEST_RATE_LIMITED)).toBe(3);
    advance(1000); // 6 retries due, 2 tokens back
    expect(ifStat(IF_ARP_TX_REQUEST)).toBe(5);
    expect(ifStat(IF_ARP_REQUEST_RATE_LIMITED)).toBe(7);
  });

  test("the per-neighbour queue keeps the newest frames; the pool bound holds", () => {
    setup(8, 4); // 4 pending buffers; per-entry cap 4
    for (let i: u8 = 0; i < 5; i++) sendTo(PEER_IP, 253, 0x10 + i);
    expect(arpPendingCount(PEER_IP)).toBe(4);
    // 5th acquire found the pool empty (4 in the queue): dropped at acquire.
    expect(ifStat(IF_ARP_PENDING_DROP_FULL)).toBe(1);
    txDrain();
    inject(ARP_REPLY);
    expect(ifStat(IF_ARP_PENDING_SENT)).toBe(4);
    expect(load<u8>(txPop() + 34)).toBe(0x10);
  });

  test("the cache evicts the resolved entry closest to expiry when full", () => {
    setup(2, 8);
    inject(ARP_REQUEST); // 10.0.0.1 cached
    advance(10);
    injectMem(arpFrame(arp.ARP_OP_REQUEST, 0x02000000000b, 0x0a00000b, 0, OUR_IP), 42); // 10.0.0.11 cached
    txDrain();
    expect(arpLiveEntries()).toBe(2);
    sendTo(0x0a00000c); // needs a third entry
    expect(ifStat(IF_ARP_CACHE_EVICT)).toBe(1);
    expect(arpState(PEER_IP)).toBe(ARP_FREE); // the older one went
    expect(arpState(0x0a00000b)).toBe(ARP_REACHABLE);
    expect(arpState(0x0a00000c)).toBe(ARP_INCOMPLETE);
  });

  test("a full cache of unresolved entries refuses new neighbours (counted)", () => {
    setup(1, 8);
    sendTo(0x0a000010);
    expect(sendTo(0x0a000011)).not.toBe(0);
    expect(ifStat(IF_ARP_CACHE_FULL)).toBe(1);
    expect(arpState(0x0a000011)).toBe(ARP_FREE);
  });
});

describe("ARP expiry and refresh (virtual time)", () => {
  test("an unused entry expires after arpReachableMs", () => {
    setup();
    ifaceSetTimings(5000, 1000, 3, 30000);
    inject(ARP_REQUEST);
    txDrain();
    advance(4999);
    expect(arpState(PEER_IP)).toBe(ARP_REACHABLE);
    advance(1);
    expect(arpState(PEER_IP)).toBe(ARP_FREE);
    expect(ifStat(IF_ARP_CACHE_EXPIRED)).toBe(1);
    expect(txPending()).toBe(0); // no refresh for an unused entry
  });

  test("a used entry is refreshed with unicast requests and stays usable meanwhile", () => {
    setup();
    ifaceSetTimings(5000, 1000, 3, 30000);
    inject(ARP_REQUEST);
    txDrain();
    sendTo(PEER_IP); // marks it used
    txDrain();
    advance(5000);
    expect(arpState(PEER_IP)).toBe(ARP_PROBE);
    expect(ifStat(IF_ARP_CACHE_REFRESH)).toBe(1);
    expectRequest(txPop(), PEER_IP, PEER_MAC); // unicast to the cached MAC
    expect(sendTo(PEER_IP)).toBe(0);
    expect(eth.dst(txPop())).toBe(PEER_MAC);
    inject(ARP_REPLY); // solicited: accepted
    expect(ifStat(IF_ARP_REPLY_ACCEPTED)).toBe(1);
    expect(arpState(PEER_IP)).toBe(ARP_REACHABLE);
  });

  test("a refresh without answer removes the entry after 3 probes", () => {
    setup();
    ifaceSetTimings(5000, 1000, 3, 30000);
    inject(ARP_REQUEST);
    txDrain();
    sendTo(PEER_IP);
    txDrain();
    advance(5000);
    advance(1000);
    advance(1000);
    expect(arpState(PEER_IP)).toBe(ARP_PROBE);
    expect(txPending()).toBe(3);
    advance(1000);
    expect(arpState(PEER_IP)).toBe(ARP_FREE);
    expect(ifStat(IF_ARP_RESOLVE_FAILED)).toBe(1);
    expect(timers.active).toBe(0);
  });
});

describe("link up and routing", () => {
  test("gratuitous ARP at link up", () => {
    setup();
    expect(ifaceLinkUp()).toBe(0);
    expect(ifStat(IF_ARP_TX_GRATUITOUS)).toBe(1);
    const f = txPop();
    expectRequest(f, OUR_IP);
    expect(arp.spa(f + 14)).toBe(OUR_IP);
    expect(arp.tha(f + 14)).toBe(0);
  });

  test("off-link destinations go through the gateway", () => {
    setup();
    sendTo(0x08080808);
    expectRequest(txPop(), GATEWAY_IP);
    expect(arpPendingCount(GATEWAY_IP)).toBe(1);
    injectMem(arpFrame(arp.ARP_OP_REPLY, 0x0200000000fe, GATEWAY_IP, OUR_MAC, OUR_IP), 42);
    const f = txPop();
    expect(eth.dst(f)).toBe(0x0200000000fe);
    expect(ip.dstAddr(f + 14)).toBe(0x08080808);
  });

  test("no gateway: off-link output has no route (counted)", () => {
    setup();
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 1500, 8, 8, 0, 0)).toBe(0);
    expect(ipv4TxBegin(0x08080808, 6)).toBe(0);
    expect(ifStat(IF_TX_DROP_NO_ROUTE)).toBe(1);
    ipv4TxAbort();
  });

  test("ifaceInit rejects impossible configurations", () => {
    setup();
    expect(ifaceInit(0, OUR_IP, 24, 0, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(0x010000000001, OUR_IP, 24, 0, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, 0, 24, 0, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, 0x0a0000ff, 24, 0, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 33, 0, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0x0b000001, 1500, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 67, 8, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 1500, 0, 8, 0, 0)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 24, 0, 1500, 8, 8, 2, 65516)).toBe(E_IF_CONFIG);
    expect(ifaceInit(OUR_MAC, OUR_IP, 32, 0, 1500, 8, 8, 0, 0)).toBe(0);
  });
});
