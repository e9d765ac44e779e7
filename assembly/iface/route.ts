// The interface's addressing and routing: one IPv4 address with its prefix, an
// optional default gateway, the MTU. One interface per module instance, so the
// configuration lives in module globals set by ifaceInit.
//
// Next hop per datagram (RFC 1122 §3.3.1.1 "local/remote decision"):
//   dst on our subnet, or the limited broadcast  → dst itself
//   anything else                                → the default gateway, if any
//   otherwise                                    → no route (E_IF_NO_ROUTE, counted)

import { IPV4_BROADCAST } from "../wire/ipv4";

/** Our MAC address (low 48 bits). */
export let ifMac: u64 = 0;
/** Our IPv4 address (numeric order), 0 before ifaceInit. */
export let ifAddr: u32 = 0;
export let ifPrefixLen: u32 = 0;
/** Netmask derived from the prefix. */
export let ifMask: u32 = 0;
/** Network address (ifAddr & ifMask). */
export let ifNet: u32 = 0;
/** Subnet-directed broadcast; equals ifAddr-less sentinel 0 for /31 and /32 (RFC 3021: none). */
export let ifBcast: u32 = 0;
/** Default gateway, 0 when none. */
export let ifGateway: u32 = 0;
/** IP MTU: the largest datagram (header included) we send or answer with. */
export let ifMtu: u32 = 1500;

/** The smallest MTU every IPv4 host must accept (RFC 791 §3.1 "Total Length"). */
export const MIN_MTU: u32 = 68;
export const MAX_MTU: u32 = 65535;

@inline
export function maskOf(prefixLen: u32): u32 {
  return prefixLen == 0 ? 0 : <u32>(0xffff_ffff << (32 - prefixLen));
}

/** RFC 1122 §3.2.1.3: the network or broadcast address of a prefix (never on /31, /32). */
export function isNetOrBroadcast(a: u32, mask: u32, prefixLen: u32): bool {
  return prefixLen < 31 && ((a & ~mask) == 0 || (a & ~mask) == ~mask);
}

/**
 * RFC 1122 §3.2.1.3 / RFC 1112 / RFC 6890: an address a host may have: not "this
 * network" (0/8), loopback (127/8), multicast (224/4), reserved (240/4) or the limited
 * broadcast. (The host's Stack.create applies the same rules with a reason.)
 */
export function isUnicastHost(a: u32): bool {
  const top = a >>> 24;
  return top != 0 && !isLoopback(a) && !isMulticast(a) && top < 240;
}

/** True for 224.0.0.0/4 (RFC 5771). */
@inline
export function isMulticast(a: u32): bool {
  return (a >> 28) == 0xe;
}

/** True for 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g)). */
@inline
export function isLoopback(a: u32): bool {
  return (a >> 24) == 127;
}

/** True when `a` lies on our subnet. */
@inline
export function isOnLink(a: u32): bool {
  return (a & ifMask) == ifNet;
}

/** True for the limited broadcast and our subnet-directed broadcast. */
@inline
export function isBroadcast(a: u32): bool {
  return a == IPV4_BROADCAST || (ifBcast != 0 && a == ifBcast);
}

/**
 * True when a datagram to `dst` is for this host: our address or a broadcast
 * (RFC 1122 §3.3.6). Multicast is not joined, so it is not ours.
 */
@inline
export function isLocalDst(dst: u32): bool {
  return dst == ifAddr || isBroadcast(dst);
}

/**
 * True when `src` cannot be the source of a datagram we accept (RFC 1122
 * §3.2.1.3: a host MUST silently discard a datagram whose source is a broadcast
 * or multicast address; 0.0.0.0 and 127/8 are "martians" for Linux too, and our
 * own address arriving from the wire is a loop or a spoof).
 */
@inline
export function isBadSrc(src: u32): bool {
  return src == 0 || isBroadcast(src) || isMulticast(src) || isLoopback(src) || src == ifAddr;
}

/** The next hop for `dst`, or 0 when there is no route. */
@inline
export function nextHop(dst: u32): u32 {
  if (dst == IPV4_BROADCAST || isOnLink(dst)) return dst;
  return ifGateway;
}

/**
 * Sets the addressing (validated by ifaceInit). Not exported through the ABI:
 * ifaceInit is the only caller.
 */
export function routeConfigure(mac: u64, addr: u32, prefixLen: u32, gateway: u32, mtu: u32): void {
  ifMac = mac;
  ifAddr = addr;
  ifPrefixLen = prefixLen;
  ifMask = maskOf(prefixLen);
  ifNet = addr & ifMask;
  ifBcast = prefixLen >= 31 ? 0 : ifNet | ~ifMask;
  ifGateway = gateway;
  ifMtu = mtu;
}
