// Connection table: the demultiplexer from a segment's 4-tuple to the record that
// owns it (SPEC §4; STYLE rule 6, after gVisor's transport demuxer).
//
// The table keeps its own entries, separate from the records they index, so one
// structure serves established connections, half-open syncache entries, TIME-WAIT
// records (issue 6) and listeners; an entry's `type` says which, `owner` is the
// handle of the record.
//
//   Connection index: `shards` (power of two, 1..256) shards of `bps` buckets each.
//     h      = SipHash-1-3(tableKey, localAddr‖remoteAddr‖localPort‖remotePort)
//     shard  = h & (shards − 1)                       (low bits)
//     bucket = shard·bps + ((h >> 32) & (bps − 1))    (high bits, independent of the shard)
//     bps    = next power of two ≥ ceil(capacity / shards): load factor ≤ 1, so lookup,
//              insert and remove are O(1) expected. The key comes from host entropy at
//              init, so a peer cannot choose tuples that collide (hash flooding).
//   Listener index: its own bucket array over (localAddr, localPort).
//   Bound-port index: 65536 chain heads, one per local port, linking every entry that
//     occupies its port (listeners and entries inserted with EF_BOUND), for bind checks.
//
// Lookup order for an incoming segment (tableDemux; gVisor demuxer, Linux
// __inet_lookup): the exact 4-tuple (connection, syncache or TIME-WAIT entry), then a
// listener on (local address, local port), then a listener on (0.0.0.0, local port).
//
//   TableEntry (ENTRY_SIZE = 32 bytes, in a slab: generation-tagged entry handles)
//   ┌────────────┬────────────┬─────────┬──────────┬────────────┐
//   │ localAddr  │ remoteAddr │ lPort   │ rPort    │ owner      │
//   │ u32        │ u32        │ u16     │ u16      │ u32        │
//   ├────────────┼────────────┼─────────┴──────────┼────────────┤ 16
//   │ next       │ portNext   │ bucket             │type│flags│pad│
//   │ u32        │ u32        │ u32                │ u8 │ u8  │u16│
//   └────────────┴────────────┴────────────────────┴────┴─────┴───┘ 32
//   next:     index + 1 of the next entry in the same bucket chain (0 = end)
//   portNext: index + 1 of the next entry in the same port chain (0 = end)
//   bucket:   index of the bucket word that heads this entry's chain (so remove
//             never rehashes)
//   Addresses and ports are host order; localAddr 0 = any (listeners only).

import { Slab, slabCarve, slabAcquire, slabRelease, slabCheck, slabAt, slabBytes, handleIndex, MAX_SLAB_RECORDS, INDEX_MASK } from "../mem/slab";
import { hashTuple, hashLocal } from "../util/hash";
import {
  OK, E_TABLE_EXHAUSTED, E_EXISTS, E_NOT_FOUND, E_ADDR_IN_USE, E_BAD_ARGUMENT, E_CONFIG_SHARDS,
  E_CONFIG_ZERO, E_CONFIG_COUNT, E_STALE_HANDLE, E_INVALID_HANDLE, setLastError,
} from "../errors";
import { count, C_TABLE_EXHAUSTED, C_BIND_CONFLICT, C_STALE_HANDLE, C_INVALID_HANDLE } from "../mem/stats";

// Entry types.
export const ENTRY_CONN: u8 = 1;
export const ENTRY_LISTENER: u8 = 2;
export const ENTRY_SYNCACHE: u8 = 3;
export const ENTRY_TIMEWAIT: u8 = 4;
export const ENTRY_TYPES: u8 = 5;

// Entry flags.
/** The entry occupies its local port in the bound-port index (explicit bind, active open, listener). */
export const EF_BOUND: u8 = 1;
/** SO_REUSEADDR: a bind over a TIME-WAIT entry of the same port is allowed. */
export const EF_REUSE_ADDR: u8 = 2;
/** SO_REUSEPORT: several entries with this flag may share (address, port). */
export const EF_REUSE_PORT: u8 = 4;

export const MAX_SHARDS: u32 = 256;
export const PORT_HEADS: u32 = 65536;

