// IPv4 fragment reassembly (RFC 791 §3.2 "Fragmentation and Reassembly", with the
// hole bookkeeping of RFC 815 kept as a sorted list of received ranges) in bounded
// memory: a slab of `slots` reassembly records, each with its own buffer of
// `maxBytes` payload bytes, carved at init.
//
//   Reassembly record (REASM_REC_SIZE = 208 bytes, 8-byte aligned)
//   ┌─────────────────────────────────────────────────────┐ 0
//   │ TimerNode (24): kind TIMER_KIND_REASSEMBLY,          │
//   │                 owner = record index                 │
//   ├──────────────┬──────────────┬─────────┬──────┬──────┤ 24
//   │ src u32      │ dst u32      │ id u16  │ proto│ used │
//   ├──────────────┼──────────────┼─────────┴──────┴──────┤ 36
//   │ totalLen u32 │ nRanges u32  │ hdrLen u32            │   totalLen = NO_TOTAL until the
//   ├──────────────┴──────────────┴───────────────────────┤ 48  last fragment (MF=0) arrives
//   │ header of the offset-0 fragment (60 bytes max)       │   hdrLen 0 until it arrives
//   ├─────────────────────────────────────────────────────┤ 108 (+4 pad → 112)
//   │ ranges: MAX_RANGES × { start u32, end u32 }, sorted, │   received byte ranges [start,end),
//   │         disjoint and non-adjacent (merged on insert) │   the complement are RFC 815's holes
//   ├─────────────────────────────────────────────────────┤ 112 + 8·MAX_RANGES = 208
//   └─────────────────────────────────────────────────────┘
//   buffer of record i: bufBase + i·maxBytes (payload byte k of the datagram at +k)
//
// Rules:
//   - Fragments are matched by (src, dst, protocol, identification) (RFC 791 §3.2).
//   - A fragment with MF set must carry a non-zero multiple of 8 bytes (RFC 791
//     §3.1 "Fragment Offset" is in 8-byte units), else MALFORMED.
//   - An exact duplicate of a received range is dropped alone (DUPLICATE); any
//     other overlap discards the whole datagram (OVERLAP). RFC 791 lets later
//     data overwrite; Linux since 4.19 and RFC 5722 (IPv6) treat overlap as an
//     attack, and so do we.
//   - A datagram longer than `maxBytes` (TOO_BIG), a second "last" fragment with a
//     different end, or data past the known end (MALFORMED), or more than
//     MAX_RANGES separate ranges (TOO_MANY_HOLES) discard the datagram.
//   - No free record: the new fragment is dropped (NO_BUFFER); held datagrams keep
//     their records until complete or timed out.
//   - Timeout: `reasmTimeoutMs` after the first fragment (Linux ipfrag_time = 30 s;
//     RFC 791 suggests 15 s as a lower bound). On expiry the datagram is dropped
//     and, if its offset-0 fragment arrived, an ICMP time exceeded (code 1) is sent
//     (RFC 1122 §3.3.2 "SHOULD").

import { timerInit, TIMER_KIND_REASSEMBLY } from "../time/timer";
import { timers } from "../time/clock";
import { Ipv4Repr } from "../wire/ipv4";
import * as ip from "../wire/ipv4";
import { ICMP_TIME_EXCEEDED, ICMP_TIME_EXCEEDED_REASSEMBLY } from "../wire/icmpv4";
import { icmpSendError } from "./icmp";
import {
  ifCount, IF_IP_FRAG_HELD, IF_IP_FRAG_DROP_DUPLICATE, IF_IP_FRAG_DROP_OVERLAP, IF_IP_FRAG_DROP_NO_BUFFER,
  IF_IP_FRAG_DROP_TOO_BIG, IF_IP_FRAG_DROP_MALFORMED, IF_IP_FRAG_DROP_TOO_MANY_HOLES, IF_IP_REASM_OK,
  IF_IP_REASM_TIMEOUT,
} from "./stats";

export const MAX_RANGES: u32 = 12;
const NO_TOTAL: u32 = 0xffff_ffff;

