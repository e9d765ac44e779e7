// Adversarial review of issue 3: slabs and handles, endpoint pool, chunk queues,
// rings under hostile host-written headers, connection table, config extremes.
// Every test documents a property that holds; "Was BUG" marks one that reproduced a
// defect before its fix (none is skipped any more).

import {
  Slab, slabCarve, slabAcquire, slabRelease, slabCheck, slabHandleAt, makeHandle, GEN_MAX, INDEX_MASK,
  slabResetAll,
} from "../../assembly/mem/slab";
import {
  endpointsInit, endpointAcquire, endpointRelease, endpointPtr, endpointSetClass, endpointClass,
  endpointsInUse, endpointsInUseTotal, EP_CONNECTION, EP_LISTENER, EP_SYNCACHE,
} from "../../assembly/mem/endpoints";
import {
  chunksInit, chunksInUse, chunksFree, cqAppend, cqPeek, cqConsume, cqFree, cqLength, cqChunks, cqInit,
  chunksCheck, chunksBytes, CHUNK_QUEUE_SIZE, MAX_POOL_BYTES,
} from "../../assembly/mem/chunks";
import {
  ringsInit, ringsCheck, txAcquire, txCommit, txFrameCapacity, rxPoll, setRxHandler, eventsInit, eventPush,
  RX_RING, TX_RING, EVENT_RING, ringSlot, ringHead, ringTail,
} from "../../assembly/mem/rings";
import {
  RING_HEAD_OFF, RING_TAIL_OFF, RING_BASE_OFF, RING_MASK_OFF, RING_SLOT_SIZE_OFF, SLOT_HDR_SIZE,
  SLOT_LEN_OFF, SLOT_TIME_OFF,
} from "../../assembly/abi";
import {
  tableInit, tableInsert, tableInsertListener, tableRemove, tableLookup, tableLookupListener, tableDemux,
  tableBindCheck, entryRetag, entryType, tableSize, tableCount,
  ENTRY_CONN, ENTRY_LISTENER, ENTRY_SYNCACHE, ENTRY_TIMEWAIT, EF_BOUND, EF_REUSE_ADDR, EF_REUSE_PORT,
} from "../../assembly/tcp/table";
import { hashSetSecret } from "../../assembly/util/hash";
import { initTimers } from "../../assembly/time/clock";
import {
  configDefaults, CONFIG_SIZE, CFG_MAX_CONNECTIONS, CFG_MAX_LISTENERS, CFG_SYNCACHE_ENTRIES,
  CFG_MAX_TIME_WAIT, CFG_CHUNK_COUNT, CFG_CHUNK_SIZE, CFG_RX_SLOTS, CFG_TX_SLOTS, CFG_SLOT_SIZE,
  CFG_EVENT_RING_SIZE, CFG_SHARDS,
} from "../../assembly/config";
import { configCheck } from "../../assembly/mem/layout";
import {
  OK, E_INVALID_HANDLE, E_STALE_HANDLE, E_BAD_ARGUMENT, E_ENDPOINTS_EXHAUSTED, E_ADDR_IN_USE,
  E_CONFIG_TOO_LARGE, E_CONFIG_COUNT, E_TABLE_EXHAUSTED, E_EXISTS, E_CONFIG_ZERO, E_CONFIG_CHUNK_SIZE,
  E_CONFIG_NOT_POW2, E_CONFIG_SLOT_SIZE, lastError,
} from "../../assembly/errors";
import {
  counter, countersReset, C_STALE_HANDLE, C_INVALID_HANDLE, C_ENDPOINTS_EXHAUSTED, C_CHUNKS_EXHAUSTED,
  C_RX_RING_CORRUPT, C_RX_BAD_LENGTH, C_TX_RING_FULL, C_TX_COMMIT_INVALID, C_BIND_CONFLICT,
  C_TABLE_EXHAUSTED, C_RX_RING_FULL, C_RX_FRAMES,
} from "../../assembly/mem/stats";

function noTimer(p: usize): void {}
initTimers(true, 0, noTimer);

let rng: u64 = 0x9e3779b97f4a7c15;
function rand(): u64 { rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27; return rng * 0x2545f4914f6cdd1d; }

