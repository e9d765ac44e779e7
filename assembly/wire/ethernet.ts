// Ethernet II frame view and repr (IEEE 802.3 clause 3.2.6 "Length/Type" ≥ 0x0600).
//
//   Ethernet II header (ETH_HDR_LEN = 14 bytes; no preamble, no FCS: the link strips them)
//   ┌───────────────────────┬───────────────────────┬───────────┬──────────────
//   │ destination MAC (6)   │ source MAC (6)        │ type (2)  │ payload ...
//   └───────────────────────┴───────────────────────┴───────────┴──────────────
//   0                       6                       12          14
//
// A frame shorter than 60 bytes is padded by the sender (minimum frame 64 with the
// FCS); that padding belongs to no one: the IPv4 total length, never the frame
// length, decides how much of the payload is the datagram (HC-02 (e)).
//
// 802.1Q / 802.1ad tagged frames (type 0x8100 / 0x88A8 / 0x9100) parse fine here;
// the interface drops them and counts them (we do not support VLANs).

import { loadU16BE, storeU16BE, loadMac, storeMac } from "../util/bytes";
import { E_IF_TRUNCATED, E_IF_MALFORMED } from "../iface/errors";

export const ETH_DST: usize = 0;
export const ETH_SRC: usize = 6;
export const ETH_TYPE: usize = 12;
export const ETH_HDR_LEN: u32 = 14;
/** Smallest frame a sender may put on the wire without FCS (RFC 894: 46-byte minimum payload). */
export const ETH_MIN_FRAME: u32 = 60;

export const ETHERTYPE_IPV4: u16 = 0x0800;
export const ETHERTYPE_ARP: u16 = 0x0806;
export const ETHERTYPE_VLAN: u16 = 0x8100;
export const ETHERTYPE_QINQ: u16 = 0x88a8;
export const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
export const ETHERTYPE_IPV6: u16 = 0x86dd;
/** Values below this are an IEEE 802.3 length, not an Ethernet II type. */
export const ETHERTYPE_MIN: u16 = 0x0600;

// --- view -------------------------------------------------------------------------

/** The only gate: after OK every accessor below reads inside the frame. */
@inline
export function checkLen(p: usize, len: u32): i32 {
  return len < ETH_HDR_LEN ? E_IF_TRUNCATED : 0;
}

@inline export function dst(p: usize): u64 { return loadMac(p + ETH_DST); }
@inline export function src(p: usize): u64 { return loadMac(p + ETH_SRC); }
@inline export function etherType(p: usize): u16 { return loadU16BE(p + ETH_TYPE); }
@inline export function payload(p: usize): usize { return p + ETH_HDR_LEN; }

@inline export function setDst(p: usize, v: u64): void { storeMac(p + ETH_DST, v); }
@inline export function setSrc(p: usize, v: u64): void { storeMac(p + ETH_SRC, v); }
@inline export function setEtherType(p: usize, v: u16): void { storeU16BE(p + ETH_TYPE, v); }

/** True for the 802.1Q/802.1ad tag types. */
@inline
export function isVlanType(t: u16): bool {
  return t == ETHERTYPE_VLAN || t == ETHERTYPE_QINQ || t == ETHERTYPE_QINQ_OLD;
}

// --- repr -------------------------------------------------------------------------

export class EthernetRepr {
  /** Source MAC, low 48 bits. */
  src: u64 = 0;
  /** Destination MAC, low 48 bits. */
  dst: u64 = 0;
  /** Ethernet II type (≥ ETHERTYPE_MIN once parsed). */
  etherType: u16 = 0;
}

/**
 * Parses the header at `p` (`len` frame bytes) into `out`.
 * TRUNCATED below 14 bytes; MALFORMED when the type field is an 802.3 length
 * (< 0x0600): we speak Ethernet II only (RFC 894), not 802.3/LLC (RFC 1042).
 */
export function parse(p: usize, len: u32, out: EthernetRepr): i32 {
  const r = checkLen(p, len);
  if (r != 0) return r;
  const t = etherType(p);
  if (t < ETHERTYPE_MIN) return E_IF_MALFORMED;
  out.dst = dst(p);
  out.src = src(p);
  out.etherType = t;
  return 0;
}

/** Writes the 14-byte header; the payload follows at p + ETH_HDR_LEN. */
@inline
export function emit(repr: EthernetRepr, p: usize): void {
  setDst(p, repr.dst);
  setSrc(p, repr.src);
  setEtherType(p, repr.etherType);
}

/** emit() without a repr, for the hot output path. */
@inline
export function emitHeader(p: usize, dstMac: u64, srcMac: u64, type: u16): void {
  setDst(p, dstMac);
  setSrc(p, srcMac);
  setEtherType(p, type);
}