@unmanaged
export class TableEntry {
  /** Local IPv4 address, host order; 0 = any (listeners). */
  localAddr: u32;
  /** Remote IPv4 address, host order; 0 for listeners. */
  remoteAddr: u32;
  /** Local port, host order (never 0). */
  localPort: u16;
  /** Remote port, host order; 0 for listeners. */
  remotePort: u16;
  /** Handle of the record this entry indexes (Tcb, TIME-WAIT record, ...). */
  owner: u32;
  /** Index + 1 of the next entry in this bucket chain; 0 = end. */
  next: u32;
  /** Index + 1 of the next entry in this port chain; 0 = end or not bound. */
  portNext: u32;
  /** Index of the bucket word heading this chain (connection or listener buckets). */
  bucket: u32;
  /** ENTRY_*. */
  type: u8;
  /** EF_* bits. */
  flags: u8;
  /** Reserved. */
  pad: u16;
}

export const ENTRY_SIZE: u32 = <u32>offsetof<TableEntry>();

// Table state (one table per instance).
let entries: Slab = changetype<Slab>(0);
let shardMask: u32 = 0;
let bpsLog2: u32 = 0;
let bpsMask: u32 = 0;
let connBuckets: usize = 0; // shards·bps u32 chain heads
let lstBuckets: usize = 0; // lstCount u32 chain heads
let lstMask: u32 = 0;
let portHeads: usize = 0; // 65536 u32 chain heads
let typeCount0: u32 = 0, typeCount1: u32 = 0, typeCount2: u32 = 0, typeCount3: u32 = 0, typeCount4: u32 = 0;

@inline
function ceilPow2(x: u32): u32 {
  return x <= 1 ? 1 : <u32>1 << (32 - clz<u32>(x - 1));
}

/** Checks the table parameters (entries = the sum of every entry kind). */
export function tableCheck(maxEntries: u64, shards: u32): i32 {
  if (shards == 0 || shards > MAX_SHARDS || (shards & (shards - 1)) != 0) return E_CONFIG_SHARDS;
  if (maxEntries == 0) return E_CONFIG_ZERO;
  if (maxEntries > <u64>MAX_SLAB_RECORDS) return E_CONFIG_COUNT;
  return OK;
}

function bucketsPerShard(maxEntries: u32, shards: u32): u32 {
  return ceilPow2((maxEntries + shards - 1) / shards);
}

/** Bytes tableInit carves (valid parameters). */
export function tableBytes(maxEntries: u32, maxListeners: u32, shards: u32): u64 {
  const conn = <u64>shards * <u64>bucketsPerShard(maxEntries, shards) * 4;
  const lst = <u64>ceilPow2(maxListeners) * 4;
  return slabBytes(maxEntries, ENTRY_SIZE) + conn + lst + <u64>PORT_HEADS * 4;
}

/** Bytes of the connection bucket array (for memory accounting). */
export function tableConnBucketBytes(): u64 {
  return (<u64>(shardMask + 1) << bpsLog2) * 4;
}

/**
 * Carves the table: an entry slab of `maxEntries`, the sharded connection buckets,
 * the listener buckets and the port index. The key is set separately
 * (hash.ts hashSetSecret). Parameters were validated by tableCheck.
 */
export function tableInit(maxEntries: u32, maxListeners: u32, shards: u32): void {
  entries = slabCarve(maxEntries, ENTRY_SIZE);
  const bps = bucketsPerShard(maxEntries, shards);
  shardMask = shards - 1;
  bpsLog2 = ctz<u32>(bps);
  bpsMask = bps - 1;
  const connBytes = <usize>shards * <usize>bps * 4;
  connBuckets = heap.alloc(connBytes);
  memory.fill(connBuckets, 0, connBytes);
  const lst = ceilPow2(maxListeners);
  lstMask = lst - 1;
  lstBuckets = heap.alloc(<usize>lst * 4);
  memory.fill(lstBuckets, 0, <usize>lst * 4);
  portHeads = heap.alloc(<usize>PORT_HEADS * 4);
  memory.fill(portHeads, 0, <usize>PORT_HEADS * 4);
  typeCount0 = typeCount1 = typeCount2 = typeCount3 = typeCount4 = 0;
}

/** Number of shards. */
export function tableShards(): u32 {
  return shardMask + 1;
}

