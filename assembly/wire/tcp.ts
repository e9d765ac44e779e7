// TCP header: a stateless view over bytes, and the validated TcpRepr (STYLE §1.1).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-------------------------------+-------------------------------+
//  |          Source Port          |       Destination Port        |  0  TCP_SRC_PORT / TCP_DST_PORT
//  +-------------------------------+-------------------------------+
//  |                        Sequence Number                        |  4  TCP_SEQ
//  +---------------------------------------------------------------+
//  |                    Acknowledgment Number                      |  8  TCP_ACK
//  +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
//  |  Data |       |C|E|U|A|P|R|S|F|                               |
//  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12 TCP_DATA_OFF, 13 TCP_FLAGS, 14 TCP_WINDOW
//  |       |       |R|E|G|K|H|T|N|N|                               |
//  +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
//  |           Checksum            |         Urgent Pointer        | 16 TCP_CHECKSUM, 18 TCP_URGENT
//  +-------------------------------+-------------------------------+
//  |                    Options (data offset × 4 − 20 bytes)       | 20
//  +---------------------------------------------------------------+
//  |                             Data                              |
//                                    (RFC 9293 §3.1, Figure 1)
//
// Getters and setters never validate: `checkLen` is the only gate (STYLE §0.2), and
// `parse` runs it first. Byte order: every field is big-endian on the wire and a
// plain number here (util/bytes.ts).

import { loadU16BE, storeU16BE, loadU32BE, storeU32BE } from "../util/bytes";
import { checksumPartial, pseudoHeaderSum, checksumFinish } from "../util/checksum";

export const TCP_SRC_PORT: usize = 0;
export const TCP_DST_PORT: usize = 2;
export const TCP_SEQ: usize = 4;
export const TCP_ACK: usize = 8;
export const TCP_DATA_OFF: usize = 12;
export const TCP_FLAGS: usize = 13;
export const TCP_WINDOW: usize = 14;
export const TCP_CHECKSUM: usize = 16;
export const TCP_URGENT: usize = 18;
/** Minimum header (data offset 5). */
export const TCP_HDR_LEN: u32 = 20;
/** Maximum header (data offset 15). */
export const TCP_HDR_MAX: u32 = 60;
/** Largest options area. */
export const TCP_OPT_MAX: u32 = 40;
/** IP protocol number of TCP (pseudo-header). */
export const IPPROTO_TCP: u8 = 6;

export const TCP_FLAG_FIN: u8 = 0x01;
export const TCP_FLAG_SYN: u8 = 0x02;
export const TCP_FLAG_RST: u8 = 0x04;
export const TCP_FLAG_PSH: u8 = 0x08;
export const TCP_FLAG_ACK: u8 = 0x10;
export const TCP_FLAG_URG: u8 = 0x20;
export const TCP_FLAG_ECE: u8 = 0x40;
export const TCP_FLAG_CWR: u8 = 0x80;

// Option kinds (IANA "TCP Option Kind Numbers").
export const TCP_OPT_EOL: u8 = 0;
export const TCP_OPT_NOP: u8 = 1;
export const TCP_OPT_MSS: u8 = 2;
export const TCP_OPT_WS: u8 = 3;
export const TCP_OPT_SACK_PERM: u8 = 4;
export const TCP_OPT_SACK: u8 = 5;
export const TCP_OPT_TS: u8 = 8;

/** RFC 7323 §2.3: the largest shift; larger received values are used as 14. */
export const TCP_MAX_WS: u8 = 14;
/** Most SACK blocks kept from, or sent in, one segment (RFC 2018 §3: at most 4). */
export const TCP_SACK_MAX: i32 = 4;

// Result codes of checkLen/parse. (To be folded into assembly/errors.ts when it lands.)
export const TCP_OK: i32 = 0;
/** Fewer bytes than the header needs. */
export const TCP_ERR_TRUNCATED: i32 = 1;
/** Data offset below 5 (HC-03). */
export const TCP_ERR_MALFORMED: i32 = 2;

// ── view: getters ────────────────────────────────────────────────────────────
@inline export function srcPort(p: usize): u16 { return loadU16BE(p + TCP_SRC_PORT); }
@inline export function dstPort(p: usize): u16 { return loadU16BE(p + TCP_DST_PORT); }
@inline export function seqNumber(p: usize): u32 { return loadU32BE(p + TCP_SEQ); }
@inline export function ackNumber(p: usize): u32 { return loadU32BE(p + TCP_ACK); }
/** Header length in bytes (data offset × 4). */
@inline export function headerLen(p: usize): u32 { return (<u32>load<u8>(p + TCP_DATA_OFF) >> 4) << 2; }
@inline export function flags(p: usize): u8 { return load<u8>(p + TCP_FLAGS); }
@inline export function window(p: usize): u16 { return loadU16BE(p + TCP_WINDOW); }
@inline export function checksumField(p: usize): u16 { return loadU16BE(p + TCP_CHECKSUM); }
@inline export function urgent(p: usize): u16 { return loadU16BE(p + TCP_URGENT); }

