// ICMP in the stack (RFC 792, RFC 1122 §3.2.2): echo replies, and the error
// messages the IP layer emits (protocol unreachable, reassembly time exceeded),
// the latter rate limited.
//
// Echo (RFC 792 "Echo or Echo Reply Message"; RFC 1122 §3.2.2.6): the reply
// carries the request's identifier, sequence number and data unchanged; only the
// type becomes 0 and the checksum is patched incrementally (RFC 1624). Any size
// whose reply fits the MTU is answered; larger (reassembled) requests are dropped
// and counted, since we never fragment. Echo requests to a broadcast address are
// ignored, like Linux (icmp_echo_ignore_broadcasts = 1; RFC 1122 §3.2.2.6 allows
// either).
//
// Errors (RFC 1122 §3.2.2): never sent in response to an ICMP error, to a
// datagram sent to a broadcast or multicast address or received as a link-layer
// broadcast, to a non-initial fragment, or to a datagram whose source is not a
// unicast address. The message carries the offending IP header and as much of its
// data as keeps the whole error within 576 bytes (RFC 1812 §4.3.2.3, like Linux).
// Rate: one global token bucket (Linux icmp_msgs_per_sec = 1000, burst 50; Linux
// also limits per destination, icmp_ratelimit = 1 s, which we do not).

import * as icmp from "../wire/icmpv4";
import * as ip from "../wire/ipv4";
import { Ipv4Repr } from "../wire/ipv4";
import { loadU16BE } from "../util/bytes";
import { checksumUpdate16 } from "../util/checksum";
import { ifMtu, isBroadcast, isMulticast } from "./route";
import { ipv4TxBegin, ipv4TxCommit, ipv4TxAbort, ipv4TxMaxPayload } from "./output";
import { RateLimiter, rateInit, rateTake } from "./ratelimit";
import { E_IF_TRUNCATED, E_IF_CHECKSUM, E_IF_UNSUPPORTED, E_IF_TOO_BIG, E_IF_RATE_LIMITED, E_IF_NOT_FOR_US } from "./errors";
import {
  ifCount, IF_ICMP_DROP_TRUNCATED, IF_ICMP_DROP_CHECKSUM, IF_ICMP_DROP_MALFORMED, IF_ICMP_DROP_UNSUPPORTED,
  IF_ICMP_ECHO_REQUEST, IF_ICMP_DROP_ECHO_TOO_BIG, IF_ICMP_DROP_ECHO_BROADCAST, IF_ICMP_RX_ECHO_REPLY,
  IF_ICMP_RX_ERROR, IF_ICMP_TX_ECHO_REPLY, IF_ICMP_TX_UNREACH, IF_ICMP_TX_TIME_EXCEEDED,
  IF_ICMP_ERR_RATE_LIMITED, IF_ICMP_ERR_SUPPRESSED,
} from "./stats";

/** Largest ICMP error datagram (RFC 1812 §4.3.2.3). */
export const ICMP_ERROR_MAX_DATAGRAM: u32 = 576;

const errLimiter = changetype<RateLimiter>(memory.data(offsetof<RateLimiter>(), 8));
const rx = new icmp.IcmpRepr();

/** Resets the error rate limit (ifaceInit): `perSec` errors per second, `burst` at once; 0/s = unlimited. */
export function icmpSetRateLimit(perSec: u32, burst: u32): void {
  rateInit(errLimiter, perSec, burst);
}

/**
 * The ICMP receive path for the `len`-byte message at `p`, from the datagram
 * described by `dgram`. Ends in exactly one IF_ICMP_* disposition counter.
 */
export function icmpInput(dgram: Ipv4Repr, p: usize, len: u32): i32 {
  const r = icmp.parse(p, len, rx);
  if (r != 0) {
    ifCount(r == E_IF_TRUNCATED ? IF_ICMP_DROP_TRUNCATED
      : r == E_IF_CHECKSUM ? IF_ICMP_DROP_CHECKSUM
      : r == E_IF_UNSUPPORTED ? IF_ICMP_DROP_UNSUPPORTED
      : IF_ICMP_DROP_MALFORMED);
    return r;
  }
  const t = rx.msgType;
  if (t == icmp.ICMP_ECHO_REQUEST) {
    if (isBroadcast(dgram.dstAddr)) {
      ifCount(IF_ICMP_DROP_ECHO_BROADCAST);
      return E_IF_NOT_FOR_US;
    }
    if (ip.IPV4_HDR_LEN + len > ifMtu) {
      ifCount(IF_ICMP_DROP_ECHO_TOO_BIG);
      return E_IF_TOO_BIG;
    }
    ifCount(IF_ICMP_ECHO_REQUEST);
    return echoReply(dgram.srcAddr, p, len);
  }
  if (t == icmp.ICMP_ECHO_REPLY) {
    ifCount(IF_ICMP_RX_ECHO_REPLY);
    return 0;
  }
  // Destination unreachable / time exceeded: nothing to notify yet (TCP soft
  // errors, RFC 1122 §4.2.3.9, come with the TCP engine).
  ifCount(IF_ICMP_RX_ERROR);
  return 0;
}