/** The shard a 4-tuple belongs to (IT-SHARD-1). */
@inline
export function shardOf(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  return <u32>hashTuple(localAddr, localPort, remoteAddr, remotePort) & shardMask;
}

@inline
function connBucketOf(h: u64): u32 {
  return ((<u32>h & shardMask) << bpsLog2) | (<u32>(h >> 32) & bpsMask);
}

@inline
function entryAt(index: u32): TableEntry {
  return changetype<TableEntry>(slabAt(entries, index));
}

@inline
function typeCountAdd(type: u8, d: i32): void {
  if (type == 0) typeCount0 += d;
  else if (type == 1) typeCount1 += d;
  else if (type == 2) typeCount2 += d;
  else if (type == 3) typeCount3 += d;
  else typeCount4 += d;
}

/** Entries of `type` in the table. */
export function tableCount(type: u8): u32 {
  return type == 1 ? typeCount1 : type == 2 ? typeCount2 : type == 3 ? typeCount3 : type == 4 ? typeCount4 : 0;
}

/** Entries in use (all types). */
export function tableSize(): u32 {
  return entries.inUse;
}

// --- lookup ------------------------------------------------------------------------

/** Exact 4-tuple lookup among connection, syncache and TIME-WAIT entries: entry handle or 0. */
export function tableLookup(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  return lookupHashed(hashTuple(localAddr, localPort, remoteAddr, remotePort), localAddr, localPort, remoteAddr, remotePort);
}

@inline
function lookupHashed(h: u64, localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  let ref = load<u32>(connBuckets + (<usize>connBucketOf(h) << 2));
  const ports = <u32>localPort | (<u32>remotePort << 16);
  while (ref != 0) {
    const p = slabAt(entries, ref - 1);
    if (load<u32>(p) == localAddr && load<u32>(p, 4) == remoteAddr && load<u32>(p, 8) == ports) {
      return makeEntryHandle(ref - 1);
    }
    ref = load<u32>(p, 16);
  }
  return 0;
}

function listenerExact(localAddr: u32, localPort: u16): u32 {
  let ref = load<u32>(lstBuckets + (<usize>(<u32>hashLocal(localAddr, localPort) & lstMask) << 2));
  while (ref != 0) {
    const e = entryAt(ref - 1);
    if (e.localAddr == localAddr && e.localPort == localPort) return makeEntryHandle(ref - 1);
    ref = e.next;
  }
  return 0;
}

/** Listener for (localAddr, localPort), else the wildcard listener (0.0.0.0, localPort); 0 if none. */
export function tableLookupListener(localAddr: u32, localPort: u16): u32 {
  const e = listenerExact(localAddr, localPort);
  if (e != 0 || localAddr == 0) return e;
  return listenerExact(0, localPort);
}

/**
 * SO_REUSEPORT group selection: among the listeners on exactly (localAddr, localPort)
 * that carry EF_REUSE_PORT, the one at index `h mod n` in chain order (n = group
 * size), h a keyed hash of the connection's 4-tuple — so a retransmitted SYN finds
 * the same listener, and a peer cannot aim its connections at one listener. A group
 * of one (or a listener without EF_REUSE_PORT) is just that listener. Linux
 * (reuseport_select_sock without BPF) does the same with its own hash; like Linux,
 * a listener joining or leaving the group remaps the tuples. 0 if none.
 */
function listenerPick(localAddr: u32, localPort: u16, h: u64): u32 {
  const head = load<u32>(lstBuckets + (<usize>(<u32>hashLocal(localAddr, localPort) & lstMask) << 2));
  let n: u32 = 0;
  let first: u32 = 0;
  let ref = head;
  while (ref != 0) {
    const e = entryAt(ref - 1);
    if (e.localAddr == localAddr && e.localPort == localPort) {
      if (first == 0) {
        first = ref;
        if ((e.flags & EF_REUSE_PORT) == 0) return makeEntryHandle(ref - 1);
      }
      if ((e.flags & EF_REUSE_PORT) != 0) n++;
    }
    ref = e.next;
  }
  if (n <= 1) return first == 0 ? 0 : makeEntryHandle(first - 1);
  // The high half of the tuple hash picks the member (the low bits chose the shard).
  let k = <u32>((h >> 32) % <u64>n);
  ref = head;
  while (ref != 0) {
    const e = entryAt(ref - 1);
    if (e.localAddr == localAddr && e.localPort == localPort && (e.flags & EF_REUSE_PORT) != 0) {
      if (k == 0) return makeEntryHandle(ref - 1);
      k--;
    }
    ref = e.next;
  }
  return makeEntryHandle(first - 1); // not reached: n members were counted above
}

