// Benchmark drivers for issue 4 (Ethernet / ARP / IPv4 / ICMP), exported by
// build/bench.wasm. The loops run inside the module; the host times each loop.
//
//   benchIfaceSetup()          timers, rings (64 RX / 64 TX × 2048 B), interface
//                              10.0.0.2/24, the peer 10.0.0.1 learnt through ARP,
//                              and the frames used below built once
//   benchEchoRing(n)           n ICMP echo round trips through the core: the 98-byte
//                              request (56 data bytes, like `ping`) is placed in the
//                              RX ring, rxPoll → ingress → echo reply built in a TX
//                              slot → the TX frame taken by the "host" side
//   benchEchoDirect(n)         the same without the RX ring (ifaceInput called directly)
//   benchParseTcpIface(n)      n TCP/IPv4 frames (a 54-byte pure ACK) through the
//                              ingress up to the protocol-6 hook (Ethernet checks,
//                              IPv4 parse + header checksum, address checks, dispatch)
//   benchParseTcpFull(n)       the same plus wire/tcp parse and the TCP checksum over
//                              pseudo-header + segment (what TCP input then adds)
// Each returns a value derived from the work (so nothing is optimized away).

import * as eth from "../wire/ethernet";
import * as ip from "../wire/ipv4";
import * as icmp from "../wire/icmpv4";
import * as arp from "../wire/arp";
import * as tcp from "../wire/tcp";
import { Ipv4Repr } from "../wire/ipv4";
import { TimerNode, TIMER_KIND_ARP, TIMER_KIND_REASSEMBLY } from "../time/timer";
import { initTimers } from "../time/clock";
import { ringsInit, rxPoll, setRxHandler, ringSlot, ringHead, ringTail, RX_RING, TX_RING } from "../mem/rings";
import { RING_HEAD_OFF, RING_TAIL_OFF, SLOT_HDR_SIZE, SLOT_LEN_OFF } from "../abi";
import { ifaceInit, ifaceInput, setTcpInput } from "../iface/interface";
import { arpOnTimer } from "../iface/neighbor";
import { reasmOnTimer } from "../iface/reassembly";
import { ifStat, ifStatsPtr, IF_STAT_COUNT, IF_ICMP_TX_ECHO_REPLY } from "../iface/stats";
import { heapTop } from "../mem/layout";

const OUR_MAC: u64 = 0x020000000001;
const PEER_MAC: u64 = 0x525400123456;
const OUR_IP: u32 = 0x0a000002;
const PEER_IP: u32 = 0x0a000001;
const ECHO_DATA: u32 = 56;

let echoFrame: usize = 0;
let echoLen: u32 = 0;
let tcpFrame: usize = 0;
let tcpLen: u32 = 0;
let hookSum: u32 = 0;
const tcpRepr = new tcp.TcpRepr();

function benchDispatch(node: usize): void {
  const k = changetype<TimerNode>(node).kind;
  if (k == TIMER_KIND_ARP) arpOnTimer(node);
  else if (k == TIMER_KIND_REASSEMBLY) reasmOnTimer(node);
}

function countingHook(d: Ipv4Repr, p: usize, len: u32): void {
  hookSum += len + <u32>load<u8>(p);
}

function fullTcpHook(d: Ipv4Repr, p: usize, len: u32): void {
  if (tcp.parse(p, len, tcpRepr) == 0 && tcp.verifyChecksum(p, len, d.srcAddr, d.dstAddr)) hookSum += len + 1;
}

/** Takes every TX frame (the host's side of the TX ring); returns how many. */
function txTakeAll(): u32 {
  const head = ringHead(TX_RING);
  const n = head - ringTail(TX_RING);
  store<u32>(TX_RING + RING_TAIL_OFF, head);
  return n;
}

