// Benchmark and host-test drivers for issue 3 (connection table, pools, init),
// exported by build/bench.wasm. Loops run inside the module so the host times only
// the work, not the JS→WASM crossings.

import { tableInit, tableInsert, tableLookup, tableRemove, tableSize, ENTRY_CONN, EF_BOUND } from "../tcp/table";
import { hashSetSecret } from "../util/hash";
import { stackInit, heapTop } from "../mem/layout";
import { CONFIG_BASE } from "../config";
import { memstat } from "../mem/stats";
import { endpointAcquire, endpointPtr, endpointRelease, EP_CONNECTION } from "../mem/endpoints";
import { timeWaitAcquire, timeWaitPtr, timeWaitRelease, TW_TIMER_OFF } from "../mem/timewait";
import { cqAppend, cqConsume, chunksInUse } from "../mem/chunks";
import { txAcquire, txCommit, eventPush, TX_RING, EVENT_RING, ringHead } from "../mem/rings";
import { RING_TAIL_OFF } from "../abi";
import { timers } from "../time/clock";
import { TCB_SNDQ, TCB_RCVQ, TCB_TIMER_RTX, TCB_TIMER_DELACK, TCB_TIMER_KEEP, TCB_TIMER_TW } from "../tcp/tcb";

// --- connection table --------------------------------------------------------------

const LOCAL: u32 = 0xc6120001; // 198.18.0.1
const REMOTE_BASE: u32 = 0xc6130000; // 198.19.0.0/16

// Tuple i: remote (198.19.0.0 + i / 50000, 1024 + i % 50000) → local (198.18.0.1, 80).
@inline function remoteAddrOf(i: u32): u32 { return REMOTE_BASE + i / 50000; }
@inline function remotePortOf(i: u32): u16 { return <u16>(1024 + i % 50000); }

// Entry handles of tuples 0..n-1 (bench-side bookkeeping, carved with the table).
let handles: usize = 0;

/** Carves a table for `capacity` entries over `shards` shards with the secret (k0, k1). */
export function benchTableInit(capacity: u32, shards: u32, k0: u64, k1: u64): void {
  hashSetSecret(k0, k1);
  tableInit(capacity, 1, shards);
  handles = heap.alloc(<usize>capacity << 2);
}

/** Inserts tuples 0..n-1; returns how many went in. */
export function benchTableFill(n: u32): u32 {
  let ok: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = tableInsert(ENTRY_CONN, LOCAL, 80, remoteAddrOf(i), remotePortOf(i), i + 1, 0);
    store<u32>(handles + (<usize>i << 2), e);
    if (e != 0) ok++;
  }
  return ok;
}

/** Removes tuples 0..n-1 by their entry handles (as TCP does: it keeps its entry), scattered order. */
export function benchTableRemoveByHandle(n: u32): u32 {
  let removed: u32 = 0;
  // Step 7919 (prime, coprime to the 10^k sizes): visits every index once.
  let i: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    i += 7919;
    while (i >= n) i -= n;
    if (tableRemove(load<u32>(handles + (<usize>i << 2))) == 0) removed++;
  }
  return removed;
}

/** `count` lookups of present tuples in a scattered order; returns the hits. */
export function benchTableLookup(n: u32, count: u32): u32 {
  let hits: u32 = 0;
  // Scatter without a division per step: i += step (mod n), step ≈ 0.618·n.
  const step = <u32>(<u64>n * 0x9e3779b9 >> 32) | 1;
  let i: u32 = 0;
  for (let k: u32 = 0; k < count; k++) {
    i += step;
    if (i >= n) i -= n;
    if (tableLookup(LOCAL, 80, remoteAddrOf(i), remotePortOf(i)) != 0) hits++;
  }
  return hits;
}

/** Looks up and removes tuples 0..n-1 in a scattered order (remove cost = this minus a lookup); returns removals. */
export function benchTableRemoveAll(n: u32): u32 {
  let removed: u32 = 0;
  // Stride through 0..n-1 with a step coprime to n (n is 10^k here: 7919 is prime and > 5).
  let i: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    i = <u32>((<u64>i + 7919) % <u64>n);
    const e = tableLookup(LOCAL, 80, remoteAddrOf(i), remotePortOf(i));
    if (e != 0 && tableRemove(e) == 0) removed++;
  }
  return removed;
}

export function benchTableSize(): u32 {
  return tableSize();
}

// --- init, memory, zero-allocation churn ------------------------------------------------

export function benchConfigAddr(): usize {
  return CONFIG_BASE;
}

export function benchStackInit(nowUs: u64): i32 {
  return stackInit(CONFIG_BASE, nowUs);
}

export function benchHeapTop(): usize {
  return heapTop();
}

export function benchMemstat(id: u32): u64 {
  return memstat(id);
}

/** Positive control for the zero-allocation test: allocates and keeps `bytes`. */
export function benchLeak(bytes: u32): usize {
  return heap.alloc(bytes);
}

const CHURN_DATA = memory.data(256);

/**
 * `cycles` connection lifetimes through the initialized stack: endpoint, table entry
 * (bound), send/receive data, four timers, a TX frame, an event, a TIME-WAIT record;
 * then everything released. Returns the number of failed steps (0 expected).
 */
export function benchChurn(cycles: u32): u32 {
  let bad: u32 = 0;
  for (let i: u32 = 0; i < cycles; i++) {
    const h = endpointAcquire(EP_CONNECTION);
    const p = endpointPtr(h);
    if (p == 0) { bad++; continue; }
    const e = tableInsert(ENTRY_CONN, LOCAL, 80, REMOTE_BASE | (i & 0xffff), <u16>(1024 + i % 60000), h, EF_BOUND);
    if (e == 0) bad++;
    if (cqAppend(p + TCB_SNDQ, CHURN_DATA, 200) != 200) bad++;
    cqAppend(p + TCB_RCVQ, CHURN_DATA, 64);
    cqConsume(p + TCB_RCVQ, 10);
    timers.schedule(p + TCB_TIMER_RTX, 200);
    timers.schedule(p + TCB_TIMER_DELACK, 40);
    timers.schedule(p + TCB_TIMER_KEEP, 7200000);
    timers.schedule(p + TCB_TIMER_TW, 60000);
    const buf = txAcquire();
    if (buf != 0) txCommit(buf, 60);
    store<u32>(TX_RING + RING_TAIL_OFF, ringHead(TX_RING));
    eventPush(1, h, 0, 0);
    store<u32>(EVENT_RING + RING_TAIL_OFF, ringHead(EVENT_RING));
    if ((i & 7) == 0) timers.tickTo(timers.now + 1);
    const tw = timeWaitAcquire();
    if (tw == 0) bad++;
    else timers.schedule(timeWaitPtr(tw) + TW_TIMER_OFF, 1000);
    if (e != 0 && tableRemove(e) != 0) bad++;
    if (endpointRelease(h) != 0) bad++;
    if (tw != 0 && timeWaitRelease(tw) != 0) bad++;
  }
  if (chunksInUse() != 0) bad++;
  if (timers.active != 0) bad++;
  return bad;
}