/**
 * The full demux order: exact 4-tuple, listener on (addr, port), listener on (any,
 * port); a SO_REUSEPORT group answers with the member the 4-tuple hashes to.
 */
export function tableDemux(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  const h = hashTuple(localAddr, localPort, remoteAddr, remotePort);
  const e = lookupHashed(h, localAddr, localPort, remoteAddr, remotePort);
  if (e != 0) return e;
  const l = listenerPick(localAddr, localPort, h);
  if (l != 0 || localAddr == 0) return l;
  return listenerPick(0, localPort, h);
}

// --- entries -------------------------------------------------------------------------

@inline
function makeEntryHandle(index: u32): u32 {
  // The slab's current handle for an in-use record.
  return (load<u32>(entries.meta + (<usize>index << 2)) & ~INDEX_MASK) | index;
}

/** OK or E_INVALID_HANDLE / E_STALE_HANDLE (counted). */
export function entryCheck(e: u32): i32 {
  const rc = slabCheck(entries, e);
  if (rc == E_STALE_HANDLE) count(C_STALE_HANDLE);
  else if (rc == E_INVALID_HANDLE) count(C_INVALID_HANDLE);
  return rc;
}

/** ENTRY_* of a live entry handle, 0 for a bad one. */
export function entryType(e: u32): u8 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).type : 0;
}

/** Owner handle of a live entry, 0 for a bad one. */
export function entryOwner(e: u32): u32 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).owner : 0;
}

/** Local address of a live entry, 0 for a bad one. */
export function entryLocalAddr(e: u32): u32 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).localAddr : 0;
}

/** Remote address of a live entry, 0 for a bad one. */
export function entryRemoteAddr(e: u32): u32 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).remoteAddr : 0;
}

/** Local port of a live entry, 0 for a bad one. */
export function entryLocalPort(e: u32): u16 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).localPort : 0;
}

/** Remote port of a live entry, 0 for a bad one. */
export function entryRemotePort(e: u32): u16 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).remotePort : 0;
}

/** True once tableInit carved the table (callers outside the glue check before use). */
export function tableReady(): bool {
  return changetype<usize>(entries) != 0;
}

/** Flags of a live entry, 0 for a bad one. */
export function entryFlags(e: u32): u8 {
  return slabCheck(entries, e) == OK ? entryAt(handleIndex(e)).flags : 0;
}

/**
 * Changes a live entry's type and owner in place (syncache → connection when the
 * handshake completes; connection → TIME-WAIT record). Listener entries cannot be
 * retagged, nor can anything become a listener (they live in another index).
 */
export function entryRetag(e: u32, type: u8, owner: u32): i32 {
  const rc = entryCheck(e);
  if (rc != OK) return rc;
  const ent = entryAt(handleIndex(e));
  if (type == 0 || type >= ENTRY_TYPES || type == ENTRY_LISTENER || ent.type == ENTRY_LISTENER) return E_BAD_ARGUMENT;
  typeCountAdd(ent.type, -1);
  typeCountAdd(type, 1);
  ent.type = type;
  ent.owner = owner;
  return OK;
}

function portLink(index: u32, port: u16): void {
  const ent = entryAt(index);
  const head = portHeads + (<usize>port << 2);
  ent.portNext = load<u32>(head);
  store<u32>(head, index + 1);
}

function portUnlink(index: u32, port: u16): void {
  let link = portHeads + (<usize>port << 2);
  let ref = load<u32>(link);
  while (ref != 0) {
    if (ref == index + 1) {
      store<u32>(link, entryAt(index).portNext);
      return;
    }
    link = slabAt(entries, ref - 1) + offsetof<TableEntry>("portNext");
    ref = load<u32>(link);
  }
}

