// The network interface: configuration (ifaceInit), the per-frame ingress
// dispatch, and the hook through which IPv4 hands protocol-6 datagrams to TCP.
//
//   ifaceInput(frame, len)                         one RX frame, any bytes
//     └ Ethernet II: length, 802.1Q (dropped), destination MAC, type
//         ├ 0x0806 → arpInput                       (neighbor.ts)
//         └ 0x0800 → ipv4Input
//              ├ header checks, checksum (HC-02 (b), HC-03 (c)(d)(e))
//              ├ source sanity, destination ours/broadcast (route.ts)
//              ├ fragment → reasmInput → (held | complete datagram)
//              └ deliver(protocol)
//                   ├ 1 → icmpInput                  (icmp.ts)
//                   ├ 6 → tcpInput hook              (TCP engine; default counts "no transport")
//                   └ * → ICMP protocol unreachable  (rate limited)
//
// Every frame ends in exactly one disposition counter (stats.ts): the randomized
// ingress test checks stat(IF_RX_FRAMES) == Σ dispositions after a million frames.
//
// Memory: ifaceInit carves the ARP cache, the pending-frame pool and the
// reassembly slab with heap.alloc, once; nothing here allocates afterwards.

import * as eth from "../wire/ethernet";
import * as ip from "../wire/ipv4";
import { Ipv4Repr } from "../wire/ipv4";
import { MAC_BROADCAST, macIsMulticast } from "../util/bytes";
import { ICMP_DEST_UNREACH, ICMP_UNREACH_PROTOCOL } from "../wire/icmpv4";
import { routeConfigure, ifMac, ifAddr, isBadSrc, isLocalDst, isBroadcast, isMulticast, isLoopback, maskOf, isNetOrBroadcast, MIN_MTU, MAX_MTU } from "./route";
import { neighborInit, neighborBytes, neighborSetTimings, neighborSetRateLimit, arpInput, arpAnnounce } from "./neighbor";
import { reasmInit, reasmBytes, reasmInput, reasmRelease, reasmSetTimeout, reasmRepr, reasmLen, reasmHdr, reasmHdrLen, REASM_MAX_PAYLOAD } from "./reassembly";
import { icmpInput, icmpSendError, icmpSetRateLimit } from "./icmp";
import { outputInit } from "./output";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_CHECKSUM, E_IF_NOT_FOR_US, E_IF_CONFIG, E_IF_HELD } from "./errors";
import {
  ifCount, ifStatsReset, IF_RX_FRAMES, IF_ETH_DROP_TRUNCATED, IF_ETH_DROP_MALFORMED, IF_ETH_DROP_VLAN,
  IF_ETH_DROP_NOT_FOR_US, IF_ETH_DROP_UNKNOWN_TYPE, IF_IP_DROP_TRUNCATED, IF_IP_DROP_MALFORMED,
  IF_IP_DROP_CHECKSUM, IF_IP_DROP_BAD_SRC, IF_IP_DROP_NOT_FOR_US, IF_IP_DELIVER_TCP, IF_IP_PROTO_UNREACHABLE,
  IF_IP_DROP_NO_PROTO_BCAST, IF_IP_DROP_TCP_BCAST, IF_TCP_NO_TRANSPORT,
} from "./stats";

// --- the TCP hook ---------------------------------------------------------------------

/**
 * Receives one validated IPv4 datagram of protocol 6: `dgram` is its parsed
 * header (addresses, header length, ...), `payload` the TCP segment's first byte
 * and `len` its length taken from the IPv4 total length (Ethernet padding
 * excluded, HC-02 (e)). The bytes are valid only during the call (an RX slot or a
 * reassembly buffer): the transport copies what it keeps.
 */
export type TransportInput = (dgram: Ipv4Repr, payload: usize, len: u32) => void;

function noTransport(dgram: Ipv4Repr, payload: usize, len: u32): void {
  ifCount(IF_TCP_NO_TRANSPORT);
}

let tcpInput: TransportInput = noTransport;

/** Wires TCP's segment entry (init does this); `setTcpInput(null)`-like reset: pass tcpInputDefault(). */
export function setTcpInput(fn: TransportInput): void {
  tcpInput = fn;
}

/** The default protocol-6 hook: answers nothing, counts IF_TCP_NO_TRANSPORT. */
export function tcpInputDefault(): TransportInput {
  return noTransport;
}

// --- configuration ----------------------------------------------------------------

/** Defaults a caller may use for the limits. */
export const IFACE_DEFAULT_MTU: u32 = 1500;
export const IFACE_DEFAULT_ARP_ENTRIES: u32 = 64;
export const IFACE_DEFAULT_ARP_PENDING: u32 = 64;
export const IFACE_DEFAULT_REASM_SLOTS: u32 = 4;
export const IFACE_DEFAULT_REASM_BYTES: u32 = 65515;
export const IFACE_MAX_ARP_ENTRIES: u32 = 65536;
export const IFACE_MAX_ARP_PENDING: u32 = 65536;
export const IFACE_MAX_REASM_SLOTS: u32 = 1024;

