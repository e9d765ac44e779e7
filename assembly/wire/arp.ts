// ARP packet view and repr, for Ethernet hardware and IPv4 protocol addresses
// only (RFC 826; hardware type 1, protocol type 0x0800, hlen 6, plen 4).
//
//   ARP for Ethernet/IPv4 (ARP_LEN = 28 bytes, inside an Ethernet II frame of type 0x0806)
//   ┌──────────┬──────────┬──────┬──────┬──────────┐
//   │ htype u16│ ptype u16│ hlen │ plen │ oper u16 │  8
//   ├──────────┴──────────┴──────┴──────┴──────────┴────────────┐
//   │ sender hardware address (sha, 6)   │ sender IP (spa, 4)    │  18
//   ├────────────────────────────────────┼───────────────────────┤
//   │ target hardware address (tha, 6)   │ target IP (tpa, 4)    │  28
//   └────────────────────────────────────┴───────────────────────┘
//
// The view's offsets assume hlen 6 / plen 4; `checkLen` accepts any well-formed
// generic ARP (8 + 2·hlen + 2·plen bytes present) so a foreign hardware/protocol
// pair is reported UNSUPPORTED by `parse`, not TRUNCATED.

import { loadU16BE, storeU16BE, loadU32BE, storeU32BE, loadMac, storeMac } from "../util/bytes";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_UNSUPPORTED } from "../iface/errors";

export const ARP_HTYPE: usize = 0;
export const ARP_PTYPE: usize = 2;
export const ARP_HLEN: usize = 4;
export const ARP_PLEN: usize = 5;
export const ARP_OPER: usize = 6;
export const ARP_SHA: usize = 8;
export const ARP_SPA: usize = 14;
export const ARP_THA: usize = 18;
export const ARP_TPA: usize = 24;
/** Fixed part before the addresses. */
export const ARP_FIXED_LEN: u32 = 8;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN: u32 = 28;

export const ARP_HTYPE_ETHERNET: u16 = 1;
export const ARP_PTYPE_IPV4: u16 = 0x0800;
export const ARP_OP_REQUEST: u16 = 1;
export const ARP_OP_REPLY: u16 = 2;

// --- view -------------------------------------------------------------------------

/**
 * The only gate. TRUNCATED when the fixed part or the addresses that its hlen/plen
 * announce are not all inside `len` bytes.
 */
export function checkLen(p: usize, len: u32): i32 {
  if (len < ARP_FIXED_LEN) return E_IF_TRUNCATED;
  const need = ARP_FIXED_LEN + 2 * (<u32>load<u8>(p + ARP_HLEN) + <u32>load<u8>(p + ARP_PLEN));
  return len < need ? E_IF_TRUNCATED : 0;
}

@inline export function htype(p: usize): u16 { return loadU16BE(p + ARP_HTYPE); }
@inline export function ptype(p: usize): u16 { return loadU16BE(p + ARP_PTYPE); }
@inline export function hlen(p: usize): u8 { return load<u8>(p + ARP_HLEN); }
@inline export function plen(p: usize): u8 { return load<u8>(p + ARP_PLEN); }
@inline export function oper(p: usize): u16 { return loadU16BE(p + ARP_OPER); }
// The address accessors are valid only for hlen 6 / plen 4 (checked by parse).
@inline export function sha(p: usize): u64 { return loadMac(p + ARP_SHA); }
@inline export function spa(p: usize): u32 { return loadU32BE(p + ARP_SPA); }
@inline export function tha(p: usize): u64 { return loadMac(p + ARP_THA); }
@inline export function tpa(p: usize): u32 { return loadU32BE(p + ARP_TPA); }

@inline export function setHtype(p: usize, v: u16): void { storeU16BE(p + ARP_HTYPE, v); }
@inline export function setPtype(p: usize, v: u16): void { storeU16BE(p + ARP_PTYPE, v); }
@inline export function setHlen(p: usize, v: u8): void { store<u8>(p + ARP_HLEN, v); }
@inline export function setPlen(p: usize, v: u8): void { store<u8>(p + ARP_PLEN, v); }
@inline export function setOper(p: usize, v: u16): void { storeU16BE(p + ARP_OPER, v); }
@inline export function setSha(p: usize, v: u64): void { storeMac(p + ARP_SHA, v); }
@inline export function setSpa(p: usize, v: u32): void { storeU32BE(p + ARP_SPA, v); }
@inline export function setTha(p: usize, v: u64): void { storeMac(p + ARP_THA, v); }
@inline export function setTpa(p: usize, v: u32): void { storeU32BE(p + ARP_TPA, v); }

// --- repr -------------------------------------------------------------------------

export class ArpRepr {
  /** ARP_OP_REQUEST or ARP_OP_REPLY. */
  operation: u16 = 0;
  senderMac: u64 = 0;
  senderIp: u32 = 0;
  targetMac: u64 = 0;
  targetIp: u32 = 0;
}

/**
 * Parses an Ethernet/IPv4 ARP packet. UNSUPPORTED for other hardware/protocol
 * types; MALFORMED when hlen/plen do not match those types (RFC 826 "?Do I have
 * the hardware type in ar$hrd ... ?Do I speak the protocol in ar$pro?") or the
 * opcode is neither request nor reply.
 */
export function parse(p: usize, len: u32, out: ArpRepr): i32 {
  const r = checkLen(p, len);
  if (r != 0) return r;
  if (htype(p) != ARP_HTYPE_ETHERNET || ptype(p) != ARP_PTYPE_IPV4) return E_IF_UNSUPPORTED;
  if (hlen(p) != 6 || plen(p) != 4) return E_IF_MALFORMED;
  const op = oper(p);
  if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) return E_IF_MALFORMED;
  out.operation = op;
  out.senderMac = sha(p);
  out.senderIp = spa(p);
  out.targetMac = tha(p);
  out.targetIp = tpa(p);
  return 0;
}

/** Writes the 28-byte packet. */
export function emit(repr: ArpRepr, p: usize): void {
  emitPacket(p, repr.operation, repr.senderMac, repr.senderIp, repr.targetMac, repr.targetIp);
}

/** emit() without a repr. */
export function emitPacket(p: usize, op: u16, senderMac: u64, senderIp: u32, targetMac: u64, targetIp: u32): void {
  setHtype(p, ARP_HTYPE_ETHERNET);
  setPtype(p, ARP_PTYPE_IPV4);
  setHlen(p, 6);
  setPlen(p, 4);
  setOper(p, op);
  setSha(p, senderMac);
  setSpa(p, senderIp);
  setTha(p, targetMac);
  setTpa(p, targetIp);
}
