// Endpoint pool and chunk pool. IT-POOL-1: a recycled endpoint is indistinguishable
// from a fresh one and no timer of its previous life fires.

import { initTimers, timers } from "../../assembly/time/clock";
import { TimerNode } from "../../assembly/time/timer";
import {
  endpointsInit, endpointAcquire, endpointRelease, endpointPtr, endpointCheck, endpointSetClass,
  endpointsInUse, endpointClass, EP_CONNECTION, EP_LISTENER, EP_SYNCACHE, ENDPOINT_RECORD_SIZE,
} from "../../assembly/mem/endpoints";
import {
  chunksInit, chunksInUse, chunksFree, cqAppend, cqPeek, cqConsume, cqFree, cqLength, cqChunks,
  cqInit, CHUNK_QUEUE_SIZE,
} from "../../assembly/mem/chunks";
import { handleIndex } from "../../assembly/mem/slab";
import {
  TCB_SIZE, TCB_SNDQ, TCB_RCVQ, TCB_TIMER_RTX, TCB_TIMER_DELACK, TCB_TIMER_KEEP, TCB_TIMER_TW,
  tcbReset, tcbActiveTimers,
} from "../../assembly/tcp/tcb";
import {
  OK, E_STALE_HANDLE, E_INVALID_HANDLE, E_ENDPOINTS_EXHAUSTED, E_LISTENERS_EXHAUSTED,
  E_SYNCACHE_EXHAUSTED, lastError,
} from "../../assembly/errors";
import {
  counter, C_ENDPOINTS_EXHAUSTED, C_LISTENERS_EXHAUSTED, C_SYNCACHE_EXHAUSTED, C_CHUNKS_EXHAUSTED,
  C_STALE_HANDLE,
} from "../../assembly/mem/stats";

let fired: u32 = 0;
let firedOwner: u32 = 0;
function onTimer(node: usize): void {
  fired++;
  firedOwner = changetype<TimerNode>(node).owner;
}

const DATA = memory.data(4096);
const OUT = memory.data(4096);
const FRESH = heap.alloc(TCB_SIZE);

// Setup shared by the whole file: 4 connections, 1 listener, 1 syncache entry;
// 16 chunks of 64 bytes.
initTimers(true, 0, onTimer);
chunksInit(16, 64);
endpointsInit(4, 1, 1);
for (let i = 0; i < 4096; i++) store<u8>(DATA + i, <u8>(i * 7 + 3));

function dirtyAndArm(p: usize): void {
  // Every byte before the queue headers gets a poison value...
  memory.fill(p, 0xa5, TCB_SNDQ);
  // ...the queues hold data (chunks taken)...
  cqAppend(p + TCB_SNDQ, DATA, 300);
  cqAppend(p + TCB_RCVQ, DATA, 70);
  // ...and all four timers are pending.
  timers.schedule(p + TCB_TIMER_RTX, 200);
  timers.schedule(p + TCB_TIMER_DELACK, 40);
  timers.schedule(p + TCB_TIMER_KEEP, 7200);
  timers.schedule(p + TCB_TIMER_TW, 60000);
}