function chainUnlink(headAddr: usize, index: u32): void {
  let link = headAddr;
  let ref = load<u32>(link);
  while (ref != 0) {
    if (ref == index + 1) {
      store<u32>(link, entryAt(index).next);
      return;
    }
    link = slabAt(entries, ref - 1) + offsetof<TableEntry>("next");
    ref = load<u32>(link);
  }
}

function fill(index: u32, type: u8, localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16, owner: u32, flags: u8, bucket: u32): void {
  const ent = entryAt(index);
  ent.localAddr = localAddr;
  ent.remoteAddr = remoteAddr;
  ent.localPort = localPort;
  ent.remotePort = remotePort;
  ent.owner = owner;
  ent.next = 0;
  ent.portNext = 0;
  ent.bucket = bucket;
  ent.type = type;
  ent.flags = flags;
  ent.pad = 0;
}

/**
 * Inserts a connection, syncache or TIME-WAIT entry for the 4-tuple. With EF_BOUND
 * the entry also occupies its local port in the port index (explicit bind or active
 * open; the caller ran tableBindCheck first). Returns the entry handle, or 0 with
 * lastError() = E_EXISTS (tuple present), E_TABLE_EXHAUSTED (counted) or
 * E_BAD_ARGUMENT (type, zero port or zero address).
 */
export function tableInsert(type: u8, localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16, owner: u32, flags: u8): u32 {
  if (type != ENTRY_CONN && type != ENTRY_SYNCACHE && type != ENTRY_TIMEWAIT) { setLastError(E_BAD_ARGUMENT); return 0; }
  // A connection has both ends: localAddr 0 (any) is for listeners only; such an
  // entry with EF_BOUND would block every bind of its port (break review).
  if (localPort == 0 || remotePort == 0 || remoteAddr == 0 || localAddr == 0) { setLastError(E_BAD_ARGUMENT); return 0; }
  const h = hashTuple(localAddr, localPort, remoteAddr, remotePort);
  const bucket = connBucketOf(h);
  const headAddr = connBuckets + (<usize>bucket << 2);
  const ports = <u32>localPort | (<u32>remotePort << 16);
  let ref = load<u32>(headAddr);
  while (ref != 0) {
    const p = slabAt(entries, ref - 1);
    if (load<u32>(p) == localAddr && load<u32>(p, 4) == remoteAddr && load<u32>(p, 8) == ports) {
      setLastError(E_EXISTS);
      return 0;
    }
    ref = load<u32>(p, 16);
  }
  const e = slabAcquire(entries);
  if (e == 0) {
    count(C_TABLE_EXHAUSTED);
    setLastError(E_TABLE_EXHAUSTED);
    return 0;
  }
  const index = handleIndex(e);
  fill(index, type, localAddr, localPort, remoteAddr, remotePort, owner, flags, bucket);
  entryAt(index).next = load<u32>(headAddr);
  store<u32>(headAddr, index + 1);
  if (flags & EF_BOUND) portLink(index, localPort);
  typeCountAdd(type, 1);
  return e;
}

/**
 * Inserts a listener on (localAddr, localPort) (localAddr 0 = any). A second
 * listener on the same (address, port) is refused with E_ADDR_IN_USE unless both
 * carry EF_REUSE_PORT. Listeners always occupy their port (EF_BOUND is implied).
 * Overlaps across addresses (0.0.0.0:80 against A:80) are the bind check's business:
 * listen() runs tableBindCheck first (glue/api.ts cmdListen, glue/tcp-env.ts insert).
 * Returns the entry handle or 0 with lastError().
 */
