// The ARP neighbour cache (RFC 826, RFC 1122 §2.3.2): a fixed table of entries
// carved at init, a hash index over it, a pool of frame buffers holding the
// datagrams that wait for a resolution, and the ARP receive path.
//
//   ArpEntry (ARP_ENTRY_SIZE = 56 bytes, 8-byte aligned; `entries` of them)
//   ┌─────────────────────────────────────────────┐ 0
//   │ TimerNode (24): kind TIMER_KIND_ARP,         │   retry / reachable / probe timer
//   │                 owner = entry index          │
//   ├───────────────┬──────┬────────┬──────┬──────┤ 24
//   │ ip u32        │ state│ retries│ used │ -    │
//   ├───────────────┴──────┴────────┴──────┴──────┤ 32
//   │ mac u64 (valid in REACHABLE and PROBE)       │
//   ├───────────────┬──────────────┬──────────────┤ 40
//   │ next u32      │ pendHead u32 │ pendTail u32 │   next: hash chain / free list (index+1)
//   ├───────────────┼──────────────┴──────────────┤ 52
//   │ pendCount u32 │                              │
//   └───────────────┘                              ┘ 56
//
//   Pending frame buffer (stride = align8(8 + frameBytes); `pendingFrames` of them)
//   ┌────────────┬────────────┬──────────────────────────────────┐
//   │ next u32   │ len u32    │ Ethernet frame (frameBytes max)  │
//   └────────────┴────────────┴──────────────────────────────────┘
//   0            4            8
//
// Entry states (a reduced RFC 4861 §7.3.2 / Linux NUD machine):
//   FREE       not in use (on the free list).
//   INCOMPLETE a request is out; frames wait in the entry's queue. Retried every
//              arpRetryMs, up to arpMaxRequests requests, then the frames are
//              dropped (counted) and the entry freed.
//   REACHABLE  mac is valid for arpReachableMs. On expiry: freed if unused since it
//              was confirmed (expiry), else moved to PROBE (refresh).
//   PROBE      mac still used; unicast requests to the cached mac every arpRetryMs,
//              up to arpMaxRequests; a reply makes it REACHABLE again, else freed.
//
// Cache-poisoning rules (the issue: "unsolicited replies do not poison the cache"):
//   - a reply is accepted only for an entry in INCOMPLETE or PROBE, i.e. when we
//     asked (counted IF_ARP_DROP_UNSOLICITED otherwise, gratuitous ARP included);
//   - a request whose target is our address updates/creates its sender's entry,
//     as RFC 826 ("?Am I the target protocol address? ... merge") and Linux do: the
//     sender is about to talk to us and we must answer it;
//   - requests for other hosts never touch the cache (Linux would update an
//     existing entry; we do not, see docs/iface.md).

import { TimerNode, timerInit, TIMER_KIND_ARP } from "../time/timer";
import { timers } from "../time/clock";
import { MAC_BROADCAST, macIsMulticast } from "../util/bytes";
import * as eth from "../wire/ethernet";
import * as arp from "../wire/arp";
import { txAcquire, txCommit, txFrameCapacity } from "../mem/rings";
import { ifMac, ifAddr, isBroadcast, isMulticast } from "./route";
import { RateLimiter, rateInit, rateTake } from "./ratelimit";
import { E_IF_TRUNCATED, E_IF_UNSUPPORTED, E_IF_NO_BUFFER, E_IF_TX_FULL, E_IF_RATE_LIMITED } from "./errors";
import {
  ifCount, IF_ARP_DROP_TRUNCATED, IF_ARP_DROP_MALFORMED, IF_ARP_DROP_UNSUPPORTED, IF_ARP_DROP_BAD_SENDER,
  IF_ARP_DROP_NOT_FOR_US, IF_ARP_DROP_UNSOLICITED, IF_ARP_REQUEST_ANSWERED, IF_ARP_REPLY_ACCEPTED,
  IF_ARP_DROP_CONFLICT, IF_ARP_TX_REQUEST, IF_ARP_TX_REPLY, IF_ARP_TX_GRATUITOUS, IF_ARP_REQUEST_RATE_LIMITED,
  IF_ARP_PENDING_QUEUED, IF_ARP_PENDING_SENT, IF_ARP_PENDING_DROP_FULL, IF_ARP_PENDING_DROP_UNRESOLVED,
  IF_ARP_CACHE_INSERT, IF_ARP_CACHE_EVICT, IF_ARP_CACHE_EXPIRED, IF_ARP_CACHE_REFRESH, IF_ARP_RESOLVE_FAILED,
  IF_ARP_CACHE_FULL, IF_TX_DROP_RING_FULL, IF_TX_FRAMES,
} from "./stats";