const R_SRC: usize = 24;
const R_DST: usize = 28;
const R_ID: usize = 32;
const R_PROTO: usize = 34;
const R_USED: usize = 35;
const R_TOTAL: usize = 36;
const R_NRANGES: usize = 40;
const R_HDRLEN: usize = 44;
const R_HDR: usize = 48;
const R_RANGES: usize = 112;
export const REASM_REC_SIZE: usize = R_RANGES + <usize>MAX_RANGES * 8;

/** Largest datagram payload IPv4 can describe: 65535 − 20. */
export const REASM_MAX_PAYLOAD: u32 = 65515;

/** Reassembly timeout in ms (Linux net.ipv4.ipfrag_time = 30 s). */
export let reasmTimeoutMs: u32 = 30_000;

let recBase: usize = 0;
let recCount: u32 = 0;
let bufBase: usize = 0;
let bufBytes: u32 = 0;
let liveRecords: u32 = 0;

/** The parsed header of the datagram reasmInput completed (valid until reasmRelease). */
export const reasmRepr = new Ipv4Repr();
/** The completed datagram's payload length. */
export let reasmLen: u32 = 0;
/** The completed datagram's saved header (offset-0 fragment, options included) and its length. */
export let reasmHdr: usize = 0;
export let reasmHdrLen: u32 = 0;

@inline function recAt(i: u32): usize { return recBase + <usize>i * REASM_REC_SIZE; }
@inline function recIndex(r: usize): u32 { return <u32>((r - recBase) / REASM_REC_SIZE); }
@inline function bufOf(r: usize): usize { return bufBase + <usize>recIndex(r) * <usize>bufBytes; }
@inline function rangeStart(r: usize, k: u32): u32 { return load<u32>(r + R_RANGES + (<usize>k << 3)); }
@inline function rangeEnd(r: usize, k: u32): u32 { return load<u32>(r + R_RANGES + (<usize>k << 3) + 4); }
@inline function setRange(r: usize, k: u32, s: u32, e: u32): void {
  store<u32>(r + R_RANGES + (<usize>k << 3), s);
  store<u32>(r + R_RANGES + (<usize>k << 3) + 4, e);
}

/** Bytes reasmInit will carve. */
export function reasmBytes(slots: u32, maxBytes: u32): u64 {
  return <u64>slots * (<u64>REASM_REC_SIZE + <u64>maxBytes);
}

/** Carves `slots` records (0 disables reassembly: every fragment is NO_BUFFER) of `maxBytes` each. */
export function reasmInit(slots: u32, maxBytes: u32): void {
  recCount = slots;
  bufBytes = maxBytes;
  liveRecords = 0;
  if (slots == 0) {
    recBase = 0;
    bufBase = 0;
    return;
  }
  recBase = heap.alloc(<usize>slots * REASM_REC_SIZE);
  memory.fill(recBase, 0, <usize>slots * REASM_REC_SIZE);
  for (let i: u32 = 0; i < slots; i++) timerInit(recAt(i), TIMER_KIND_REASSEMBLY, i);
  bufBase = heap.alloc(<usize>slots * <usize>maxBytes);
}

export function reasmSetTimeout(ms: u32): void {
  reasmTimeoutMs = ms > 0 ? ms : 1;
}

/** Datagrams being reassembled. */
export function reasmLive(): u32 {
  return liveRecords;
}

function discard(r: usize): void {
  timers.cancel(r);
  store<u8>(r + R_USED, 0);
  liveRecords--;
}

/** Releases the record of the datagram reasmInput just completed. */
export function reasmRelease(): void {
  if (reasmHdr != 0) {
    const r = reasmHdr - R_HDR;
    if (load<u8>(r + R_USED) != 0) discard(r);
  }
  reasmHdr = 0;
}

function find(src: u32, dst: u32, id: u16, proto: u8): usize {
  for (let i: u32 = 0; i < recCount; i++) {
    const r = recAt(i);
    if (load<u8>(r + R_USED) != 0 && load<u32>(r + R_SRC) == src && load<u32>(r + R_DST) == dst &&
        load<u16>(r + R_ID) == id && load<u8>(r + R_PROTO) == proto) return r;
  }
  return 0;
}