export function tableInsertListener(localAddr: u32, localPort: u16, owner: u32, flags: u8): u32 {
  if (localPort == 0) { setLastError(E_BAD_ARGUMENT); return 0; }
  flags |= EF_BOUND;
  const bucket = <u32>hashLocal(localAddr, localPort) & lstMask;
  const headAddr = lstBuckets + (<usize>bucket << 2);
  let ref = load<u32>(headAddr);
  while (ref != 0) {
    const ent = entryAt(ref - 1);
    if (ent.localAddr == localAddr && ent.localPort == localPort && !((ent.flags & flags) & EF_REUSE_PORT)) {
      count(C_BIND_CONFLICT);
      setLastError(E_ADDR_IN_USE);
      return 0;
    }
    ref = ent.next;
  }
  const e = slabAcquire(entries);
  if (e == 0) {
    count(C_TABLE_EXHAUSTED);
    setLastError(E_TABLE_EXHAUSTED);
    return 0;
  }
  const index = handleIndex(e);
  fill(index, ENTRY_LISTENER, localAddr, localPort, 0, 0, owner, flags, bucket);
  // Append at the tail of the chain so that among REUSE_PORT listeners the first
  // one keeps answering lookups (the order is stable).
  let link = headAddr;
  ref = load<u32>(link);
  while (ref != 0) {
    link = slabAt(entries, ref - 1) + offsetof<TableEntry>("next");
    ref = load<u32>(link);
  }
  store<u32>(link, index + 1);
  portLink(index, localPort);
  typeCountAdd(ENTRY_LISTENER, 1);
  return e;
}

/** Removes an entry (any type). OK, or E_INVALID_HANDLE / E_STALE_HANDLE (counted; nothing touched). */
export function tableRemove(e: u32): i32 {
  const rc = entryCheck(e);
  if (rc != OK) return rc;
  const index = handleIndex(e);
  const ent = entryAt(index);
  const heads = ent.type == ENTRY_LISTENER ? lstBuckets : connBuckets;
  chainUnlink(heads + (<usize>ent.bucket << 2), index);
  if (ent.flags & EF_BOUND) portUnlink(index, ent.localPort);
  typeCountAdd(ent.type, -1);
  ent.type = 0;
  return slabRelease(entries, e);
}

/**
 * Would binding (localAddr, localPort) with `flags` (EF_REUSE_ADDR, EF_REUSE_PORT)
 * conflict with an entry in the port index? Two addresses overlap when they are
 * equal or either is 0.0.0.0. An overlapping entry is no conflict when it is a
 * TIME-WAIT entry and the binder sets EF_REUSE_ADDR (SPEC §5), or when both set
 * EF_REUSE_PORT. Returns OK or E_ADDR_IN_USE (counted).
 *
 * Linux also lets SO_REUSEADDR bind over any non-listening socket of the port; we
 * allow it only over TIME-WAIT, which is the case the SPEC asks for.
 */
export function tableBindCheck(localAddr: u32, localPort: u16, flags: u8): i32 {
  if (localPort == 0) return E_BAD_ARGUMENT;
  let ref = load<u32>(portHeads + (<usize>localPort << 2));
  while (ref != 0) {
    const ent = entryAt(ref - 1);
    const overlap = ent.localAddr == localAddr || ent.localAddr == 0 || localAddr == 0;
    if (overlap) {
      const twOk = ent.type == ENTRY_TIMEWAIT && (flags & EF_REUSE_ADDR) != 0;
      const rpOk = (ent.flags & flags & EF_REUSE_PORT) != 0;
      if (!twOk && !rpOk) {
        count(C_BIND_CONFLICT);
        return E_ADDR_IN_USE;
      }
    }
    ref = ent.portNext;
  }
  return OK;
}

/** True when some entry occupies `localPort` (ephemeral port search, RFC 6056). */
export function tablePortInUse(localPort: u16): bool {
  return load<u32>(portHeads + (<usize>localPort << 2)) != 0;
}

/** Length of the longest bucket chain (diagnostics and tests; O(capacity)). */
export function tableMaxChain(): u32 {
  const n = (shardMask + 1) << bpsLog2;
  let best: u32 = 0;
  for (let b: u32 = 0; b < n; b++) {
    let len: u32 = 0;
    let ref = load<u32>(connBuckets + (<usize>b << 2));
    while (ref != 0) {
      len++;
      ref = entryAt(ref - 1).next;
    }
    if (len > best) best = len;
  }
  return best;
}

/** The table's entry slab (memory accounting, tests). */
export function tableEntries(): Slab {
  return entries;
}

/** Looks up an entry's handle by its owner's tuple and checks that it belongs to `owner`. */
export function tableRemoveTuple(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16, owner: u32): i32 {
  const e = tableLookup(localAddr, localPort, remoteAddr, remotePort);
  if (e == 0 || entryAt(handleIndex(e)).owner != owner) return E_NOT_FOUND;
  return tableRemove(e);
}
