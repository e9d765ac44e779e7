// ICMPv4 message view and repr (RFC 792), for the messages the stack sends or
// reads: echo request/reply, destination unreachable, time exceeded.
//
//   ICMPv4 header (ICMP_HDR_LEN = 8 bytes) inside an IPv4 datagram of protocol 1
//   ┌────────┬────────┬──────────────────┐
//   │ type   │ code   │ checksum         │  0
//   ├────────┴────────┴──────────────────┤
//   │ rest of header (4 bytes):          │  4
//   │   echo:     identifier │ sequence  │
//   │   unreach:  unused(2)  │ next-hop MTU (code 4, RFC 1191) │
//   ├────────────────────────────────────┤
//   │ data ...                           │  8
//   │   echo: any bytes, echoed as is    │
//   │   errors: the offending IP header + first 8 bytes of its payload │
//   └────────────────────────────────────┘
//
// The checksum covers the whole ICMP message: the IPv4 payload length decides how
// long it is (RFC 792 "The checksum is the 16-bit ones's complement of the one's
// complement sum of the ICMP message starting with the ICMP Type").

import { loadU16BE, storeU16BE } from "../util/bytes";
import { checksum } from "../util/checksum";
import { E_IF_TRUNCATED, E_IF_MALFORMED, E_IF_CHECKSUM, E_IF_UNSUPPORTED } from "../iface/errors";

export const ICMP_TYPE: usize = 0;
export const ICMP_CODE: usize = 1;
export const ICMP_CHECKSUM: usize = 2;
export const ICMP_IDENT: usize = 4;
export const ICMP_SEQ: usize = 6;
export const ICMP_MTU: usize = 6;
export const ICMP_DATA: usize = 8;
export const ICMP_HDR_LEN: u32 = 8;

export const ICMP_ECHO_REPLY: u8 = 0;
export const ICMP_DEST_UNREACH: u8 = 3;
export const ICMP_ECHO_REQUEST: u8 = 8;
export const ICMP_TIME_EXCEEDED: u8 = 11;

export const ICMP_UNREACH_NET: u8 = 0;
export const ICMP_UNREACH_HOST: u8 = 1;
export const ICMP_UNREACH_PROTOCOL: u8 = 2;
export const ICMP_UNREACH_PORT: u8 = 3;
export const ICMP_UNREACH_FRAG_NEEDED: u8 = 4;
export const ICMP_TIME_EXCEEDED_TTL: u8 = 0;
export const ICMP_TIME_EXCEEDED_REASSEMBLY: u8 = 1;

// --- view -------------------------------------------------------------------------

/** The only gate: the 8-byte header must be present. */
@inline
export function checkLen(p: usize, len: u32): i32 {
  return len < ICMP_HDR_LEN ? E_IF_TRUNCATED : 0;
}

@inline export function msgType(p: usize): u8 { return load<u8>(p + ICMP_TYPE); }
@inline export function code(p: usize): u8 { return load<u8>(p + ICMP_CODE); }
@inline export function icmpChecksum(p: usize): u16 { return loadU16BE(p + ICMP_CHECKSUM); }
@inline export function echoIdent(p: usize): u16 { return loadU16BE(p + ICMP_IDENT); }
@inline export function echoSeq(p: usize): u16 { return loadU16BE(p + ICMP_SEQ); }
@inline export function nextHopMtu(p: usize): u16 { return loadU16BE(p + ICMP_MTU); }
@inline export function data(p: usize): usize { return p + ICMP_DATA; }

@inline export function setMsgType(p: usize, v: u8): void { store<u8>(p + ICMP_TYPE, v); }
@inline export function setCode(p: usize, v: u8): void { store<u8>(p + ICMP_CODE, v); }
@inline export function setIcmpChecksum(p: usize, v: u16): void { storeU16BE(p + ICMP_CHECKSUM, v); }
@inline export function setEchoIdent(p: usize, v: u16): void { storeU16BE(p + ICMP_IDENT, v); }
@inline export function setEchoSeq(p: usize, v: u16): void { storeU16BE(p + ICMP_SEQ, v); }
@inline export function setNextHopMtu(p: usize, v: u16): void { storeU16BE(p + ICMP_MTU, v); }

/** True when the checksum over the `len`-byte message verifies. */
@inline
export function verifyChecksum(p: usize, len: u32): bool {
  return checksum(p, len) == 0;
}

/** Computes and stores the checksum over the `len`-byte message. */
@inline
export function fillChecksum(p: usize, len: u32): void {
  setIcmpChecksum(p, 0);
  setIcmpChecksum(p, checksum(p, len));
}

// --- repr -------------------------------------------------------------------------

export class IcmpRepr {
  msgType: u8 = 0;
  code: u8 = 0;
  /** Echo: identifier; otherwise the first half of the rest-of-header word. */
  ident: u16 = 0;
  /** Echo: sequence number; unreachable code 4: next-hop MTU. */
  seqNo: u16 = 0;
  /** Address of the data after the 8-byte header (inside the parsed buffer). */
  dataPtr: usize = 0;
  /** Data bytes after the header. */
  dataLen: u32 = 0;
}

/**
 * Parses the `len`-byte message at `p` (len = IPv4 payload length). Verifies the
 * checksum first (CHECKSUM); MALFORMED for an echo with a non-zero code (RFC 792:
 * "Code 0"); UNSUPPORTED for types other than echo request/reply, destination
 * unreachable and time exceeded (RFC 1122 §3.2.2: unknown types are silently
 * discarded).
 */
export function parse(p: usize, len: u32, out: IcmpRepr): i32 {
  const r = checkLen(p, len);
  if (r != 0) return r;
  if (!verifyChecksum(p, len)) return E_IF_CHECKSUM;
  const t = msgType(p);
  const c = code(p);
  if (t == ICMP_ECHO_REQUEST || t == ICMP_ECHO_REPLY) {
    if (c != 0) return E_IF_MALFORMED;
  } else if (t == ICMP_DEST_UNREACH) {
    if (c > 15) return E_IF_MALFORMED; // RFC 1812 §5.2.7.1 defines codes 0..15
  } else if (t == ICMP_TIME_EXCEEDED) {
    if (c > 1) return E_IF_MALFORMED;
  } else {
    return E_IF_UNSUPPORTED;
  }
  out.msgType = t;
  out.code = c;
  out.ident = echoIdent(p);
  out.seqNo = echoSeq(p);
  out.dataPtr = p + ICMP_DATA;
  out.dataLen = len - ICMP_HDR_LEN;
  return 0;
}

/**
 * Writes the 8-byte header and the checksum over header + `repr.dataLen` data
 * bytes, which must already be at p + 8 (copy them first when repr.dataPtr is
 * elsewhere: emit never moves data).
 */
export function emit(repr: IcmpRepr, p: usize): void {
  setMsgType(p, repr.msgType);
  setCode(p, repr.code);
  setEchoIdent(p, repr.ident);
  setEchoSeq(p, repr.seqNo);
  fillChecksum(p, ICMP_HDR_LEN + repr.dataLen);
}