export const ARP_FREE: u8 = 0;
export const ARP_INCOMPLETE: u8 = 1;
export const ARP_REACHABLE: u8 = 2;
export const ARP_PROBE: u8 = 3;

// Entry field offsets.
const E_IP: usize = 24;
const E_STATE: usize = 28;
const E_RETRIES: usize = 29;
const E_USED: usize = 30;
const E_MAC: usize = 32;
const E_NEXT: usize = 40;
const E_PEND_HEAD: usize = 44;
const E_PEND_TAIL: usize = 48;
const E_PEND_COUNT: usize = 52;
export const ARP_ENTRY_SIZE: usize = 56;

// Pending buffer field offsets.
const P_NEXT: usize = 0;
const P_LEN: usize = 4;
const P_FRAME: usize = 8;

// --- timing and limits (set by ifaceInit / ifaceSetTimings; Linux defaults) ---------
/** REACHABLE lifetime (Linux base_reachable_time_ms = 30 000). */
export let arpReachableMs: u32 = 30_000;
/** Interval between requests for one entry (Linux retrans_time_ms = 1000). */
export let arpRetryMs: u32 = 1_000;
/** Requests per resolution or refresh before giving up (Linux mcast_solicit = ucast_solicit = 3). */
export let arpMaxRequests: u32 = 3;

// --- tables (carved by neighborInit) --------------------------------------------------
let entryBase: usize = 0;
let entryCount: u32 = 0;
let freeHead: u32 = 0; // entry index + 1
let bucketBase: usize = 0;
let bucketMask: u32 = 0;
let bucketShift: u32 = 32;
let pendBase: usize = 0;
let pendCountTotal: u32 = 0;
let pendStride: usize = 0;
let pendFrameBytes: u32 = 0;
let pendFree: u32 = 0; // pending index + 1
/** Frames one entry may hold; beyond it the oldest is dropped (Linux unres_qlen). */
let pendPerEntry: u32 = 0;
let liveEntries: u32 = 0;

/** Global limit on ARP requests (both resolutions and refreshes). */
const requestLimiter = changetype<RateLimiter>(memory.data(offsetof<RateLimiter>(), 8));

@inline function eIp(e: usize): u32 { return load<u32>(e + E_IP); }
@inline function eState(e: usize): u8 { return load<u8>(e + E_STATE); }
@inline function eMac(e: usize): u64 { return load<u64>(e + E_MAC); }
@inline function entryAt(i: u32): usize { return entryBase + <usize>i * ARP_ENTRY_SIZE; }
@inline function entryIndex(e: usize): u32 { return <u32>((e - entryBase) / ARP_ENTRY_SIZE); }
@inline function pendAt(i: u32): usize { return pendBase + <usize>i * pendStride; }
@inline function bucketOf(ip: u32): usize { return bucketBase + (<usize>((ip * 0x9e3779b1) >> bucketShift) << 2); }

/** Bytes neighborInit will carve. */
export function neighborBytes(entries: u32, pendingFrames: u32, frameBytes: u32): u64 {
  let nb: u32 = 1;
  while (nb < entries * 2) nb <<= 1;
  return <u64>entries * ARP_ENTRY_SIZE + <u64>nb * 4 + <u64>pendingFrames * <u64>((8 + frameBytes + 7) & ~7);
}