// ── view: setters ────────────────────────────────────────────────────────────
@inline export function setSrcPort(p: usize, v: u16): void { storeU16BE(p + TCP_SRC_PORT, v); }
@inline export function setDstPort(p: usize, v: u16): void { storeU16BE(p + TCP_DST_PORT, v); }
@inline export function setSeqNumber(p: usize, v: u32): void { storeU32BE(p + TCP_SEQ, v); }
@inline export function setAckNumber(p: usize, v: u32): void { storeU32BE(p + TCP_ACK, v); }
/** Sets data offset from a header length in bytes (multiple of 4, 20..60); reserved bits 0. */
@inline export function setHeaderLen(p: usize, len: u32): void { store<u8>(p + TCP_DATA_OFF, <u8>((len >> 2) << 4)); }
@inline export function setFlags(p: usize, v: u8): void { store<u8>(p + TCP_FLAGS, v); }
@inline export function setWindow(p: usize, v: u16): void { storeU16BE(p + TCP_WINDOW, v); }
@inline export function setChecksumField(p: usize, v: u16): void { storeU16BE(p + TCP_CHECKSUM, v); }
@inline export function setUrgent(p: usize, v: u16): void { storeU16BE(p + TCP_URGENT, v); }

/**
 * The only gate: `len` bytes of TCP segment (header + data, as the IP total length
 * says) are at `p`. OK when the fixed header fits, the data offset is at least 5
 * words (RFC 9293 §3.1, HC-03) and the whole header is inside `len`.
 */
export function checkLen(p: usize, len: u32): i32 {
  if (len < TCP_HDR_LEN) return TCP_ERR_TRUNCATED;
  const h = headerLen(p);
  if (h < TCP_HDR_LEN) return TCP_ERR_MALFORMED;
  if (h > len) return TCP_ERR_TRUNCATED;
  return TCP_OK;
}

/** Checksum over pseudo-header + segment (RFC 9293 §3.1): true when it verifies. */
export function verifyChecksum(p: usize, len: u32, srcAddr: u32, dstAddr: u32): bool {
  const s = checksumPartial(p, len, pseudoHeaderSum(srcAddr, dstAddr, IPPROTO_TCP, len));
  return checksumFinish(s) == 0;
}

/** Writes the checksum of the `len`-byte segment at `p` (the field's old value is ignored). */
export function fillChecksum(p: usize, len: u32, srcAddr: u32, dstAddr: u32): void {
  setChecksumField(p, 0);
  const s = checksumPartial(p, len, pseudoHeaderSum(srcAddr, dstAddr, IPPROTO_TCP, len));
  setChecksumField(p, checksumFinish(s));
}

// ── repr ─────────────────────────────────────────────────────────────────────

/**
 * A validated, decoded segment header. One instance is allocated at init and
 * reused for every segment (no allocation per packet).
 */
export class TcpRepr {
  srcPort: u16 = 0;
  dstPort: u16 = 0;
  seq: u32 = 0;
  ack: u32 = 0;
  flags: u8 = 0;
  /** Raw (unscaled) window field. */
  window: u16 = 0;
  urgent: u16 = 0;
  /** Header length in bytes (20..60); payload starts here. */
  headerLen: u32 = TCP_HDR_LEN;
  /** Payload bytes (segment length − header length). */
  payloadLen: u32 = 0;
  /** MSS option value; 0 = absent (an MSS of 0 on the wire also reads as absent, HC-05). */
  mss: u16 = 0;
  /** Window-scale option present. */
  hasWs: bool = false;
  /** Shift from the WS option, already clamped to 14 (RFC 7323 §2.3, HC-05). */
  wsShift: u8 = 0;
  /** The WS option carried a shift above 14 (before clamping), for a counter/log. */
  wsClamped: bool = false;
  /** SACK-permitted option present (RFC 2018 §2). */
  sackPermitted: bool = false;
  /** Timestamps option present (RFC 7323 §3). */
  hasTs: bool = false;
  tsVal: u32 = 0;
  tsEcr: u32 = 0;
  /** SACK blocks (RFC 2018 §3), 0..4; left/right edges in the fields below. */
  sackCount: i32 = 0;
  sackLeft0: u32 = 0; sackLeft1: u32 = 0; sackLeft2: u32 = 0; sackLeft3: u32 = 0;
  sackRight0: u32 = 0; sackRight1: u32 = 0; sackRight2: u32 = 0; sackRight3: u32 = 0;
  /** The option walk stopped at a malformed option (HC-04); options after it are absent. */
  optMalformed: bool = false;