// ─── slab and handles ──────────────────────────────────────────────────────────────
describe("break: slab handles", () => {
  test("hostile handle values are refused with a code, never touch a record", () => {
    const s = slabCarve(8, 24);
    const h = slabAcquire(s);
    const bad: u32[] = [0, 0xffffffff, INDEX_MASK, makeHandle(0, 0), makeHandle(GEN_MAX, 7), makeHandle(1, 8),
      makeHandle(1, INDEX_MASK - 1), h ^ (1 << 22), h | 0x80000000];
    for (let i = 0; i < bad.length; i++) {
      const rc = slabCheck(s, bad[i]);
      expect(rc == E_INVALID_HANDLE || rc == E_STALE_HANDLE).toBe(true, "handle 0x" + bad[i].toString(16));
      expect(slabRelease(s, bad[i])).toBe(rc);
    }
    expect(slabCheck(s, h)).toBe(OK);
    expect(s.inUse).toBe(1);
  });

  test("a stale handle aliases only after exactly GEN_MAX (1023) release cycles of its slot", () => {
    const s = slabCarve(2, 8);
    const h0 = slabAcquire(s);
    expect(slabRelease(s, h0)).toBe(OK);
    let firstAlias = -1;
    for (let k = 1; k <= 2100; k++) {
      const h = slabAcquire(s); // LIFO: the same slot every time
      if (h == h0 && firstAlias < 0) firstAlias = k;
      if (h != h0) expect(slabCheck(s, h0)).toBe(E_STALE_HANDLE);
      slabRelease(s, h);
    }
    expect(firstAlias).toBe(<i32>GEN_MAX);
  });

  test("double release is refused; free-list integrity after hostile releases", () => {
    const s = slabCarve(4, 8);
    const a = slabAcquire(s), b = slabAcquire(s);
    expect(slabRelease(s, a)).toBe(OK);
    expect(slabRelease(s, a)).toBe(E_STALE_HANDLE);
    // the current handle of a free slot (gen matches, link says free) is invalid, not OK
    const free = makeHandle(a >>> 22, a & INDEX_MASK) + (1 << 22);
    expect(slabRelease(s, free)).toBe(E_INVALID_HANDLE);
    let n = 0;
    while (slabAcquire(s) != 0) n++;
    expect(n).toBe(3, "exactly the 3 free records come back, none twice");
    expect(slabCheck(s, b)).toBe(OK);
  });

  test("slabResetAll invalidates every outstanding handle", () => {
    const s = slabCarve(3, 8);
    const a = slabAcquire(s), b = slabAcquire(s);
    slabResetAll(s);
    expect(slabCheck(s, a)).toBe(E_STALE_HANDLE);
    expect(slabCheck(s, b)).toBe(E_STALE_HANDLE);
    expect(slabHandleAt(s, 0)).toBe(0);
  });
});

// ─── endpoints ─────────────────────────────────────────────────────────────────────
chunksInit(40, 64);
endpointsInit(2, 1, 2);

describe("break: endpoint pool", () => {
  test("promotion into a full class fails with its code, counts, and changes no quota", () => {
    countersReset();
    const c1 = endpointAcquire(EP_CONNECTION), c2 = endpointAcquire(EP_CONNECTION);
    const s1 = endpointAcquire(EP_SYNCACHE);
    expect(c1 != 0 && c2 != 0 && s1 != 0).toBe(true);
    expect(endpointSetClass(s1, EP_CONNECTION)).toBe(E_ENDPOINTS_EXHAUSTED);
    expect(counter(C_ENDPOINTS_EXHAUSTED)).toBe(1);
    expect(endpointClass(s1)).toBe(EP_SYNCACHE);
    expect(endpointsInUse(EP_SYNCACHE)).toBe(1);
    expect(endpointsInUse(EP_CONNECTION)).toBe(2);
    expect(endpointSetClass(s1, 7)).toBe(E_BAD_ARGUMENT);
    expect(endpointSetClass(0xffffffff, EP_CONNECTION)).toBe(E_INVALID_HANDLE);
    expect(endpointClass(0xffffffff)).toBe(0xff);
    endpointRelease(c1); endpointRelease(c2); endpointRelease(s1);
    expect(endpointsInUseTotal()).toBe(0);
  });

  test("stale and garbage handles: release/ptr refuse and count, quotas intact", () => {
    countersReset();
    const h = endpointAcquire(EP_LISTENER);
    expect(endpointRelease(h)).toBe(OK);
    expect(endpointRelease(h)).toBe(E_STALE_HANDLE);
    expect(endpointPtr(h)).toBe(0);
    expect(endpointRelease(0)).toBe(E_INVALID_HANDLE);
    expect(endpointRelease(0xffffffff)).toBe(E_INVALID_HANDLE);
    expect(counter(C_STALE_HANDLE)).toBe(2);
    expect(counter(C_INVALID_HANDLE)).toBe(2);
    expect(endpointsInUse(EP_LISTENER)).toBe(0);
    const h2 = endpointAcquire(EP_LISTENER);
    expect(h2).not.toBe(0, "the listener quota was not leaked by the bad releases");
    expect(endpointAcquire(EP_LISTENER)).toBe(0);
    endpointRelease(h2);
  });
});