/**
 * Carves the cache: `entries` entries (1..65536), a hash index of the next power of
 * two ≥ 2·entries buckets, and `pendingFrames` buffers of `frameBytes` each.
 * Called once by ifaceInit (specs call it per test).
 */
export function neighborInit(entries: u32, pendingFrames: u32, frameBytes: u32): void {
  entryCount = entries;
  entryBase = heap.alloc(<usize>entries * ARP_ENTRY_SIZE);
  memory.fill(entryBase, 0, <usize>entries * ARP_ENTRY_SIZE);
  for (let i: u32 = 0; i < entries; i++) {
    const e = entryAt(i);
    timerInit(e, TIMER_KIND_ARP, i);
    store<u32>(e + E_NEXT, i + 2 <= entries ? i + 2 : 0);
  }
  freeHead = entries > 0 ? 1 : 0;
  // entries ≥ 1 (ifaceInit checks), so there are ≥ 2 buckets and bits ≥ 1.
  let nb: u32 = 1;
  let bits: u32 = 0;
  while (nb < entries * 2) {
    nb <<= 1;
    bits++;
  }
  bucketMask = nb - 1;
  bucketShift = 32 - bits;
  bucketBase = heap.alloc(<usize>nb * 4);
  memory.fill(bucketBase, 0, <usize>nb * 4);
  pendFrameBytes = frameBytes;
  pendStride = (<usize>(8 + frameBytes) + 7) & ~<usize>7;
  pendCountTotal = pendingFrames;
  pendBase = pendingFrames > 0 ? heap.alloc(<usize>pendingFrames * pendStride) : 0;
  for (let i: u32 = 0; i < pendingFrames; i++) {
    store<u32>(pendAt(i) + P_NEXT, i + 2 <= pendingFrames ? i + 2 : 0);
    store<u32>(pendAt(i) + P_LEN, 0);
  }
  pendFree = pendingFrames > 0 ? 1 : 0;
  pendPerEntry = pendingFrames / 4;
  if (pendPerEntry < 4) pendPerEntry = 4;
  if (pendPerEntry > pendingFrames) pendPerEntry = pendingFrames;
  liveEntries = 0;
  rateInit(requestLimiter, 100, 20);
}

/** Sets the ARP timings (ms) and the request count per resolution (≥ 1). */
export function neighborSetTimings(reachableMs: u32, retryMs: u32, maxRequests: u32): void {
  arpReachableMs = reachableMs > 0 ? reachableMs : 1;
  arpRetryMs = retryMs > 0 ? retryMs : 1;
  arpMaxRequests = maxRequests > 0 ? maxRequests : 1;
}

/** Sets the global ARP request rate limit (requests per second, burst); 0/s = unlimited. */
export function neighborSetRateLimit(perSec: u32, burst: u32): void {
  rateInit(requestLimiter, perSec, burst);
}

// --- lookup ------------------------------------------------------------------------

/** The entry for `ip`, or 0. */
export function arpFind(ip: u32): usize {
  if (entryCount == 0) return 0;
  let i = load<u32>(bucketOf(ip));
  while (i != 0) {
    const e = entryAt(i - 1);
    if (eIp(e) == ip) return e;
    i = load<u32>(e + E_NEXT);
  }
  return 0;
}

/**
 * The MAC to send to `ip` (a next hop), or -1 when it is not resolved. Marks the
 * entry used, so its expiry becomes a refresh instead of a removal.
 */
export function arpLookup(ip: u32): i64 {
  const e = arpFind(ip);
  if (e == 0) return -1;
  const s = eState(e);
  if (s != ARP_REACHABLE && s != ARP_PROBE) return -1;
  store<u8>(e + E_USED, 1);
  return <i64>eMac(e);
}

/** State of the entry for `ip` (ARP_FREE when none): for tests and the host. */
export function arpState(ip: u32): u8 {
  const e = arpFind(ip);
  return e == 0 ? ARP_FREE : eState(e);
}

/** Queued frames of the entry for `ip`. */
export function arpPendingCount(ip: u32): u32 {
  const e = arpFind(ip);
  return e == 0 ? 0 : load<u32>(e + E_PEND_COUNT);
}