  /** Resets every field to "plain header, no options". */
  clear(): void {
    this.srcPort = 0; this.dstPort = 0; this.seq = 0; this.ack = 0; this.flags = 0;
    this.window = 0; this.urgent = 0; this.headerLen = TCP_HDR_LEN; this.payloadLen = 0;
    this.clearOptions();
  }

  clearOptions(): void {
    this.mss = 0; this.hasWs = false; this.wsShift = 0; this.wsClamped = false;
    this.sackPermitted = false; this.hasTs = false; this.tsVal = 0; this.tsEcr = 0;
    this.sackCount = 0; this.optMalformed = false;
  }

  @inline sackLeft(i: i32): u32 { return load<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackLeft0") + (<usize>i << 2)); }
  @inline sackRight(i: i32): u32 { return load<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackRight0") + (<usize>i << 2)); }
  @inline setSack(i: i32, left: u32, right: u32): void {
    store<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackLeft0") + (<usize>i << 2), left);
    store<u32>(changetype<usize>(this) + offsetof<TcpRepr>("sackRight0") + (<usize>i << 2), right);
  }

  /** Sequence space the segment occupies: payload + SYN + FIN (RFC 9293 §3.4 SEG.LEN). */
  @inline get segLen(): u32 {
    return this.payloadLen + ((this.flags & TCP_FLAG_SYN) != 0 ? 1 : 0) + ((this.flags & TCP_FLAG_FIN) != 0 ? 1 : 0);
  }
}

/**
 * Walks the options in bytes [20, hlen) of the header at `p` into `out`
 * (RFC 9293 §3.1 "Options"; HC-04). Every step advances by at least one byte and
 * no byte at or beyond `hlen` is read, so the walk ends on every input. At the
 * first malformed option (no room for the length byte, length < 2, or running
 * past the header) the walk stops and the remaining options are treated as
 * absent, as Linux's tcp_parse_options does; `optMalformed` records it.
 * A known option with a wrong length is skipped as if unknown.
 */
export function parseOptions(p: usize, hlen: u32, out: TcpRepr): void {
  out.clearOptions();
  let i: u32 = TCP_HDR_LEN;
  while (i < hlen) {
    const kind = load<u8>(p + i);
    if (kind == TCP_OPT_EOL) break;
    if (kind == TCP_OPT_NOP) { i++; continue; }
    if (i + 1 >= hlen) { out.optMalformed = true; break; } // HC-04 (c): kind in the last byte
    const olen = <u32>load<u8>(p + i + 1);
    if (olen < 2 || i + olen > hlen) { out.optMalformed = true; break; } // HC-04 (a)(b)(d)
    const v = p + i + 2;
    if (kind == TCP_OPT_MSS) {
      // RFC 9293 §3.7.1. MSS 0 is unusable (HC-05 (b)): read it as "no option", as Linux does.
      if (olen == 4) out.mss = loadU16BE(v);
    } else if (kind == TCP_OPT_WS) {
      if (olen == 3) {
        const s = load<u8>(v);
        out.hasWs = true;
        // RFC 7323 §2.3: "If a Window Scale option is received with a shift.cnt
        // value larger than 14, the TCP SHOULD log the error but MUST use 14".
        if (s > TCP_MAX_WS) { out.wsShift = TCP_MAX_WS; out.wsClamped = true; }
        else out.wsShift = s;
      }
    } else if (kind == TCP_OPT_SACK_PERM) {
      if (olen == 2) out.sackPermitted = true;
    } else if (kind == TCP_OPT_SACK) {
      // RFC 2018 §3: length 2 + 8n.
      if (olen >= 10 && ((olen - 2) & 7) == 0) {
        let n = <i32>((olen - 2) >> 3);
        if (n > TCP_SACK_MAX) n = TCP_SACK_MAX;
        for (let k = 0; k < n; k++) {
          out.setSack(k, loadU32BE(v + (<usize>k << 3)), loadU32BE(v + (<usize>k << 3) + 4));
        }
        out.sackCount = n;
      }
    } else if (kind == TCP_OPT_TS) {
      if (olen == 10) {
        out.hasTs = true;
        out.tsVal = loadU32BE(v);
        out.tsEcr = loadU32BE(v + 4);
      }
    }
    i += olen;
  }
}

/**
 * Validates the `len`-byte segment at `p` and decodes it into `out`.
 * Returns TCP_OK or TCP_ERR_*; the checksum is verified separately (it needs the
 * IP addresses): see verifyChecksum.
 */
export function parse(p: usize, len: u32, out: TcpRepr): i32 {
  const r = checkLen(p, len);
  if (r != TCP_OK) return r;
  const h = headerLen(p);
  out.srcPort = srcPort(p);
  out.dstPort = dstPort(p);
  out.seq = seqNumber(p);
  out.ack = ackNumber(p);
  out.flags = flags(p);
  out.window = window(p);
  out.urgent = urgent(p);
  out.headerLen = h;
  out.payloadLen = len - h;
  parseOptions(p, h, out);
  return TCP_OK;
}

/**
 * Bytes of options `emit` writes for `r` (a multiple of 4, ≤ 40). SACK blocks are
 * limited to what fits next to the other options.
 */
export function optionsLen(r: TcpRepr): u32 {
  let n: u32 = 0;
  if (r.mss != 0) n += 4;
  if (r.hasTs) n += 12; // [SACK-perm or NOP NOP] + TS 10
  else if (r.sackPermitted) n += 4; // NOP NOP SACK-perm
  if (r.hasWs) n += 4; // NOP WS
  const blocks = sackBlocksThatFit(r, n);
  if (blocks > 0) n += 4 + (<u32>blocks << 3);
  return n;
}

@inline
function sackBlocksThatFit(r: TcpRepr, used: u32): i32 {
  if (r.sackCount <= 0) return 0;
  const room = TCP_OPT_MAX - used;
  if (room < 12) return 0;
  let b = <i32>((room - 4) >> 3);
  if (b > r.sackCount) b = r.sackCount;
  if (b > TCP_SACK_MAX) b = TCP_SACK_MAX;
  return b;
}

/**
 * Writes the header of `r` (fixed part and options) at `p`, with a zero checksum.
 * Returns the header length. Option layout, each group 4-byte aligned:
 *
 *   MSS            02 04 mm mm
 *   SACK-perm+TS   04 02 08 0a vv vv vv vv ee ee ee ee   (NOP NOP 08 0a ... without SACK-perm)
 *   SACK-perm      01 01 04 02                            (when no TS)
 *   WS             01 03 03 ss
 *   SACK blocks    01 01 05 ll [left right]×n
 *
 * The caller has room for TCP_HDR_MAX bytes at `p`.
 */
export function emit(r: TcpRepr, p: usize): u32 {
  setSrcPort(p, r.srcPort);
  setDstPort(p, r.dstPort);
  setSeqNumber(p, r.seq);
  setAckNumber(p, r.ack);
  setFlags(p, r.flags);
  setWindow(p, r.window);
  setChecksumField(p, 0);
  setUrgent(p, r.urgent);
  let o = p + TCP_HDR_LEN;
  if (r.mss != 0) {
    store<u8>(o, TCP_OPT_MSS); store<u8>(o + 1, 4); storeU16BE(o + 2, r.mss);
    o += 4;
  }
  if (r.hasTs) {
    if (r.sackPermitted) { store<u8>(o, TCP_OPT_SACK_PERM); store<u8>(o + 1, 2); }
    else { store<u8>(o, TCP_OPT_NOP); store<u8>(o + 1, TCP_OPT_NOP); }
    store<u8>(o + 2, TCP_OPT_TS); store<u8>(o + 3, 10);
    storeU32BE(o + 4, r.tsVal); storeU32BE(o + 8, r.tsEcr);
    o += 12;
  } else if (r.sackPermitted) {
    store<u8>(o, TCP_OPT_NOP); store<u8>(o + 1, TCP_OPT_NOP);
    store<u8>(o + 2, TCP_OPT_SACK_PERM); store<u8>(o + 3, 2);
    o += 4;
  }
  if (r.hasWs) {
    store<u8>(o, TCP_OPT_NOP); store<u8>(o + 1, TCP_OPT_WS); store<u8>(o + 2, 3);
    store<u8>(o + 3, r.wsShift > TCP_MAX_WS ? TCP_MAX_WS : r.wsShift);
    o += 4;
  }
  const blocks = sackBlocksThatFit(r, <u32>(o - p) - TCP_HDR_LEN);
  if (blocks > 0) {
    store<u8>(o, TCP_OPT_NOP); store<u8>(o + 1, TCP_OPT_NOP);
    store<u8>(o + 2, TCP_OPT_SACK); store<u8>(o + 3, <u8>(2 + (blocks << 3)));
    o += 4;
    for (let k = 0; k < blocks; k++) {
      storeU32BE(o, r.sackLeft(k)); storeU32BE(o + 4, r.sackRight(k));
      o += 8;
    }
  }
  const h = <u32>(o - p);
  setHeaderLen(p, h);
  return h;
}