/** Sets everything up; returns 0 or the failing step's code. */
export function benchIfaceSetup(): i32 {
  initTimers(true, 0, benchDispatch);
  let r = ringsInit(64, 64, 2048);
  if (r != 0) return r;
  r = ifaceInit(OUR_MAC, OUR_IP, 24, 0, 1500, 64, 64, 4, 65515);
  if (r != 0) return r;
  setRxHandler(ifaceInput);
  // The peer asks for us: we answer and cache it (so replies go straight out).
  const a = heap.alloc(64);
  eth.emitHeader(a, 0xffff_ffff_ffff, PEER_MAC, eth.ETHERTYPE_ARP);
  arp.emitPacket(a + 14, arp.ARP_OP_REQUEST, PEER_MAC, PEER_IP, 0, OUR_IP);
  ifaceInput(a, 42, 0);
  txTakeAll();
  // Echo request, 56 data bytes (98-byte frame).
  echoLen = 14 + 20 + 8 + ECHO_DATA;
  echoFrame = heap.alloc(echoLen);
  eth.emitHeader(echoFrame, OUR_MAC, PEER_MAC, eth.ETHERTYPE_IPV4);
  ip.emitHeader(echoFrame + 14, PEER_IP, OUR_IP, ip.IP_PROTO_ICMP, 8 + ECHO_DATA, 0x1234, ip.IPV4_FLAG_DF, 64, 0);
  const m = echoFrame + 34;
  icmp.setMsgType(m, icmp.ICMP_ECHO_REQUEST);
  icmp.setCode(m, 0);
  icmp.setEchoIdent(m, 0x4321);
  icmp.setEchoSeq(m, 1);
  for (let i: u32 = 0; i < ECHO_DATA; i++) store<u8>(m + 8 + i, <u8>i);
  icmp.fillChecksum(m, 8 + ECHO_DATA);
  // A pure ACK, 10.0.0.1:40000 → 10.0.0.2:80 (54-byte frame).
  tcpLen = 54;
  tcpFrame = heap.alloc(64);
  memory.fill(tcpFrame, 0, 64);
  eth.emitHeader(tcpFrame, OUR_MAC, PEER_MAC, eth.ETHERTYPE_IPV4);
  ip.emitHeader(tcpFrame + 14, PEER_IP, OUR_IP, ip.IP_PROTO_TCP, 20, 0x1c46, ip.IPV4_FLAG_DF, 64, 0);
  const t = tcpFrame + 34;
  store<u16>(t, bswap<u16>(40000));
  store<u16>(t + 2, bswap<u16>(80));
  store<u32>(t + 4, bswap<u32>(0x01020305));
  store<u32>(t + 8, bswap<u32>(0x0a0b0c0d));
  store<u8>(t + 12, 0x50);
  store<u8>(t + 13, 0x10);
  store<u16>(t + 14, bswap<u16>(502));
  tcp.fillChecksum(t, 20, PEER_IP, OUR_IP);
  return 0;
}

/** n echo round trips through RX ring → ingress → TX ring; returns replies taken. */
export function benchEchoRing(n: u32): u32 {
  let taken: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const head = ringHead(RX_RING);
    const slot = ringSlot(RX_RING, head);
    memory.copy(slot + SLOT_HDR_SIZE, echoFrame, echoLen);
    store<u32>(slot + SLOT_LEN_OFF, echoLen);
    store<u32>(RX_RING + RING_HEAD_OFF, head + 1);
    rxPoll(1);
    taken += txTakeAll();
  }
  return taken;
}

/** n echo round trips calling the ingress directly; returns replies taken. */
export function benchEchoDirect(n: u32): u32 {
  let taken: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    ifaceInput(echoFrame, echoLen, 0);
    taken += txTakeAll();
  }
  return taken;
}

/** n TCP/IPv4 frames through the ingress to the protocol-6 hook. */
export function benchParseTcpIface(n: u32): u32 {
  setTcpInput(countingHook);
  hookSum = 0;
  for (let i: u32 = 0; i < n; i++) ifaceInput(tcpFrame, tcpLen, 0);
  return hookSum;
}

/** The same plus TCP header parse and TCP checksum verification. */
export function benchParseTcpFull(n: u32): u32 {
  setTcpInput(fullTcpHook);
  hookSum = 0;
  for (let i: u32 = 0; i < n; i++) ifaceInput(tcpFrame, tcpLen, 0);
  return hookSum;
}

/** Echo replies sent so far (sanity check for the host). */
export function benchIfaceReplies(): u64 {
  return ifStat(IF_ICMP_TX_ECHO_REPLY);
}

/** The interface counter block, for host/iface-stats.ts. */
export function benchIfaceStatsPtr(): usize {
  return ifStatsPtr();
}

export function benchIfaceStatsCount(): u32 {
  return IF_STAT_COUNT;
}

/** The stub allocator's top (mem/layout.ts probe): must not move while the loops run. */
export function benchIfaceHeapTop(): usize {
  return heapTop();
}
