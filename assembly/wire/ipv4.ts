// IPv4 header view and repr (RFC 791 §3.1).
//
//   IPv4 header (IPV4_HDR_LEN = 20 bytes without options; IHL·4 = 20..60 with them)
//    0       4       8              16     19                       31
//   ┌───────┬───────┬───────────────┬─────────────────────────────────┐
//   │ ver=4 │  IHL  │ DSCP  │  ECN  │          total length           │  0
//   ├───────┴───────┴───────────────┼─────┬───────────────────────────┤
//   │         identification        │flags│  fragment offset (×8 B)   │  4
//   ├───────────────┬───────────────┼─────┴───────────────────────────┤
//   │      TTL      │   protocol    │         header checksum         │  8
//   ├───────────────┴───────────────┴─────────────────────────────────┤
//   │                       source address                            │ 12
//   ├─────────────────────────────────────────────────────────────────┤
//   │                     destination address                         │ 16
//   ├─────────────────────────────────────────────────────────────────┤
//   │            options (IHL·4 − 20 bytes, skipped) ...              │ 20
//   └─────────────────────────────────────────────────────────────────┘
//   flags: bit 15 reserved (must be 0), bit 14 DF, bit 13 MF (of the u16 at offset 6).
//
// Lengths (HC-03): IHL ≥ 5 words (RFC 791 §3.1 "the minimum value for a correct
// header is 5"), IHL·4 ≤ total length ≤ bytes present. Options are skipped and
// accepted (RFC 1122 §3.2.1.8: a host must ignore options it does not understand);
// we never emit any. The header checksum is always verified (RFC 1122 §3.2.1.2).

import { loadU16BE, storeU16BE, loadU32BE, storeU32BE } from "../util/bytes";
import { checksum } from "../util/checksum";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_CHECKSUM } from "../iface/errors";

export const IPV4_VER_IHL: usize = 0;
export const IPV4_DSCP_ECN: usize = 1;
export const IPV4_TOTAL_LEN: usize = 2;
export const IPV4_IDENT: usize = 4;
export const IPV4_FLAGS_FRAG: usize = 6;
export const IPV4_TTL: usize = 8;
export const IPV4_PROTOCOL: usize = 9;
export const IPV4_CHECKSUM: usize = 10;
export const IPV4_SRC: usize = 12;
export const IPV4_DST: usize = 16;
export const IPV4_HDR_LEN: u32 = 20;
export const IPV4_MAX_HDR_LEN: u32 = 60;

export const IPV4_FLAG_RESERVED: u16 = 0x8000;
export const IPV4_FLAG_DF: u16 = 0x4000;
export const IPV4_FLAG_MF: u16 = 0x2000;
export const IPV4_FRAG_OFFSET_MASK: u16 = 0x1fff;

export const IP_PROTO_ICMP: u8 = 1;
export const IP_PROTO_TCP: u8 = 6;
export const IP_PROTO_UDP: u8 = 17;

/** Linux's default TTL (net.ipv4.ip_default_ttl = 64). */
export const IPV4_DEFAULT_TTL: u8 = 64;
export const IPV4_BROADCAST: u32 = 0xffff_ffff;

// --- view -------------------------------------------------------------------------

/**
 * The only gate (HC-03 (c)(d)). TRUNCATED when fewer than 20 bytes, fewer than
 * IHL·4 bytes, or fewer than the total length are present; MALFORMED when
 * IHL < 5 or total length < IHL·4. After OK, every field and the whole header
 * (options included) and the `totalLen` datagram bytes lie inside `len`.
 */
export function checkLen(p: usize, len: u32): i32 {
  if (len < IPV4_HDR_LEN) return E_IF_TRUNCATED;
  const hl = headerLen(p);
  if (hl < IPV4_HDR_LEN) return E_IF_MALFORMED;
  const tl = <u32>totalLen(p);
  if (tl < hl) return E_IF_MALFORMED;
  if (hl > len || tl > len) return E_IF_TRUNCATED;
  return 0;
}

@inline export function version(p: usize): u8 { return load<u8>(p + IPV4_VER_IHL) >> 4; }
/** IHL in bytes (IHL field × 4). */
@inline export function headerLen(p: usize): u32 { return (<u32>load<u8>(p + IPV4_VER_IHL) & 0xf) << 2; }
@inline export function dscpEcn(p: usize): u8 { return load<u8>(p + IPV4_DSCP_ECN); }
@inline export function totalLen(p: usize): u16 { return loadU16BE(p + IPV4_TOTAL_LEN); }
@inline export function ident(p: usize): u16 { return loadU16BE(p + IPV4_IDENT); }
@inline export function flagsFrag(p: usize): u16 { return loadU16BE(p + IPV4_FLAGS_FRAG); }
@inline export function dontFrag(p: usize): bool { return (flagsFrag(p) & IPV4_FLAG_DF) != 0; }
@inline export function moreFrags(p: usize): bool { return (flagsFrag(p) & IPV4_FLAG_MF) != 0; }
/** Fragment offset in bytes (field × 8). */
@inline export function fragOffset(p: usize): u32 { return (<u32>flagsFrag(p) & IPV4_FRAG_OFFSET_MASK) << 3; }
@inline export function ttl(p: usize): u8 { return load<u8>(p + IPV4_TTL); }
@inline export function protocol(p: usize): u8 { return load<u8>(p + IPV4_PROTOCOL); }
@inline export function hdrChecksum(p: usize): u16 { return loadU16BE(p + IPV4_CHECKSUM); }
@inline export function srcAddr(p: usize): u32 { return loadU32BE(p + IPV4_SRC); }
@inline export function dstAddr(p: usize): u32 { return loadU32BE(p + IPV4_DST); }