/** Entries in use. */
export function arpLiveEntries(): u32 {
  return liveEntries;
}

// --- entry lifecycle ------------------------------------------------------------------

function unlinkFromBucket(e: usize): void {
  const b = bucketOf(eIp(e));
  const me = entryIndex(e) + 1;
  let i = load<u32>(b);
  if (i == me) {
    store<u32>(b, load<u32>(e + E_NEXT));
    return;
  }
  while (i != 0) {
    const c = entryAt(i - 1);
    const n = load<u32>(c + E_NEXT);
    if (n == me) {
      store<u32>(c + E_NEXT, load<u32>(e + E_NEXT));
      return;
    }
    i = n;
  }
}

/** Drops every queued frame of `e` (counted with `counter`). */
function dropPending(e: usize, counter: u32): void {
  let i = load<u32>(e + E_PEND_HEAD);
  while (i != 0) {
    const b = pendAt(i - 1);
    const n = load<u32>(b + P_NEXT);
    ifCount(counter);
    store<u32>(b + P_NEXT, pendFree);
    pendFree = i;
    i = n;
  }
  store<u32>(e + E_PEND_HEAD, 0);
  store<u32>(e + E_PEND_TAIL, 0);
  store<u32>(e + E_PEND_COUNT, 0);
}

/** Frees `e`: cancels its timer, drops its queue, unlinks it, puts it on the free list. */
function freeEntry(e: usize): void {
  timers.cancel(e);
  dropPending(e, IF_ARP_PENDING_DROP_UNRESOLVED);
  unlinkFromBucket(e);
  store<u8>(e + E_STATE, ARP_FREE);
  store<u32>(e + E_NEXT, freeHead);
  freeHead = entryIndex(e) + 1;
  liveEntries--;
}

/**
 * Makes room when the table is full: frees the resolved entry (REACHABLE/PROBE,
 * nothing queued) whose timer fires first. Returns false when every entry is
 * INCOMPLETE with frames waiting.
 */
function evictOne(): bool {
  let victim: usize = 0;
  let best: u64 = u64.MAX_VALUE;
  for (let i: u32 = 0; i < entryCount; i++) {
    const e = entryAt(i);
    const s = eState(e);
    if ((s == ARP_REACHABLE || s == ARP_PROBE) && load<u32>(e + E_PEND_COUNT) == 0) {
      const t = changetype<TimerNode>(e).expiresAt;
      if (t < best) {
        best = t;
        victim = e;
      }
    }
  }
  if (victim == 0) return false;
  freeEntry(victim);
  ifCount(IF_ARP_CACHE_EVICT);
  return true;
}

/** A fresh entry for `ip` in `state` (linked, timer idle), or 0 when the table is full. */
function newEntry(ip: u32, state: u8): usize {
  if (freeHead == 0 && !evictOne()) {
    ifCount(IF_ARP_CACHE_FULL);
    return 0;
  }
  const idx = freeHead - 1;
  const e = entryAt(idx);
  freeHead = load<u32>(e + E_NEXT);
  store<u32>(e + E_IP, ip);
  store<u8>(e + E_STATE, state);
  store<u8>(e + E_RETRIES, 0);
  store<u8>(e + E_USED, 0);
  store<u64>(e + E_MAC, 0);
  store<u32>(e + E_PEND_HEAD, 0);
  store<u32>(e + E_PEND_TAIL, 0);
  store<u32>(e + E_PEND_COUNT, 0);
  const b = bucketOf(ip);
  store<u32>(e + E_NEXT, load<u32>(b));
  store<u32>(b, idx + 1);
  liveEntries++;
  ifCount(IF_ARP_CACHE_INSERT);
  return e;
}

/** Confirms `e` at `mac`: REACHABLE for arpReachableMs, queued frames sent. */
function confirm(e: usize, mac: u64): void {
  store<u64>(e + E_MAC, mac);
  store<u8>(e + E_STATE, ARP_REACHABLE);
  store<u8>(e + E_RETRIES, 0);
  store<u8>(e + E_USED, 0);
  timers.schedule(e, arpReachableMs);
  flushPending(e, mac);
}