// ─── chunk queues: randomized byte-stream model ─────────────────────────────────────
const Q: usize = heap.alloc(3 * CHUNK_QUEUE_SIZE);
const SRC: usize = heap.alloc(4096);
const DST: usize = heap.alloc(4096);
const MODEL: usize = heap.alloc(3 * 65536); // per queue: bytes [mHead, mTail)
const mHead = new StaticArray<u32>(3);
const mTail = new StaticArray<u32>(3);

describe("break: chunk queues", () => {
  // docs/abi.md config table: chunkCount > 0 and ≤ 2^24, chunkSize a multiple of 8 in
  // 64..32768, and (below the table) every region < 1 GiB. The pool is one region, so
  // chunksCheck applies the size rule itself, computed in u64 (MAX_POOL_BYTES).
  test("chunksCheck accepts the documented extremes only", () => {
    expect(chunksCheck(1, 64)).toBe(OK);
    expect(chunksCheck(1, 32768)).toBe(OK);
    expect(chunksCheck(0, 64)).toBe(E_CONFIG_ZERO);
    expect(chunksCheck(1, 0)).toBe(E_CONFIG_ZERO);
    expect(chunksCheck((1 << 24) + 1, 64)).toBe(E_CONFIG_COUNT);
    expect(chunksCheck(0xffffffff, 32768)).toBe(E_CONFIG_COUNT);
    expect(chunksCheck(1, 32776)).toBe(E_CONFIG_CHUNK_SIZE);
    expect(chunksCheck(1, 72 - 4)).toBe(E_CONFIG_CHUNK_SIZE);
    expect(chunksCheck(1, 56)).toBe(E_CONFIG_CHUNK_SIZE);
    // The largest pools under the 1 GiB block limit, and one chunk more.
    expect(chunksBytes(15790319, 64)).toBeLessThanOrEqual(MAX_POOL_BYTES);
    expect(chunksCheck(15790319, 64)).toBe(OK);
    expect(chunksCheck(15790320, 64)).toBe(E_CONFIG_TOO_LARGE);
    expect(chunksCheck(32763, 32768)).toBe(OK);
    expect(chunksCheck(32764, 32768)).toBe(E_CONFIG_TOO_LARGE);
    // Was BUG: products whose u32 value wraps (2^17 × 32768 = 2^32 → 0; 2^24 × 32768 =
    // 512 GiB) were accepted, and chunksInit then carved a truncated pool.
    expect(chunksCheck(1 << 17, 32768)).toBe(E_CONFIG_TOO_LARGE);
    expect(chunksCheck(1 << 24, 32768)).toBe(E_CONFIG_TOO_LARGE);
    expect(chunksCheck(1 << 24, 64)).toBe(E_CONFIG_TOO_LARGE);
    expect(chunksBytes(1 << 24, 32768)).toBe((<u64>1 << 24) * 32772 + 8, "computed in u64");
  });

  test("20 000 random append/peek/consume/free ops on 3 queues over a 40-chunk pool match a byte model", () => {
    for (let q = 0; q < 3; q++) { cqInit(Q + <usize>q * CHUNK_QUEUE_SIZE); mHead[q] = 0; mTail[q] = 0; }
    for (let i = 0; i < 4096; i++) store<u8>(SRC + i, <u8>(i * 7 + 3));
    countersReset();
    let bad = 0;
    let exhaustCalls: u64 = 0;
    for (let k = 0; k < 20000; k++) {
      const q = <i32>(rand() % 3);
      const qa = Q + <usize>q * CHUNK_QUEUE_SIZE;
      const r = rand() % 10;
      if (r < 4) {
        const sizes: u32[] = [0, 1, 63, 64, 65, 127, 128, 129, 700, 2000];
        const len = sizes[<i32>(rand() % 10)];
        const off = <u32>(rand() % 2000);
        const before = counter(C_CHUNKS_EXHAUSTED);
        const got = cqAppend(qa, SRC + off, len);
        if (got > len) bad++;
        if (got < len) {
          exhaustCalls++;
          if (counter(C_CHUNKS_EXHAUSTED) != before + 1) bad++;
        }
        for (let i: u32 = 0; i < got; i++) {
          if (mTail[q] - mHead[q] >= 65536) { bad++; break; }
          store<u8>(MODEL + <usize>q * 65536 + (mTail[q] & 0xffff), load<u8>(SRC + off + i));
          mTail[q]++;
        }
      } else if (r < 7) {
        const n = <u32>(rand() % 300);
        const dropped = cqConsume(qa, n);
        const have = mTail[q] - mHead[q];
        if (dropped != (n < have ? n : have)) bad++;
        mHead[q] += dropped;
      } else if (r < 9) {
        const have = mTail[q] - mHead[q];
        const off = <u32>(rand() % (have + 3));
        const n = <u32>(rand() % 1000);
        const got = cqPeek(qa, off, DST, n);
        const want = off >= have ? 0 : (n < have - off ? n : have - off);
        if (got != want) bad++;
        for (let i: u32 = 0; i < got; i++) {
          if (load<u8>(DST + i) != load<u8>(MODEL + <usize>q * 65536 + ((mHead[q] + off + i) & 0xffff))) { bad++; break; }
        }
      } else {
        cqFree(qa);
        mHead[q] = mTail[q];
      }
      if (cqLength(qa) != mTail[q] - mHead[q]) bad++;
      // chunk accounting: pool in-use == chunks held by the 3 queues; empty queue holds none
      let held: u32 = 0;
      for (let j = 0; j < 3; j++) held += cqChunks(Q + <usize>j * CHUNK_QUEUE_SIZE);
      if (held != chunksInUse()) bad++;
      if (cqLength(qa) == 0 && cqChunks(qa) != 0) bad++;
      if (bad != 0) { log<string>("chunk model diverged at op " + k.toString()); break; }
    }
    log<string>("chunk model: seed 0x9e3779b97f4a7c15, partial appends " + exhaustCalls.toString());
    expect(bad).toBe(0);
    expect(exhaustCalls).toBeGreaterThan(0, "the pool did run dry");
    for (let q = 0; q < 3; q++) cqFree(Q + <usize>q * CHUNK_QUEUE_SIZE);
    expect(chunksInUse()).toBe(0);
    expect(chunksFree()).toBe(40);
  });
});