let configured: bool = false;

/**
 * Configures the interface and carves its tables (heap.alloc, once per instance;
 * specs may call it again). Returns 0 or E_IF_CONFIG, carving nothing on error.
 *
 *   mac            our MAC (low 48 bits): not zero, not a group address
 *   addr           our IPv4 address: a unicast address (not 0, broadcast, multicast, 127/8)
 *   prefixLen      1..32
 *   gateway        default gateway, 0 for none; otherwise on our subnet and not us
 *   mtu            IP MTU, 68..65535 (1500 on Ethernet)
 *   arpEntries     ARP cache entries, 1..65536
 *   arpPending     frames that may wait for ARP resolution in total, 0..65536
 *   reasmSlots     datagrams reassembled at once, 0..1024 (0: fragments are dropped)
 *   reasmMaxBytes  largest reassembled payload, 8..65515 (ignored when reasmSlots = 0)
 *
 * Timings keep the Linux defaults (ARP reachable 30 s, retry 1 s, 3 requests;
 * reassembly 30 s; ICMP errors 1000/s burst 50; ARP requests 100/s burst 20);
 * ifaceSetTimings / ifaceSetRateLimits change them.
 */
export function ifaceInit(
  mac: u64, addr: u32, prefixLen: u32, gateway: u32, mtu: u32,
  arpEntries: u32, arpPending: u32, reasmSlots: u32, reasmMaxBytes: u32,
): i32 {
  if (mac == 0 || mac > 0xffff_ffff_ffff || macIsMulticast(mac)) return E_IF_CONFIG;
  if (addr == 0 || addr == 0xffff_ffff || isMulticast(addr) || isLoopback(addr)) return E_IF_CONFIG;
  if (prefixLen < 1 || prefixLen > 32) return E_IF_CONFIG;
  const mask = maskOf(prefixLen);
  if (isNetOrBroadcast(addr, mask, prefixLen)) return E_IF_CONFIG;
  if (gateway != 0 && (gateway == addr || (gateway & mask) != (addr & mask))) return E_IF_CONFIG;
  if (mtu < MIN_MTU || mtu > MAX_MTU) return E_IF_CONFIG;
  if (arpEntries < 1 || arpEntries > IFACE_MAX_ARP_ENTRIES || arpPending > IFACE_MAX_ARP_PENDING) return E_IF_CONFIG;
  if (reasmSlots > IFACE_MAX_REASM_SLOTS) return E_IF_CONFIG;
  if (reasmSlots > 0 && (reasmMaxBytes < 8 || reasmMaxBytes > REASM_MAX_PAYLOAD)) return E_IF_CONFIG;
  routeConfigure(mac, addr, prefixLen, gateway, mtu);
  neighborInit(arpEntries, arpPending, mtu + eth.ETH_HDR_LEN);
  reasmInit(reasmSlots, reasmSlots > 0 ? reasmMaxBytes : 0);
  icmpSetRateLimit(1000, 50);
  neighborSetRateLimit(100, 20);
  outputInit(<u16>(addr ^ (addr >> 16)));
  ifStatsReset();
  tcpInput = noTransport;
  configured = true;
  return 0;
}

/** Bytes ifaceInit carves for these limits (for the memory accounting). */
export function ifaceBytes(mtu: u32, arpEntries: u32, arpPending: u32, reasmSlots: u32, reasmMaxBytes: u32): u64 {
  return neighborBytes(arpEntries, arpPending, mtu + eth.ETH_HDR_LEN) + reasmBytes(reasmSlots, reasmSlots > 0 ? reasmMaxBytes : 0);
}

/** ARP reachable time, ARP retry interval, ARP requests per resolution, reassembly timeout (ms). */
export function ifaceSetTimings(arpReachableMs: u32, arpRetryMs: u32, arpMaxRequests: u32, reasmTimeoutMs: u32): void {
  neighborSetTimings(arpReachableMs, arpRetryMs, arpMaxRequests);
  reasmSetTimeout(reasmTimeoutMs);
}

/** ICMP error and ARP request token buckets (per second, burst); 0/s disables a limit. */
export function ifaceSetRateLimits(icmpPerSec: u32, icmpBurst: u32, arpPerSec: u32, arpBurst: u32): void {
  icmpSetRateLimit(icmpPerSec, icmpBurst);
  neighborSetRateLimit(arpPerSec, arpBurst);
}

/** The link came up: announce our address with a gratuitous ARP. Returns 0 or the TX failure. */
export function ifaceLinkUp(): i32 {
  return configured ? arpAnnounce() : E_IF_CONFIG;
}