// --- sending ARP ----------------------------------------------------------------------

/** Builds and commits one ARP frame. Returns 0 or E_IF_TX_FULL (counted). */
function sendArp(op: u16, dstMac: u64, targetMac: u64, targetIp: u32, senderIp: u32): i32 {
  const f = txAcquire();
  if (f == 0 || txFrameCapacity() < eth.ETH_HDR_LEN + arp.ARP_LEN) {
    ifCount(IF_TX_DROP_RING_FULL);
    return E_IF_TX_FULL;
  }
  eth.emitHeader(f, dstMac, ifMac, eth.ETHERTYPE_ARP);
  arp.emitPacket(f + eth.ETH_HDR_LEN, op, ifMac, senderIp, targetMac, targetIp);
  txCommit(f, eth.ETH_HDR_LEN + arp.ARP_LEN);
  ifCount(IF_TX_FRAMES);
  return 0;
}

/**
 * Sends a request for `ip` (broadcast, or unicast to `dstMac` when refreshing),
 * subject to the global request rate limit (E_IF_RATE_LIMITED, counted).
 */
function sendRequest(ip: u32, dstMac: u64): i32 {
  if (!rateTake(requestLimiter)) {
    ifCount(IF_ARP_REQUEST_RATE_LIMITED);
    return E_IF_RATE_LIMITED;
  }
  const r = sendArp(arp.ARP_OP_REQUEST, dstMac, 0, ip, ifAddr);
  if (r == 0) ifCount(IF_ARP_TX_REQUEST);
  return r;
}

/**
 * Gratuitous ARP when the link comes up (RFC 5227 §3 "ARP Announcement": a
 * request with sender and target IP both ours, broadcast), so neighbours that
 * cached an older MAC for our address update it.
 */
export function arpAnnounce(): i32 {
  const r = sendArp(arp.ARP_OP_REQUEST, MAC_BROADCAST, 0, ifAddr, ifAddr);
  if (r == 0) ifCount(IF_ARP_TX_GRATUITOUS);
  return r;
}

// --- pending-resolution queue -----------------------------------------------------

/**
 * A free pending buffer's frame area (pendFrameBytes bytes), or 0 when the pool is
 * empty (counted IF_ARP_PENDING_DROP_FULL). The caller fills it and hands it to
 * arpPendingCommit, or gives it back with arpPendingRelease.
 */
export function arpPendingAcquire(): usize {
  if (pendFree == 0) {
    ifCount(IF_ARP_PENDING_DROP_FULL);
    return 0;
  }
  const b = pendAt(pendFree - 1);
  pendFree = load<u32>(b + P_NEXT);
  store<u32>(b + P_NEXT, 0);
  return b + P_FRAME;
}

/** Returns an acquired, uncommitted buffer to the pool. */
export function arpPendingRelease(frame: usize): void {
  const b = frame - P_FRAME;
  store<u32>(b + P_NEXT, pendFree);
  pendFree = <u32>((b - pendBase) / pendStride) + 1;
}

/** Bytes a pending buffer's frame area holds. */
export function arpPendingFrameBytes(): u32 {
  return pendFrameBytes;
}

/**
 * Queues the `len`-byte frame at `frame` (from arpPendingAcquire) until `ip` is
 * resolved, creating the entry and sending the first request if needed
 * (RFC 1122 §2.3.2.2: "SHOULD save (rather than discard) at least one packet").
 * Returns E_IF_NO_BUFFER (frame dropped, counted) when no entry can be made.
 */