/** Sets version 4 and IHL from a header length in bytes (multiple of 4, 20..60). */
@inline export function setVersionIhl(p: usize, hdrLen: u32): void { store<u8>(p + IPV4_VER_IHL, <u8>(0x40 | (hdrLen >> 2))); }
@inline export function setDscpEcn(p: usize, v: u8): void { store<u8>(p + IPV4_DSCP_ECN, v); }
@inline export function setTotalLen(p: usize, v: u16): void { storeU16BE(p + IPV4_TOTAL_LEN, v); }
@inline export function setIdent(p: usize, v: u16): void { storeU16BE(p + IPV4_IDENT, v); }
@inline export function setFlagsFrag(p: usize, v: u16): void { storeU16BE(p + IPV4_FLAGS_FRAG, v); }
@inline export function setTtl(p: usize, v: u8): void { store<u8>(p + IPV4_TTL, v); }
@inline export function setProtocol(p: usize, v: u8): void { store<u8>(p + IPV4_PROTOCOL, v); }
@inline export function setHdrChecksum(p: usize, v: u16): void { storeU16BE(p + IPV4_CHECKSUM, v); }
@inline export function setSrcAddr(p: usize, v: u32): void { storeU32BE(p + IPV4_SRC, v); }
@inline export function setDstAddr(p: usize, v: u32): void { storeU32BE(p + IPV4_DST, v); }

/** True when the header checksum over IHL·4 bytes verifies (RFC 1071: the sum incl. the field is 0xFFFF). */
@inline
export function verifyChecksum(p: usize): bool {
  return checksum(p, headerLen(p)) == 0;
}

/** Computes and stores the header checksum over IHL·4 bytes. */
@inline
export function fillChecksum(p: usize): void {
  setHdrChecksum(p, 0);
  setHdrChecksum(p, checksum(p, headerLen(p)));
}

// --- repr -------------------------------------------------------------------------

export class Ipv4Repr {
  srcAddr: u32 = 0;
  dstAddr: u32 = 0;
  /** IP protocol number (IP_PROTO_*). */
  protocol: u8 = 0;
  ttl: u8 = IPV4_DEFAULT_TTL;
  dscpEcn: u8 = 0;
  dontFrag: bool = false;
  moreFrags: bool = false;
  ident: u16 = 0;
  /** Fragment offset in bytes. */
  fragOffset: u32 = 0;
  /** Header length in bytes as received (options included); emit always writes 20. */
  headerLen: u32 = IPV4_HDR_LEN;
  /** Payload bytes: total length − header length (never the frame's length). */
  payloadLen: u32 = 0;
}

/**
 * Parses and validates the header at `p` (`len` bytes present after the link
 * header, padding included). MALFORMED also for version ≠ 4 and a set reserved
 * flag bit (RFC 791 §3.1 "Bit 0: reserved, must be zero"); CHECKSUM when the
 * header checksum fails. The payload is p + out.headerLen, out.payloadLen bytes.
 */
export function parse(p: usize, len: u32, out: Ipv4Repr): i32 {
  const r = checkLen(p, len);
  if (r != 0) return r;
  if (version(p) != 4) return E_IF_MALFORMED;
  const ff = flagsFrag(p);
  if ((ff & IPV4_FLAG_RESERVED) != 0) return E_IF_MALFORMED;
  if (!verifyChecksum(p)) return E_IF_CHECKSUM;
  const hl = headerLen(p);
  out.srcAddr = srcAddr(p);
  out.dstAddr = dstAddr(p);
  out.protocol = protocol(p);
  out.ttl = ttl(p);
  out.dscpEcn = dscpEcn(p);
  out.dontFrag = (ff & IPV4_FLAG_DF) != 0;
  out.moreFrags = (ff & IPV4_FLAG_MF) != 0;
  out.ident = ident(p);
  out.fragOffset = (<u32>ff & IPV4_FRAG_OFFSET_MASK) << 3;
  out.headerLen = hl;
  out.payloadLen = <u32>totalLen(p) - hl;
  return 0;
}

/**
 * Writes a 20-byte header (no options) with its checksum. The caller guarantees
 * IPV4_HDR_LEN + repr.payloadLen ≤ 65535.
 */
export function emit(repr: Ipv4Repr, p: usize): void {
  let ff: u16 = <u16>((repr.fragOffset >> 3) & IPV4_FRAG_OFFSET_MASK);
  if (repr.dontFrag) ff |= IPV4_FLAG_DF;
  if (repr.moreFrags) ff |= IPV4_FLAG_MF;
  emitHeader(p, repr.srcAddr, repr.dstAddr, repr.protocol, repr.payloadLen, repr.ident, ff, repr.ttl, repr.dscpEcn);
}

/** emit() without a repr, for the output path. */
@inline
export function emitHeader(p: usize, src: u32, dst: u32, proto: u8, payloadLen: u32, id: u16, flagsFragField: u16, ttlValue: u8, tos: u8): void {
  store<u8>(p + IPV4_VER_IHL, 0x45);
  setDscpEcn(p, tos);
  setTotalLen(p, <u16>(IPV4_HDR_LEN + payloadLen));
  setIdent(p, id);
  setFlagsFrag(p, flagsFragField);
  setTtl(p, ttlValue);
  setProtocol(p, proto);
  setSrcAddr(p, src);
  setDstAddr(p, dst);
  setHdrChecksum(p, 0);
  setHdrChecksum(p, checksum(p, IPV4_HDR_LEN));
}