/** Our IPv4 address (TCP's pseudo-header source), 0 before ifaceInit. */
export function ifaceAddr(): u32 {
  return ifAddr;
}

/** Our MAC address. */
export function ifaceMac(): u64 {
  return ifMac;
}

// --- ingress -----------------------------------------------------------------------

const ipRx = new Ipv4Repr();

/**
 * Ingress of one Ethernet frame of `len` bytes at `frame` (an RX ring slot).
 * Signature matches mem/rings.ts RxHandler, so init can pass it to setRxHandler.
 */
export function ifaceInput(frame: usize, len: u32, timeUs: u64): void {
  ifCount(IF_RX_FRAMES);
  if (eth.checkLen(frame, len) != 0) {
    ifCount(IF_ETH_DROP_TRUNCATED);
    return;
  }
  const type = eth.etherType(frame);
  if (type < eth.ETHERTYPE_MIN) {
    ifCount(IF_ETH_DROP_MALFORMED);
    return;
  }
  if (eth.isVlanType(type)) {
    ifCount(IF_ETH_DROP_VLAN);
    return;
  }
  const dst = eth.dst(frame);
  const linkBcast = dst == MAC_BROADCAST;
  if (dst != ifMac && !linkBcast) {
    ifCount(IF_ETH_DROP_NOT_FOR_US);
    return;
  }
  const p = frame + eth.ETH_HDR_LEN;
  const n = len - eth.ETH_HDR_LEN;
  if (type == eth.ETHERTYPE_IPV4) ipv4Input(p, n, linkBcast);
  else if (type == eth.ETHERTYPE_ARP) arpInput(p, n);
  else ifCount(IF_ETH_DROP_UNKNOWN_TYPE);
}

/**
 * IPv4 receive path for the `len` bytes at `p` (padding included; the total
 * length decides). Returns 0 when delivered or the reason code.
 */
export function ipv4Input(p: usize, len: u32, linkBcast: bool): i32 {
  const r = ip.parse(p, len, ipRx);
  if (r != 0) {
    ifCount(r == E_IF_TRUNCATED ? IF_IP_DROP_TRUNCATED : r == E_IF_CHECKSUM ? IF_IP_DROP_CHECKSUM : IF_IP_DROP_MALFORMED);
    return r;
  }
  if (isBadSrc(ipRx.srcAddr)) {
    ifCount(IF_IP_DROP_BAD_SRC);
    return E_IF_MALFORMED;
  }
  // Ours or a broadcast (RFC 1122 §3.3.6); a unicast datagram that came as a
  // link-layer broadcast is discarded too (RFC 1122 §3.3.6 "SHOULD").
  const dst = ipRx.dstAddr;
  if (!isLocalDst(dst) || (linkBcast && !isBroadcast(dst))) {
    ifCount(IF_IP_DROP_NOT_FOR_US);
    return E_IF_NOT_FOR_US;
  }
  // TTL is not checked on local delivery: RFC 1122 §3.2.1.7 "A host MUST NOT
  // discard a datagram just because it was received with TTL less than 2".
  const hl = ipRx.headerLen;
  if (ipRx.moreFrags || ipRx.fragOffset != 0) {
    const whole = reasmInput(ipRx, p, p + hl, ipRx.payloadLen);
    if (whole == 0) return E_IF_HELD; // held or dropped, counted
    deliver(reasmRepr, reasmHdr, reasmHdrLen, whole, reasmLen);
    reasmRelease();
    return 0;
  }
  deliver(ipRx, p, hl, p + hl, ipRx.payloadLen);
  return 0;
}

/** Hands a complete datagram to its protocol (exactly one disposition counted). */
function deliver(d: Ipv4Repr, hdr: usize, hdrLen: u32, payload: usize, len: u32): void {
  const proto = d.protocol;
  if (proto == ip.IP_PROTO_TCP) {
    if (isBroadcast(d.dstAddr)) {
      ifCount(IF_IP_DROP_TCP_BCAST); // RFC 1122 §4.2.3.10: TCP is unicast only
      return;
    }
    ifCount(IF_IP_DELIVER_TCP);
    tcpInput(d, payload, len);
    return;
  }
  if (proto == ip.IP_PROTO_ICMP) {
    icmpInput(d, payload, len);
    return;
  }
  // RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not speak
  // (UDP included: the stack has no UDP yet). No error for broadcasts.
  if (isBroadcast(d.dstAddr)) {
    ifCount(IF_IP_DROP_NO_PROTO_BCAST);
    return;
  }
  ifCount(IF_IP_PROTO_UNREACHABLE);
  icmpSendError(ICMP_DEST_UNREACH, ICMP_UNREACH_PROTOCOL, d, hdr, hdrLen, payload, len);
}