describe("IT-POOL-1 recycled endpoints are fully reset", () => {
  test("positive control: a live endpoint's timer does fire", () => {
    const h = endpointAcquire(EP_CONNECTION);
    const p = endpointPtr(h);
    fired = 0;
    timers.schedule(p + TCB_TIMER_RTX, 5);
    timers.tickTo(timers.now + 10);
    expect(fired).toBe(1);
    expect(firedOwner).toBe(h, "the node's owner is the endpoint's handle");
    expect(endpointRelease(h)).toBe(OK);
  });

  test("IT-POOL-1: recycled record byte-identical to a fresh one; no old timer fires", () => {
    const h1 = endpointAcquire(EP_CONNECTION);
    const p = endpointPtr(h1);
    dirtyAndArm(p);
    expect(tcbActiveTimers(p)).toBe(4);
    expect(chunksInUse()).toBe(5 + 2, "300 B = 5 chunks, 70 B = 2 chunks");
    expect(timers.active).toBe(4);
    expect(endpointRelease(h1)).toBe(OK);
    expect(timers.active).toBe(0, "release cancelled every timer");
    expect(chunksInUse()).toBe(0, "release gave back every chunk");

    // The endpoint slab is FIFO (mem/slab.ts): the slot comes round after the other
    // free records have been handed out once.
    let h2 = endpointAcquire(EP_CONNECTION);
    for (let guard = 0; handleIndex(h2) != handleIndex(h1) && guard < 16; guard++) {
      expect(endpointRelease(h2)).toBe(OK);
      h2 = endpointAcquire(EP_CONNECTION);
    }
    expect(handleIndex(h2)).toBe(handleIndex(h1), "the same slot recycled");
    expect(h2).not.toBe(h1);
    const q = endpointPtr(h2);
    expect(q).toBe(p);
    // A fresh record for the same handle, built in scratch memory.
    memory.fill(FRESH, 0x5a, TCB_SIZE);
    tcbReset(FRESH, h2);
    let diff = -1;
    for (let i = 0; i < <i32>TCB_SIZE; i++) {
      if (load<u8>(q + i) != load<u8>(FRESH + i)) { diff = i; break; }
    }
    expect(diff).toBe(-1, "first differing byte offset");
    expect(ENDPOINT_RECORD_SIZE).toBe(<u32>TCB_SIZE);

    fired = 0;
    timers.tickTo(timers.now + 120000);
    expect(fired).toBe(0, "no timer of the previous life fires");
    expect(endpointRelease(h2)).toBe(OK);
  });

  test("a stale handle never touches the new occupant", () => {
    const h1 = endpointAcquire(EP_CONNECTION);
    expect(endpointRelease(h1)).toBe(OK);
    const h2 = endpointAcquire(EP_CONNECTION);
    const p = endpointPtr(h2);
    timers.schedule(p + TCB_TIMER_RTX, 50);
    cqAppend(p + TCB_SNDQ, DATA, 10);
    const staleBefore = counter(C_STALE_HANDLE);
    expect(endpointCheck(h1)).toBe(E_STALE_HANDLE);
    expect(endpointPtr(h1)).toBe(0);
    expect(endpointRelease(h1)).toBe(E_STALE_HANDLE);
    expect(endpointSetClass(h1, EP_SYNCACHE)).toBe(E_STALE_HANDLE);
    expect(counter(C_STALE_HANDLE)).toBe(staleBefore + 4);
    expect(endpointCheck(h2)).toBe(OK, "new occupant still valid");
    expect(tcbActiveTimers(p)).toBe(1, "its timer still pending");
    expect(cqLength(p + TCB_SNDQ)).toBe(10, "its data still queued");
    expect(endpointCheck(0)).toBe(E_INVALID_HANDLE);
    expect(endpointRelease(h2)).toBe(OK);
  });
});

describe("endpoint quotas and exhaustion", () => {
  test("each class exhausts with its own code and counter", () => {
    const hs = new StaticArray<u32>(4);
    for (let i = 0; i < 4; i++) { hs[i] = endpointAcquire(EP_CONNECTION); expect(hs[i]).not.toBe(0); }
    expect(endpointAcquire(EP_CONNECTION)).toBe(0);
    expect(lastError()).toBe(E_ENDPOINTS_EXHAUSTED);
    expect(counter(C_ENDPOINTS_EXHAUSTED)).toBe(1);
    const l = endpointAcquire(EP_LISTENER);
    expect(l).not.toBe(0, "listener quota is separate from connections");
    expect(endpointAcquire(EP_LISTENER)).toBe(0);
    expect(lastError()).toBe(E_LISTENERS_EXHAUSTED);
    expect(counter(C_LISTENERS_EXHAUSTED)).toBe(1);
    const s = endpointAcquire(EP_SYNCACHE);
    expect(s).not.toBe(0);
    expect(endpointAcquire(EP_SYNCACHE)).toBe(0);
    expect(lastError()).toBe(E_SYNCACHE_EXHAUSTED);
    expect(counter(C_SYNCACHE_EXHAUSTED)).toBe(1);
    // Promotion of the half-open child fails while connections are full...
    expect(endpointSetClass(s, EP_CONNECTION)).toBe(E_ENDPOINTS_EXHAUSTED);
    expect(counter(C_ENDPOINTS_EXHAUSTED)).toBe(2);
    expect(endpointClass(s)).toBe(EP_SYNCACHE);
    // ...and succeeds once one is released.
    expect(endpointRelease(hs[0])).toBe(OK);
    expect(endpointSetClass(s, EP_CONNECTION)).toBe(OK);
    expect(endpointsInUse(EP_CONNECTION)).toBe(4);
    expect(endpointsInUse(EP_SYNCACHE)).toBe(0);
    for (let i = 1; i < 4; i++) expect(endpointRelease(hs[i])).toBe(OK);
    expect(endpointRelease(s)).toBe(OK);
    expect(endpointRelease(l)).toBe(OK);
    expect(endpointsInUse(EP_CONNECTION)).toBe(0);
  });
});