export function arpPendingCommit(ip: u32, frame: usize, len: u32): i32 {
  let e = arpFind(ip);
  if (e == 0) {
    e = newEntry(ip, ARP_INCOMPLETE);
    if (e == 0) {
      arpPendingRelease(frame);
      ifCount(IF_ARP_PENDING_DROP_FULL);
      return E_IF_NO_BUFFER;
    }
    store<u8>(e + E_RETRIES, 1);
    timers.schedule(e, arpRetryMs);
    sendRequest(ip, MAC_BROADCAST);
  }
  const b = frame - P_FRAME;
  const idx = <u32>((b - pendBase) / pendStride) + 1;
  store<u32>(b + P_NEXT, 0);
  store<u32>(b + P_LEN, len);
  const tail = load<u32>(e + E_PEND_TAIL);
  if (tail == 0) store<u32>(e + E_PEND_HEAD, idx);
  else store<u32>(pendAt(tail - 1) + P_NEXT, idx);
  store<u32>(e + E_PEND_TAIL, idx);
  store<u32>(e + E_PEND_COUNT, load<u32>(e + E_PEND_COUNT) + 1);
  ifCount(IF_ARP_PENDING_QUEUED);
  // Over the per-entry limit: drop the oldest, keep the newest (Linux __neigh_event_send).
  if (load<u32>(e + E_PEND_COUNT) > pendPerEntry) {
    const h = load<u32>(e + E_PEND_HEAD);
    const hb = pendAt(h - 1);
    store<u32>(e + E_PEND_HEAD, load<u32>(hb + P_NEXT));
    store<u32>(e + E_PEND_COUNT, load<u32>(e + E_PEND_COUNT) - 1);
    store<u32>(hb + P_NEXT, pendFree);
    pendFree = h;
    ifCount(IF_ARP_PENDING_DROP_FULL);
  }
  // Resolved meanwhile (cannot happen between begin and commit today; kept safe).
  const s = eState(e);
  if (s == ARP_REACHABLE || s == ARP_PROBE) flushPending(e, eMac(e));
  return 0;
}

/** Sends every queued frame of `e` to `mac` (frames that find the TX ring full are dropped, counted). */
function flushPending(e: usize, mac: u64): void {
  let i = load<u32>(e + E_PEND_HEAD);
  while (i != 0) {
    const b = pendAt(i - 1);
    const n = load<u32>(b + P_NEXT);
    const len = load<u32>(b + P_LEN);
    const f = txAcquire();
    if (f == 0 || len > txFrameCapacity()) {
      ifCount(IF_TX_DROP_RING_FULL);
    } else {
      memory.copy(f, b + P_FRAME, len);
      eth.setDst(f, mac);
      txCommit(f, len);
      ifCount(IF_TX_FRAMES);
      ifCount(IF_ARP_PENDING_SENT);
    }
    store<u32>(b + P_NEXT, pendFree);
    pendFree = i;
    i = n;
  }
  store<u32>(e + E_PEND_HEAD, 0);
  store<u32>(e + E_PEND_TAIL, 0);
  store<u32>(e + E_PEND_COUNT, 0);
}

// --- timers -----------------------------------------------------------------------

/**
 * Expiry of an entry's timer (the central dispatcher calls this for
 * TIMER_KIND_ARP). See the state list at the top of this file.
 */
export function arpOnTimer(node: usize): void {
  const e = node; // the node is at offset 0 of its entry
  if (entryCount == 0 || e < entryBase || e >= entryAt(entryCount)) return;
  const s = eState(e);
  if (s == ARP_INCOMPLETE) {
    const n = load<u8>(e + E_RETRIES);
    if (<u32>n < arpMaxRequests) {
      store<u8>(e + E_RETRIES, n + 1);
      timers.schedule(e, arpRetryMs);
      sendRequest(eIp(e), MAC_BROADCAST);
    } else {
      ifCount(IF_ARP_RESOLVE_FAILED);
      freeEntry(e); // drops the queued frames (IF_ARP_PENDING_DROP_UNRESOLVED)
    }
  } else if (s == ARP_REACHABLE) {
    if (load<u8>(e + E_USED) != 0) {
      // Still in use: refresh with a unicast request to the cached MAC.
      store<u8>(e + E_STATE, ARP_PROBE);
      store<u8>(e + E_RETRIES, 1);
      store<u8>(e + E_USED, 0);
      timers.schedule(e, arpRetryMs);
      ifCount(IF_ARP_CACHE_REFRESH);
      sendRequest(eIp(e), eMac(e));
    } else {
      ifCount(IF_ARP_CACHE_EXPIRED);
      freeEntry(e);
    }
  } else if (s == ARP_PROBE) {
    const n = load<u8>(e + E_RETRIES);
    if (<u32>n < arpMaxRequests) {
      store<u8>(e + E_RETRIES, n + 1);
      timers.schedule(e, arpRetryMs);
      sendRequest(eIp(e), eMac(e));
    } else {
      ifCount(IF_ARP_RESOLVE_FAILED);
      freeEntry(e);
    }
  }
}