/** Sends the echo reply for the request at `p` (`len` bytes) to `dst`. */
function echoReply(dst: u32, p: usize, len: u32): i32 {
  const out = ipv4TxBegin(dst, ip.IP_PROTO_ICMP);
  if (out == 0) return E_IF_TOO_BIG; // counted by the output path (route, ring, ARP queue)
  // The slot must hold the whole message before it is copied in (the MTU check above
  // is against the interface MTU; this one is against the TX slot that was opened).
  if (len > ipv4TxMaxPayload()) return ipv4TxCommit(len); // drops, counts and aborts
  memory.copy(out, p, len);
  // Type 8 → 0, code 0 stays: the first 16-bit word goes from 0x0800 to 0x0000.
  const old = loadU16BE(p);
  icmp.setMsgType(out, icmp.ICMP_ECHO_REPLY);
  icmp.setIcmpChecksum(out, checksumUpdate16(icmp.icmpChecksum(p), old, loadU16BE(out)));
  const r = ipv4TxCommit(len);
  if (r == 0) ifCount(IF_ICMP_TX_ECHO_REPLY);
  return r;
}

/** True when the ICMP message at `data` is a query (echo, timestamp, information, address mask). */
function isIcmpQuery(data: usize, dataLen: u32): bool {
  if (dataLen == 0) return false;
  const t = load<u8>(data);
  return t == icmp.ICMP_ECHO_REPLY || t == icmp.ICMP_ECHO_REQUEST || (t >= 13 && t <= 18);
}

/**
 * Sends an ICMP error of `type`/`code` about a received datagram: `hdr` is its IP
 * header (`hdrLen` bytes, options included), `data` the start of its payload
 * (`dataLen` bytes), `dgram` its parsed header. Returns 0, E_IF_NOT_FOR_US when
 * RFC 1122 forbids an error here (counted suppressed), E_IF_RATE_LIMITED (counted),
 * or an output failure.
 */
export function icmpSendError(type: u8, code: u8, dgram: Ipv4Repr, hdr: usize, hdrLen: u32, data: usize, dataLen: u32): i32 {
  if (isBroadcast(dgram.dstAddr) || isMulticast(dgram.dstAddr) || isBroadcast(dgram.srcAddr) ||
      isMulticast(dgram.srcAddr) || dgram.srcAddr == 0 || dgram.fragOffset != 0) {
    ifCount(IF_ICMP_ERR_SUPPRESSED);
    return E_IF_NOT_FOR_US;
  }
  if (dgram.protocol == ip.IP_PROTO_ICMP && !isIcmpQuery(data, dataLen)) {
    // Never about an ICMP error (RFC 1122 §3.2.2 "MUST NOT ... an ICMP error
    // message"); an ICMP message we cannot see the type of counts as one.
    ifCount(IF_ICMP_ERR_SUPPRESSED);
    return E_IF_NOT_FOR_US;
  }
  if (!rateTake(errLimiter)) {
    ifCount(IF_ICMP_ERR_RATE_LIMITED);
    return E_IF_RATE_LIMITED;
  }
  const out = ipv4TxBegin(dgram.srcAddr, ip.IP_PROTO_ICMP);
  if (out == 0) return E_IF_TOO_BIG;
  // Room for the quoted datagram: 576-byte error, the MTU, and the TX frame.
  let limit = ipv4TxMaxPayload();
  const cap576 = ICMP_ERROR_MAX_DATAGRAM - ip.IPV4_HDR_LEN;
  if (cap576 < limit) limit = cap576;
  if (limit <= icmp.ICMP_HDR_LEN) {
    ipv4TxAbort();
    return E_IF_TOO_BIG;
  }
  const room = limit - icmp.ICMP_HDR_LEN;
  const hl = hdrLen < room ? hdrLen : room;
  let dl = dataLen;
  if (hl + dl > room) dl = room - hl;
  store<u32>(out + 4, 0); // unused (or next-hop MTU for code 4: not sent by us)
  memory.copy(out + icmp.ICMP_HDR_LEN, hdr, hl);
  memory.copy(out + icmp.ICMP_HDR_LEN + hl, data, dl);
  icmp.setMsgType(out, type);
  icmp.setCode(out, code);
  const n = icmp.ICMP_HDR_LEN + hl + dl;
  icmp.fillChecksum(out, n);
  const r = ipv4TxCommit(n);
  if (r == 0) ifCount(type == icmp.ICMP_TIME_EXCEEDED ? IF_ICMP_TX_TIME_EXCEEDED : IF_ICMP_TX_UNREACH);
  return r;
}