describe("chunk pool", () => {
  test("lazy: an idle endpoint holds no chunk; chunks come and go with the data", () => {
    const h = endpointAcquire(EP_CONNECTION);
    const p = endpointPtr(h);
    expect(chunksInUse()).toBe(0, "fresh endpoint: no chunks");
    expect(cqChunks(p + TCB_SNDQ)).toBe(0);
    expect(cqAppend(p + TCB_SNDQ, DATA, 1)).toBe(1);
    expect(chunksInUse()).toBe(1);
    expect(cqAppend(p + TCB_SNDQ, DATA + 1, 199)).toBe(199);
    expect(cqChunks(p + TCB_SNDQ)).toBe(4, "200 B in 64-byte chunks");
    expect(cqConsume(p + TCB_SNDQ, 64)).toBe(64);
    expect(cqChunks(p + TCB_SNDQ)).toBe(3, "an emptied head chunk goes back at once");
    expect(cqConsume(p + TCB_SNDQ, 1000)).toBe(136);
    expect(chunksInUse()).toBe(0, "drained: idle again, no chunk held");
    expect(cqLength(p + TCB_SNDQ)).toBe(0);
    expect(endpointRelease(h)).toBe(OK);
  });

  test("append/peek/consume keep the byte stream across chunk edges", () => {
    const q = heap.alloc(CHUNK_QUEUE_SIZE);
    cqInit(q);
    let written: u32 = 0;
    let read: u32 = 0;
    // Uneven writes and reads so every offset crosses chunk boundaries.
    for (let round: u32 = 0; round < 40; round++) {
      const w = (round * 37) % 150 + 1;
      written += cqAppend(q, DATA + written % 2048, w);
      const r = (round * 53) % 120;
      const n = cqPeek(q, 0, OUT, r);
      for (let i: u32 = 0; i < n; i++) {
        if (load<u8>(OUT + i) != load<u8>(DATA + (read + i) % 2048)) {
          // report the position of the first mismatch
          expect(read + i).toBe(u32.MAX_VALUE);
        }
      }
      read += cqConsume(q, n);
      // DATA repeats every 256 bytes: shifting both positions by 1024 keeps the expected bytes.
      if (written > 1500) { written -= 1024; read -= 1024; }
    }
    expect(cqLength(q)).toBe(written - read);
    // Peek at an offset inside the queue.
    cqFree(q);
    cqAppend(q, DATA, 500);
    expect(cqPeek(q, 130, OUT, 100)).toBe(100);
    expect(load<u8>(OUT)).toBe(load<u8>(DATA + 130));
    expect(load<u8>(OUT + 99)).toBe(load<u8>(DATA + 229));
    expect(cqPeek(q, 500, OUT, 10)).toBe(0, "offset at the end: nothing");
    expect(cqPeek(q, 490, OUT, 100)).toBe(10, "clamped to the length");
    cqFree(q);
    expect(chunksInUse()).toBe(0);
  });

  test("exhaustion: a partial append, counted; nothing traps", () => {
    const q = heap.alloc(CHUNK_QUEUE_SIZE);
    cqInit(q);
    const before = counter(C_CHUNKS_EXHAUSTED);
    expect(cqAppend(q, DATA, 16 * 64 + 100)).toBe(16 * 64, "only what 16 chunks hold");
    expect(counter(C_CHUNKS_EXHAUSTED)).toBe(before + 1);
    expect(chunksFree()).toBe(0);
    expect(cqAppend(q, DATA, 1)).toBe(0);
    expect(counter(C_CHUNKS_EXHAUSTED)).toBe(before + 2);
    cqFree(q);
    expect(chunksFree()).toBe(16);
  });
});
