// IPv4 output: the "acquire a frame, fill the L4 payload in place, commit" path
// that TCP and ICMP use. No copy on the fast path: the caller writes its segment
// straight into a TX ring slot; only when the next hop is not resolved yet does the
// frame go into an ARP pending buffer (and is copied once, when the reply comes).
//
//   frame being built (txFrame)
//   ┌────────────────┬──────────────────┬───────────────────────────────┐
//   │ Ethernet (14)  │ IPv4 header (20) │ L4 payload (≤ ipv4TxMaxPayload)│
//   └────────────────┴──────────────────┴───────────────────────────────┘
//   txFrame          +14                +34 = what ipv4TxBegin returns
//
// Usage (one output open at a time; single-threaded, so this is a strict pairing):
//   const l4 = ipv4TxBegin(dst, IP_PROTO_TCP);   // 0: no route / ring full / queue full (counted)
//   if (l4 != 0) { ...write n bytes at l4 (checksum with pseudoHeaderSum(ifAddr, dst, 6, n))...;
//                  ipv4TxCommit(n); }            // or ipv4TxAbort()
//
// Header choices (Linux-like): TTL 64 (ip_default_ttl); DF set on every datagram
// except ICMP (Linux sets DF when path-MTU discovery is on, its default, and its
// ICMP reply sockets use IP_PMTUDISC_DONT); no options; DSCP/ECN 0. The
// identification is one global counter: RFC 6864 §4.1 needs uniqueness only for
// fragmentable datagrams (Linux uses a per-socket counter for DF datagrams).
// Outgoing datagrams are never fragmented: TCP keeps to the MSS, and an oversized
// commit is refused (E_IF_TOO_BIG, counted).

import * as eth from "../wire/ethernet";
import * as ip from "../wire/ipv4";
import { MAC_BROADCAST } from "../util/bytes";
import { txAcquire, txCommit, txFrameCapacity } from "../mem/rings";
import { ifMac, ifAddr, ifMtu, nextHop, isBroadcast } from "./route";
import { arpLookup, arpPendingAcquire, arpPendingCommit, arpPendingRelease, arpPendingFrameBytes } from "./neighbor";
import { E_IF_STATE, E_IF_TOO_BIG, E_IF_NO_ROUTE, E_IF_NO_BUFFER } from "./errors";
import {
  ifCount, IF_TX_FRAMES, IF_TX_DROP_RING_FULL, IF_TX_DROP_NO_ROUTE, IF_TX_DROP_TOO_BIG, IF_TX_DROP_BUSY,
  IF_IP_TX_DATAGRAMS,
} from "./stats";

const TX_NONE: u8 = 0;
const TX_RING: u8 = 1;
const TX_PENDING: u8 = 2;

/** Ethernet + IPv4 header bytes in front of the L4 payload. */
export const L4_OFFSET: u32 = 34;

let txState: u8 = TX_NONE;
let txFrame: usize = 0;
let txDst: u32 = 0;
let txHop: u32 = 0;
let txMac: u64 = 0;
let txProto: u8 = 0;
let ipIdent: u16 = 0;

/** Seeds the identification counter (ifaceInit). */
export function outputInit(identSeed: u16): void {
  txState = TX_NONE;
  txFrame = 0;
  ipIdent = identSeed;
}

/**
 * The largest L4 payload a datagram may carry: the MTU less the 20-byte header,
 * and what a TX slot (and a pending buffer) can hold after 34 header bytes.
 */
export function ipv4TxMaxPayload(): u32 {
  let m: u32 = ifMtu - ip.IPV4_HDR_LEN;
  const cap = txFrameCapacity();
  const c: u32 = cap > L4_OFFSET ? cap - L4_OFFSET : 0;
  if (c < m) m = c;
  return m;
}

/**
 * Opens an output datagram to `dst` with protocol `proto` and returns the address
 * where the caller writes the L4 payload (ipv4TxMaxPayload() bytes available), or
 * 0 when nothing can be sent now: no route, TX ring full, ARP queue full (each
 * counted). An output left open is abandoned by the next ipv4TxBegin (counted
 * IF_TX_DROP_BUSY).
 */
export function ipv4TxBegin(dst: u32, proto: u8): usize {
  if (txState != TX_NONE) {
    ifCount(IF_TX_DROP_BUSY);
    ipv4TxAbort();
  }
  const hop = nextHop(dst);
  if (hop == 0 || ifAddr == 0) {
    ifCount(IF_TX_DROP_NO_ROUTE);
    return 0;
  }
  if (ipv4TxMaxPayload() == 0) {
    ifCount(IF_TX_DROP_TOO_BIG);
    return 0;
  }
  let f: usize = 0;
  if (isBroadcast(dst)) {
    txMac = MAC_BROADCAST;
  } else {
    const m = arpLookup(hop);
    if (m < 0) {
      // Not resolved: build into a pending buffer; commit queues it behind ARP.
      if (arpPendingFrameBytes() < L4_OFFSET + ipv4TxMaxPayload()) {
        ifCount(IF_TX_DROP_TOO_BIG);
        return 0;
      }
      f = arpPendingAcquire();
      if (f == 0) return 0; // counted IF_ARP_PENDING_DROP_FULL
      txState = TX_PENDING;
      txFrame = f;
      txDst = dst;
      txHop = hop;
      txProto = proto;
      txMac = 0;
      return f + L4_OFFSET;
    }
    txMac = <u64>m;
  }
  f = txAcquire();
  if (f == 0) {
    ifCount(IF_TX_DROP_RING_FULL);
    return 0;
  }
  txState = TX_RING;
  txFrame = f;
  txDst = dst;
  txHop = hop;
  txProto = proto;
  return f + L4_OFFSET;
}