// --- receiving ARP ----------------------------------------------------------------

const rx = new arp.ArpRepr();

/**
 * The ARP receive path for the `len` bytes at `p` (after the Ethernet header).
 * Every call ends in exactly one IF_ARP_* disposition counter. Returns 0 or the
 * reason code.
 */
export function arpInput(p: usize, len: u32): i32 {
  const r = arp.parse(p, len, rx);
  if (r != 0) {
    ifCount(r == E_IF_TRUNCATED ? IF_ARP_DROP_TRUNCATED : r == E_IF_UNSUPPORTED ? IF_ARP_DROP_UNSUPPORTED : IF_ARP_DROP_MALFORMED);
    return r;
  }
  const sha = rx.senderMac;
  const spa = rx.senderIp;
  // RFC 826 has no sender checks; RFC 1122 §2.3.2.1 and Linux arp_process refuse
  // group hardware addresses and broadcast/multicast protocol addresses.
  if (macIsMulticast(sha) || sha == 0 || sha == ifMac || isBroadcast(spa) || isMulticast(spa)) {
    ifCount(IF_ARP_DROP_BAD_SENDER);
    return 0;
  }
  if (spa == ifAddr) {
    // Someone else claims our address (RFC 5227 §2.4 conflict): never cache it.
    ifCount(IF_ARP_DROP_CONFLICT);
    return 0;
  }
  const tpa = rx.targetIp;
  const gratuitous = spa == tpa;
  if (rx.operation == arp.ARP_OP_REQUEST) {
    if (tpa != ifAddr || ifAddr == 0) {
      ifCount(gratuitous ? IF_ARP_DROP_UNSOLICITED : IF_ARP_DROP_NOT_FOR_US);
      return 0;
    }
    // RFC 826: we are the target, so merge the sender (unless it is an RFC 5227
    // probe with sender 0.0.0.0), then answer.
    if (spa != 0) {
      const e = arpFind(spa);
      if (e != 0) {
        const s = eState(e);
        if (s == ARP_INCOMPLETE || eMac(e) != sha || s == ARP_PROBE) confirm(e, sha);
      } else {
        const n = newEntry(spa, ARP_REACHABLE);
        if (n != 0) confirm(n, sha);
      }
    }
    ifCount(IF_ARP_REQUEST_ANSWERED);
    if (sendArp(arp.ARP_OP_REPLY, sha, sha, spa, ifAddr) == 0) ifCount(IF_ARP_TX_REPLY);
    return 0;
  }
  // A reply: accepted only when we asked for it (INCOMPLETE or PROBE).
  if (tpa != ifAddr) {
    ifCount(gratuitous ? IF_ARP_DROP_UNSOLICITED : IF_ARP_DROP_NOT_FOR_US);
    return 0;
  }
  const e = arpFind(spa);
  if (e == 0 || (eState(e) != ARP_INCOMPLETE && eState(e) != ARP_PROBE)) {
    ifCount(IF_ARP_DROP_UNSOLICITED);
    return 0;
  }
  confirm(e, sha);
  ifCount(IF_ARP_REPLY_ACCEPTED);
  return 0;
}

/** Drops the whole cache (timers cancelled, queued frames counted as unresolved). */
export function neighborFlush(): void {
  for (let i: u32 = 0; i < entryCount; i++) {
    const e = entryAt(i);
    if (eState(e) != ARP_FREE) freeEntry(e);
  }
}