function allocRecord(d: Ipv4Repr): usize {
  for (let i: u32 = 0; i < recCount; i++) {
    const r = recAt(i);
    if (load<u8>(r + R_USED) == 0) {
      store<u32>(r + R_SRC, d.srcAddr);
      store<u32>(r + R_DST, d.dstAddr);
      store<u16>(r + R_ID, d.ident);
      store<u8>(r + R_PROTO, d.protocol);
      store<u8>(r + R_USED, 1);
      store<u32>(r + R_TOTAL, NO_TOTAL);
      store<u32>(r + R_NRANGES, 0);
      store<u32>(r + R_HDRLEN, 0);
      timers.schedule(r, reasmTimeoutMs);
      liveRecords++;
      return r;
    }
  }
  return 0;
}

/**
 * Takes one fragment: `d` its parsed header, `hdr` the header bytes, `payload` /
 * `len` its data. Returns the address of the complete datagram's payload (then
 * reasmRepr, reasmLen, reasmHdr, reasmHdrLen describe it, and the caller must call
 * reasmRelease after delivering it), or 0 when the fragment was held or dropped
 * (exactly one IF_IP_FRAG_* disposition counted).
 */
export function reasmInput(d: Ipv4Repr, hdr: usize, payload: usize, len: u32): usize {
  const off = d.fragOffset;
  const end = off + len;
  if (d.moreFrags && (len == 0 || (len & 7) != 0)) {
    ifCount(IF_IP_FRAG_DROP_MALFORMED);
    return 0;
  }
  let r = find(d.srcAddr, d.dstAddr, d.ident, d.protocol);
  if (end > bufBytes || end > REASM_MAX_PAYLOAD) {
    if (r != 0) discard(r);
    ifCount(recCount == 0 ? IF_IP_FRAG_DROP_NO_BUFFER : IF_IP_FRAG_DROP_TOO_BIG);
    return 0;
  }
  if (r == 0) {
    r = allocRecord(d);
    if (r == 0) {
      ifCount(IF_IP_FRAG_DROP_NO_BUFFER);
      return 0;
    }
  }
  const total = load<u32>(r + R_TOTAL);
  let n = load<u32>(r + R_NRANGES);
  if (!d.moreFrags) {
    // The last fragment fixes the datagram's length; nothing may lie beyond it.
    if ((total != NO_TOTAL && total != end) || (n > 0 && rangeEnd(r, n - 1) > end)) {
      discard(r);
      ifCount(IF_IP_FRAG_DROP_MALFORMED);
      return 0;
    }
    store<u32>(r + R_TOTAL, end);
  } else if (total != NO_TOTAL && end > total) {
    discard(r);
    ifCount(IF_IP_FRAG_DROP_MALFORMED);
    return 0;
  }
  if (len > 0) {
    // Find the insertion point k: the first range starting at or after `off`.
    let k: u32 = 0;
    while (k < n && rangeStart(r, k) < off) k++;
    if (k < n && rangeStart(r, k) == off && rangeEnd(r, k) == end) {
      ifCount(IF_IP_FRAG_DROP_DUPLICATE);
      return 0;
    }
    // Overlap with the previous range (it ends after we start) or the next one
    // (it starts before we end).
    if ((k > 0 && rangeEnd(r, k - 1) > off) || (k < n && rangeStart(r, k) < end)) {
      discard(r);
      ifCount(IF_IP_FRAG_DROP_OVERLAP);
      return 0;
    }
    const joinPrev = k > 0 && rangeEnd(r, k - 1) == off;
    const joinNext = k < n && rangeStart(r, k) == end;
    if (joinPrev && joinNext) {
      setRange(r, k - 1, rangeStart(r, k - 1), rangeEnd(r, k));
      for (let j = k; j + 1 < n; j++) setRange(r, j, rangeStart(r, j + 1), rangeEnd(r, j + 1));
      n--;
    } else if (joinPrev) {
      setRange(r, k - 1, rangeStart(r, k - 1), end);
    } else if (joinNext) {
      setRange(r, k, off, rangeEnd(r, k));
    } else {
      if (n == MAX_RANGES) {
        discard(r);
        ifCount(IF_IP_FRAG_DROP_TOO_MANY_HOLES);
        return 0;
      }
      for (let j = n; j > k; j--) setRange(r, j, rangeStart(r, j - 1), rangeEnd(r, j - 1));
      setRange(r, k, off, end);
      n++;
    }
    store<u32>(r + R_NRANGES, n);
    memory.copy(bufOf(r) + off, payload, len);
  }
  if (off == 0) {
    // Keep the first fragment's header: the completed datagram's header fields
    // and the ICMP time-exceeded quote come from it.
    memory.copy(r + R_HDR, hdr, d.headerLen);
    store<u32>(r + R_HDRLEN, d.headerLen);
  }
  const t = load<u32>(r + R_TOTAL);
  if (t != NO_TOTAL && t > 0 && n == 1 && rangeStart(r, 0) == 0 && rangeEnd(r, 0) == t && load<u32>(r + R_HDRLEN) != 0) {
    timers.cancel(r);
    reasmHdr = r + R_HDR;
    reasmHdrLen = load<u32>(r + R_HDRLEN);
    const h = reasmHdr;
    reasmRepr.srcAddr = ip.srcAddr(h);
    reasmRepr.dstAddr = ip.dstAddr(h);
    reasmRepr.protocol = ip.protocol(h);
    reasmRepr.ttl = ip.ttl(h);
    reasmRepr.dscpEcn = ip.dscpEcn(h);
    reasmRepr.dontFrag = false;
    reasmRepr.moreFrags = false;
    reasmRepr.ident = ip.ident(h);
    reasmRepr.fragOffset = 0;
    reasmRepr.headerLen = reasmHdrLen;
    reasmRepr.payloadLen = t;
    reasmLen = t;
    ifCount(IF_IP_REASM_OK);
    return bufOf(r);
  }
  if (t == 0) {
    // A lone zero-length last fragment at offset 0: an empty datagram sent as a
    // "fragment" is nonsense; discard it.
    discard(r);
    ifCount(IF_IP_FRAG_DROP_MALFORMED);
    return 0;
  }
  ifCount(IF_IP_FRAG_HELD);
  return 0;
}