/**
 * Completes the open datagram with `l4Len` payload bytes: writes the IPv4 and
 * Ethernet headers and publishes the frame (or queues it for ARP). Returns 0,
 * E_IF_STATE when nothing is open, E_IF_TOO_BIG (dropped, counted) when l4Len
 * exceeds ipv4TxMaxPayload().
 */
export function ipv4TxCommit(l4Len: u32): i32 {
  if (txState == TX_NONE) return E_IF_STATE;
  if (l4Len > ipv4TxMaxPayload()) {
    ifCount(IF_TX_DROP_TOO_BIG);
    ipv4TxAbort();
    return E_IF_TOO_BIG;
  }
  const f = txFrame;
  const df: u16 = txProto == ip.IP_PROTO_ICMP ? 0 : ip.IPV4_FLAG_DF;
  ip.emitHeader(f + eth.ETH_HDR_LEN, ifAddr, txDst, txProto, l4Len, ipIdent, df, ip.IPV4_DEFAULT_TTL, 0);
  ipIdent++;
  eth.emitHeader(f, txMac, ifMac, eth.ETHERTYPE_IPV4);
  const len = L4_OFFSET + l4Len;
  ifCount(IF_IP_TX_DATAGRAMS);
  const st = txState;
  txState = TX_NONE;
  txFrame = 0;
  if (st == TX_RING) {
    txCommit(f, len);
    ifCount(IF_TX_FRAMES);
    return 0;
  }
  return arpPendingCommit(txHop, f, len);
}

/** Abandons the open datagram (nothing is sent). */
export function ipv4TxAbort(): void {
  if (txState == TX_PENDING) arpPendingRelease(txFrame);
  // A TX ring slot needs no release: txAcquire does not advance the ring.
  txState = TX_NONE;
  txFrame = 0;
}

// --- the TCP engine's output contract (tcp/env.ts envTxBegin / envTxSend) --------------
//
// TCP builds a segment before it names the destination to the IP layer, so it gets
// the L4 area of the next TX ring slot up front and routes at send time:
//   seg = ipv4SegmentBegin()                      // TX slot + 34, 0 when the ring is full
//   ...build the segment at seg (checksum with pseudoHeaderSum(src, dst, 6, len))...
//   ipv4SegmentSend(seg, len, src, dst, 6)        // route, frame, commit (or queue for ARP)
// The fast path (next hop resolved) writes the two headers in front of the segment
// and commits the slot: no copy. An unresolved next hop costs one copy into an ARP
// pending buffer. A segment that is never sent costs nothing (the slot is reused).

/** The L4 area of the next free TX slot (ipv4SegmentCapacity() bytes), 0 when the ring is full (counted). */
export function ipv4SegmentBegin(): usize {
  const f = txAcquire();
  if (f == 0) {
    ifCount(IF_TX_DROP_RING_FULL);
    return 0;
  }
  if (txFrameCapacity() <= L4_OFFSET) return 0;
  return f + L4_OFFSET;
}

/** Bytes available at the address ipv4SegmentBegin returns (also bounded by the MTU at send). */
export function ipv4SegmentCapacity(): u32 {
  return ipv4TxMaxPayload();
}

/**
 * Sends the `len`-byte L4 payload built at `seg` (from ipv4SegmentBegin) as an
 * IPv4 datagram `src` → `dst` of protocol `proto`. Returns 0 (sent or queued
 * behind ARP) or the reason it was dropped (counted): E_IF_STATE when `seg` is not
 * the current TX slot, E_IF_TOO_BIG, E_IF_NO_ROUTE, E_IF_NO_BUFFER.
 */
export function ipv4SegmentSend(seg: usize, len: u32, src: u32, dst: u32, proto: u8): i32 {
  const f = seg - L4_OFFSET;
  if (seg < L4_OFFSET || txAcquire() != f) {
    ifCount(IF_TX_DROP_BUSY);
    return E_IF_STATE;
  }
  if (len > ipv4TxMaxPayload()) {
    ifCount(IF_TX_DROP_TOO_BIG);
    return E_IF_TOO_BIG;
  }
  const hop = nextHop(dst);
  if (hop == 0 || ifAddr == 0 || isBroadcast(dst)) {
    ifCount(IF_TX_DROP_NO_ROUTE);
    return E_IF_NO_ROUTE;
  }
  const df: u16 = proto == ip.IP_PROTO_ICMP ? 0 : ip.IPV4_FLAG_DF;
  ip.emitHeader(f + eth.ETH_HDR_LEN, src, dst, proto, len, ipIdent, df, ip.IPV4_DEFAULT_TTL, 0);
  ipIdent++;
  ifCount(IF_IP_TX_DATAGRAMS);
  const total = L4_OFFSET + len;
  const m = arpLookup(hop);
  if (m >= 0) {
    eth.emitHeader(f, <u64>m, ifMac, eth.ETHERTYPE_IPV4);
    txCommit(f, total);
    ifCount(IF_TX_FRAMES);
    return 0;
  }
  if (arpPendingFrameBytes() < total) {
    ifCount(IF_TX_DROP_TOO_BIG);
    return E_IF_TOO_BIG;
  }
  const b = arpPendingAcquire();
  if (b == 0) return E_IF_NO_BUFFER; // counted IF_ARP_PENDING_DROP_FULL
  eth.emitHeader(f, 0, ifMac, eth.ETHERTYPE_IPV4);
  memory.copy(b, f, total);
  return arpPendingCommit(hop, b, total);
}

/** True while an output is open (between ipv4TxBegin and commit/abort). */
export function ipv4TxOpen(): bool {
  return txState != TX_NONE;
}