// ─── rings under a hostile host ──────────────────────────────────────────────────────
let rxSeen: u32 = 0;
let rxLastLen: u32 = 0;
function onRx(frame: usize, len: u32, t: u64): void { rxSeen++; rxLastLen = len; }

const CANARY: usize = heap.alloc(256);

function rxPut(len: u32): void {
  const head = ringHead(RX_RING);
  store<u32>(ringSlot(RX_RING, head) + SLOT_LEN_OFF, len);
  store<u32>(RX_RING + RING_HEAD_OFF, head + 1);
}

describe("break: rings", () => {
  test("hostile RX head/tail/len values: bounded work, counted, never outside the ring", () => {
    expect(ringsInit(4, 4, 256)).toBe(OK);
    expect(eventsInit(4)).toBe(OK);
    setRxHandler(onRx);
    countersReset();
    const cap: u32 = 256 - SLOT_HDR_SIZE;
    const lens: u32[] = [0, 1, cap, cap + 1, 0xffffffff, 0x80000000];
    for (let i = 0; i < lens.length; i++) {
      rxSeen = 0;
      rxPut(lens[i]);
      expect(rxPoll(100)).toBe(1);
      expect(rxSeen).toBe(lens[i] != 0 && lens[i] <= cap ? <u32>1 : <u32>0);
    }
    expect(counter(C_RX_BAD_LENGTH)).toBe(4);
    // head far ahead, head behind tail, tail near 2^32: at most one lap per poll
    const heads: u32[] = [0xffffffff, 0x7fffffff, 3, 0];
    const tails: u32[] = [0, 5, 0xfffffffe, 0x80000000];
    for (let i = 0; i < heads.length; i++) {
      store<u32>(RX_RING + RING_TAIL_OFF, tails[i]);
      store<u32>(RX_RING + RING_HEAD_OFF, heads[i]);
      expect(rxPoll(0xffffffff)).toBeLessThanOrEqual(4);
    }
    expect(counter(C_RX_RING_CORRUPT)).toBeGreaterThanOrEqual(3);
    store<u32>(RX_RING + RING_HEAD_OFF, 0);
    store<u32>(RX_RING + RING_TAIL_OFF, 0);
  });

  test("hostile TX tail (ahead of head, far behind) only makes the ring look full, counted", () => {
    countersReset();
    const head = ringHead(TX_RING);
    const tails: u32[] = [head + 1, head + 0x80000000, head - 5, head - 2];
    for (let i = 0; i < tails.length; i++) {
      store<u32>(TX_RING + RING_TAIL_OFF, tails[i]);
      const buf = txAcquire();
      const used = head - tails[i];
      if (used >= 4) expect(buf).toBe(0);
      else expect(buf).not.toBe(0);
    }
    expect(counter(C_TX_RING_FULL)).toBe(3);
    store<u32>(TX_RING + RING_TAIL_OFF, head);
    const b = txAcquire();
    txCommit(b + 8, 10); // not the acquired buffer
    txCommit(b, txFrameCapacity() + 1);
    txCommit(b, 0);
    expect(counter(C_TX_COMMIT_INVALID)).toBe(3);
    expect(ringHead(TX_RING)).toBe(head);
  });

  // Was BUG (brief K): a head more than one lap ahead was clamped to one lap and the
  // lap taken — the slots' old frames handed up again — while tail stayed more than a
  // lap behind head, so every later poll (every tick) replayed the same old frames.
  test("a corrupt RX head (more than one lap ahead, or behind tail) is counted, dropped and tail resynced: no replay", () => {
    expect(ringsInit(4, 4, 256)).toBe(OK);
    setRxHandler(onRx);
    countersReset();
    // Four real frames, taken normally.
    for (let i: u32 = 0; i < 4; i++) rxPut(60 + i);
    rxSeen = 0;
    expect(rxPoll(100)).toBe(4);
    expect(rxSeen).toBe(4);
    expect(counter(C_RX_FRAMES)).toBe(4);
    // The slots still hold those frames (valid lengths). The host now writes a head
    // 1000 frames ahead: nothing is handed up, once counted, tail = head.
    const heads: u32[] = [ringTail(RX_RING) + 1000, ringTail(RX_RING) - 1, ringTail(RX_RING) + 5, ringTail(RX_RING) + 0x80000000];
    for (let k = 0; k < heads.length; k++) {
      countersReset();
      rxSeen = 0;
      store<u32>(RX_RING + RING_HEAD_OFF, heads[k]);
      for (let tick = 0; tick < 3; tick++) rxPoll(1); // three ticks, the tick loop's budget of 1
      expect(rxSeen).toBe(0, "no old frame replayed (head case " + k.toString() + ")");
      expect(counter(C_RX_FRAMES)).toBe(0);
      expect(counter(C_RX_RING_CORRUPT)).toBe(1, "counted once, not once per tick");
      expect(ringTail(RX_RING)).toBe(heads[k], "tail resynchronized to head");
      expect(rxPoll(100)).toBe(0, "nothing pending afterwards");
    }
    // The next frame the host places is read normally.
    rxSeen = 0;
    rxPut(77);
    expect(rxPoll(100)).toBe(1);
    expect(rxSeen).toBe(1);
    expect(rxLastLen).toBe(77);
  });

  test("rxRingFull counts each poll that finds the RX ring full (the host could place nothing more)", () => {
    expect(ringsInit(4, 4, 256)).toBe(OK);
    setRxHandler(onRx);
    countersReset();
    for (let i: u32 = 0; i < 3; i++) rxPut(60);
    expect(rxPoll(1)).toBe(1);
    expect(counter(C_RX_RING_FULL)).toBe(0, "three of four slots used: not full");
    rxPut(60); rxPut(60); // 4 of 4
    expect(rxPoll(1)).toBe(1);
    expect(counter(C_RX_RING_FULL)).toBe(1);
    expect(rxPoll(1)).toBe(1);
    expect(counter(C_RX_RING_FULL)).toBe(1, "3 of 4 after one was taken: not full");
    rxPut(60); rxPut(60);
    expect(rxPoll(100)).toBe(4);
    expect(counter(C_RX_RING_FULL)).toBe(2);
    expect(rxPoll(100)).toBe(0);
    expect(counter(C_RX_RING_FULL)).toBe(2, "an empty ring is not full");
    expect(counter(C_RX_RING_CORRUPT)).toBe(0);
  });

  test("a host that rewrites the event ring's base/slots cannot redirect eventPush", () => {
    expect(eventsInit(4)).toBe(OK);
    memory.fill(CANARY, 0xaa, 256);
    store<u32>(EVENT_RING + RING_BASE_OFF, <u32>CANARY);
    store<u32>(EVENT_RING + RING_MASK_OFF, 0);
    store<u32>(EVENT_RING + RING_SLOT_SIZE_OFF, 0);
    expect(eventPush(1, 2, 3, 4)).toBe(OK);
    expect(load<u32>(CANARY)).toBe(0xaaaaaaaa, "eventPush wrote into a foreign buffer");
    expect(load<u32>(ringSlot(EVENT_RING, 0) + 4)).toBe(2, "the record went to the carved ring");
  });

  // Was BUG: rings.ts re-read the ring GEOMETRY (slots, slotSize, base, mask) from the
  // host-writable ABI block on every access, so a host that clobbered `base` made
  // txAcquire/txCommit/eventPush write anywhere in linear memory (here: into an
  // unrelated buffer), and rxPoll trap on an out-of-bounds load (base = 0xfffffff0).
  // Fixed in 2dd8059: the geometry lives in module globals set by ringsInit; only
  // head/tail are read from shared memory. Event ring: same property below.
  test("a host that rewrites the TX ring's base cannot make the module write outside the carved TX region", () => {
    const txBase = load<u32>(TX_RING + RING_BASE_OFF);
    memory.fill(CANARY, 0xaa, 256);
    store<u32>(TX_RING + RING_BASE_OFF, <u32>CANARY);
    store<u32>(TX_RING + RING_MASK_OFF, 0);
    const b = txAcquire();
    if (b != 0) txCommit(b, 8);
    const clobbered = load<u32>(CANARY) != 0xaaaaaaaa;
    store<u32>(TX_RING + RING_BASE_OFF, txBase);
    store<u32>(TX_RING + RING_MASK_OFF, 3);
    expect(clobbered).toBe(false, "txCommit wrote its slot header into a foreign buffer");
  });

  // Was BUG (low): ringsCheck accepted parameters whose byte size does not fit in u32:
  // ringsCheck(65536, 1, 65536) was OK and ringsInit then computed <usize>(2^32) = 0
  // and carved a 0-byte RX region behind a 65536×64 KiB header (stackInit was safe:
  // configBytes refuses > 1 GiB first). Fixed in 2374138 (ringsCheck applies the
  // 1 GiB block limit, sizes in u64); chunksCheck/chunksInit: fixed likewise, see
  // "chunksCheck accepts the documented extremes only".
  test("ringsCheck refuses a ring larger than 1 GiB by itself", () => {
    expect(ringsCheck(65536, 1, 65536)).toBe(E_CONFIG_TOO_LARGE);
    expect(ringsCheck(1, 65536, 65536)).toBe(E_CONFIG_TOO_LARGE);
    expect(ringsCheck(1 << 20, 1 << 20, 65536)).toBe(E_CONFIG_TOO_LARGE);
    // The block limit is 1 GiB − 64: exactly 1 GiB of slots is over it, just under is not.
    expect(ringsCheck(1 << 14, 1, 65536)).toBe(E_CONFIG_TOO_LARGE);
    expect(ringsCheck(1 << 14, 1, 65536 - 8)).toBe(OK);
    expect(ringsCheck(1 << 20, 1 << 20, 1024)).toBe(E_CONFIG_TOO_LARGE);
    expect(ringsCheck(1 << 20, 1 << 20, 1016)).toBe(OK);
    // The other rules keep their own codes.
    expect(ringsCheck(3, 4, 256)).toBe(E_CONFIG_NOT_POW2);
    expect(ringsCheck(4, 4, 120)).toBe(E_CONFIG_SLOT_SIZE);
    expect(ringsCheck(1 << 21, 4, 256)).toBe(E_CONFIG_TOO_LARGE);
  });

  test("through configCheck the same oversize rings and pools are refused", () => {
    const c = heap.alloc(CONFIG_SIZE);
    configDefaults(c);
    store<u32>(c + CFG_RX_SLOTS, 65536);
    store<u32>(c + CFG_SLOT_SIZE, 65536);
    expect(configCheck(c)).toBe(E_CONFIG_TOO_LARGE);
    configDefaults(c);
    store<u32>(c + CFG_CHUNK_COUNT, 1 << 17);
    store<u32>(c + CFG_CHUNK_SIZE, 32768);
    expect(configCheck(c)).toBe(E_CONFIG_TOO_LARGE);
    // every region just under 1 GiB, the sum over 4 GiB
    configDefaults(c);
    store<u32>(c + CFG_CHUNK_COUNT, 32760);
    store<u32>(c + CFG_CHUNK_SIZE, 32768); // 1 073 610 728 B, under MAX_REGION
    store<u32>(c + CFG_RX_SLOTS, 16384);
    store<u32>(c + CFG_TX_SLOTS, 16384);
    store<u32>(c + CFG_SLOT_SIZE, 65536 - 8); // 2 × 1 073 610 752 B
    store<u32>(c + CFG_MAX_CONNECTIONS, 3000000); // endpoint slab ~1.02 GB
    store<u32>(c + CFG_MAX_TIME_WAIT, 1000000);
    expect(configCheck(c)).toBe(E_CONFIG_TOO_LARGE);
    // u32 extremes
    configDefaults(c);
    store<u32>(c + CFG_MAX_CONNECTIONS, 0xffffffff);
    expect(configCheck(c)).toBe(E_CONFIG_COUNT);
    configDefaults(c);
    store<u32>(c + CFG_MAX_LISTENERS, 0xffffffff - 1024 + 1); // sum wraps u32 to small
    expect(configCheck(c)).toBe(E_CONFIG_COUNT);
    configDefaults(c);
    store<u32>(c + CFG_MAX_TIME_WAIT, 4194302 - 1024 - 64 - 256 + 1); // table capacity one over
    expect(configCheck(c)).toBe(E_CONFIG_COUNT);
    configDefaults(c);
    store<u32>(c + CFG_SHARDS, 0x80000000);
    expect(configCheck(c)).not.toBe(OK);
  });
});