/**
 * Expiry of a reassembly timer (the central dispatcher calls this for
 * TIMER_KIND_REASSEMBLY): drops the datagram and, when its first fragment is
 * here, sends ICMP time exceeded / reassembly (RFC 792, RFC 1122 §3.3.2).
 */
export function reasmOnTimer(node: usize): void {
  const r = node; // the node is at offset 0 of its record
  if (recCount == 0 || r < recBase || r >= recAt(recCount) || load<u8>(r + R_USED) == 0) return;
  ifCount(IF_IP_REASM_TIMEOUT);
  store<u8>(r + R_USED, 0);
  liveRecords--;
  const hl = load<u32>(r + R_HDRLEN);
  if (hl != 0) {
    const h = r + R_HDR;
    reasmRepr.srcAddr = ip.srcAddr(h);
    reasmRepr.dstAddr = ip.dstAddr(h);
    reasmRepr.protocol = ip.protocol(h);
    reasmRepr.fragOffset = 0;
    const got = rangeStart(r, 0) == 0 ? rangeEnd(r, 0) : 0;
    icmpSendError(ICMP_TIME_EXCEEDED, ICMP_TIME_EXCEEDED_REASSEMBLY, reasmRepr, h, hl, bufOf(r), got < 8 ? got : 8);
  }
}

/** Drops every datagram being reassembled (timers cancelled). */
export function reasmFlush(): void {
  for (let i: u32 = 0; i < recCount; i++) {
    const r = recAt(i);
    if (load<u8>(r + R_USED) != 0) discard(r);
  }
  reasmHdr = 0;
}