// ─── connection table ──────────────────────────────────────────────────────────────
const A: u32 = 0xc6120001;
const B: u32 = 0xc6120002;
const R: u32 = 0xc6130001;

describe("break: table", () => {
  test("setup", () => {
    hashSetSecret(0x1111, 0x2222);
    tableInit(6, 4, 2);
    expect(tableSize()).toBe(0);
  });

  test("wildcard order survives removal and reinsertion; REUSE_PORT chain keeps FIFO answer", () => {
    const wild = tableInsertListener(0, 80, 100, EF_REUSE_PORT);
    const ex1 = tableInsertListener(A, 80, 101, EF_REUSE_PORT);
    const ex2 = tableInsertListener(A, 80, 102, EF_REUSE_PORT);
    expect(tableLookupListener(A, 80)).toBe(ex1);
    expect(tableLookupListener(B, 80)).toBe(wild);
    expect(tableLookupListener(0, 80)).toBe(wild);
    expect(tableRemove(ex1)).toBe(OK);
    expect(tableLookupListener(A, 80)).toBe(ex2);
    expect(tableRemove(ex2)).toBe(OK);
    expect(tableLookupListener(A, 80)).toBe(wild);
    expect(tableRemove(ex1)).toBe(E_STALE_HANDLE);
    expect(tableRemove(wild)).toBe(OK);
    expect(tableLookupListener(A, 80)).toBe(0);
    expect(tableBindCheck(A, 80, 0)).toBe(OK, "port index cleaned");
    expect(tableSize()).toBe(0);
  });

  test("exact 4-tuple beats listeners; demux never returns a removed entry", () => {
    const l = tableInsertListener(A, 443, 1, 0);
    const c = tableInsert(ENTRY_CONN, A, 443, R, 5000, 2, 0);
    expect(tableDemux(A, 443, R, 5000)).toBe(c);
    expect(tableDemux(A, 443, R, 5001)).toBe(l);
    expect(tableInsert(ENTRY_SYNCACHE, A, 443, R, 5000, 3, 0)).toBe(0);
    expect(lastError()).toBe(E_EXISTS);
    tableRemove(c);
    expect(tableDemux(A, 443, R, 5000)).toBe(l);
    tableRemove(l);
    expect(tableDemux(A, 443, R, 5000)).toBe(0);
  });

  test("retag keeps the port binding: TIME-WAIT + REUSE_ADDR binds, plain bind conflicts", () => {
    countersReset();
    const c = tableInsert(ENTRY_CONN, A, 8080, R, 1, 9, EF_BOUND);
    expect(tableBindCheck(B, 8080, EF_REUSE_ADDR)).toBe(OK, "different address");
    expect(tableBindCheck(A, 8080, EF_REUSE_ADDR)).toBe(E_ADDR_IN_USE, "live connection");
    expect(entryRetag(c, ENTRY_TIMEWAIT, 10)).toBe(OK);
    expect(tableBindCheck(A, 8080, EF_REUSE_ADDR)).toBe(OK);
    expect(tableBindCheck(0, 8080, EF_REUSE_ADDR)).toBe(OK);
    expect(tableBindCheck(0, 8080, 0)).toBe(E_ADDR_IN_USE);
    expect(entryRetag(c, ENTRY_LISTENER, 1)).toBe(E_BAD_ARGUMENT);
    expect(entryRetag(c, 0, 1)).toBe(E_BAD_ARGUMENT);
    expect(entryRetag(c, 200, 1)).toBe(E_BAD_ARGUMENT);
    expect(counter(C_BIND_CONFLICT)).toBe(2);
    tableRemove(c);
    expect(tableBindCheck(A, 8080, 0)).toBe(OK);
    expect(tableCount(ENTRY_TIMEWAIT)).toBe(0);
  });

  test("exhaustion: distinct code + counter for both insert paths; garbage handles refused", () => {
    countersReset();
    const hs = new StaticArray<u32>(6);
    for (let i = 0; i < 6; i++) { hs[i] = tableInsert(ENTRY_CONN, A, 1000, R, <u16>(i + 1), 0, 0); expect(hs[i]).not.toBe(0); }
    expect(tableInsert(ENTRY_CONN, A, 1000, R, 99, 0, 0)).toBe(0);
    expect(lastError()).toBe(E_TABLE_EXHAUSTED);
    expect(tableInsertListener(A, 1000, 0, 0)).toBe(0);
    expect(lastError()).toBe(E_TABLE_EXHAUSTED);
    expect(counter(C_TABLE_EXHAUSTED)).toBe(2);
    expect(tableRemove(0)).toBe(E_INVALID_HANDLE);
    expect(tableRemove(0xffffffff)).toBe(E_INVALID_HANDLE);
    expect(entryType(0xffffffff)).toBe(0);
    for (let i = 0; i < 6; i++) expect(tableRemove(hs[i])).toBe(OK);
    expect(tableSize()).toBe(0);
  });

  // Not a defect by itself (the table's contract puts overlap checks in tableBindCheck),
  // but nothing in TCP calls tableBindCheck or tableInsertListener yet: listen() must
  // call tableBindCheck first or 0.0.0.0:80 and A:80 (no REUSE flags) will both listen.
  test("tableInsertListener checks only the exact (address, port); overlap is tableBindCheck's job", () => {
    const w = tableInsertListener(0, 81, 1, 0);
    expect(tableBindCheck(A, 81, 0)).toBe(E_ADDR_IN_USE);
    const a = tableInsertListener(A, 81, 2, 0);
    expect(a).not.toBe(0);
    tableRemove(w);
    tableRemove(a);
  });

  // Was BUG (low, fixed with issue 6): only remoteAddr == 0 was refused; a connection
  // entry with localAddr 0 and EF_BOUND then acted as a wildcard in tableBindCheck and
  // blocked every bind of its port on every local address.
  test("tableInsert refuses a connection/syncache/TIME-WAIT entry with localAddr 0", () => {
    const e = tableInsert(ENTRY_CONN, 0, 2000, R, 3000, 1, EF_BOUND);
    const rc = lastError();
    if (e != 0) tableRemove(e);
    expect(e).toBe(0);
    expect(rc).toBe(E_BAD_ARGUMENT);
  });
});
