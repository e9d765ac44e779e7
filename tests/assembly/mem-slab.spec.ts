// Slab: free list, generation-tagged handles, stale handles, exhaustion.

import {
  slabCarve, slabAcquire, slabRelease, slabCheck, slabPtr, slabAt, handleIndex, handleGen,
  makeHandle, GEN_MAX, INDEX_BITS, slabHandleAt,
} from "../../assembly/mem/slab";
import { OK, E_INVALID_HANDLE, E_STALE_HANDLE } from "../../assembly/errors";

describe("FIFO slabs (the endpoint slab: handles the host holds)", () => {
  test("a released record comes back only after every other free one", () => {
    const s = slabCarve(4, 8, true);
    const a = slabAcquire(s), b = slabAcquire(s);
    expect(slabRelease(s, a)).toBe(OK);
    const c = slabAcquire(s), d = slabAcquire(s);
    expect(handleIndex(c)).toBe(2, "the free records in order, not the one just released");
    expect(handleIndex(d)).toBe(3);
    const e = slabAcquire(s);
    expect(handleIndex(e)).toBe(handleIndex(a), "then the released one");
    expect(slabAcquire(s)).toBe(0, "exhausted");
    expect(slabRelease(s, b)).toBe(OK);
    expect(slabRelease(s, d)).toBe(OK);
    expect(handleIndex(slabAcquire(s))).toBe(handleIndex(b), "FIFO again after exhaustion");
    expect(handleIndex(slabAcquire(s))).toBe(handleIndex(d));
    expect(slabCheck(s, c)).toBe(OK);
    expect(slabCheck(s, e)).toBe(OK);
  });

  test("a stale handle aliases only after GEN_MAX × (free records) acquisitions", () => {
    const s = slabCarve(4, 8, true);
    const h0 = slabAcquire(s);
    expect(slabRelease(s, h0)).toBe(OK);
    let firstAlias = -1;
    for (let k = 1; k <= 4 * 1100; k++) {
      const h = slabAcquire(s);
      if (h == h0 && firstAlias < 0) firstAlias = k;
      // Refused whenever it is not the live handle (stale, or the free slot's own generation).
      if (h != h0) expect(slabCheck(s, h0) != OK).toBe(true);
      slabRelease(s, h);
    }
    expect(firstAlias).toBe(<i32>(4 * GEN_MAX), "LIFO would alias after GEN_MAX");
  });
});

describe("slab handles", () => {
  test("handle 0 is always invalid; handles are generation << 22 | index", () => {
    const s = slabCarve(8, 24);
    expect(slabCheck(s, 0)).toBe(E_INVALID_HANDLE);
    expect(slabPtr(s, 0)).toBe(0);
    const h = slabAcquire(s);
    expect(h).not.toBe(0);
    expect(handleGen(h)).toBe(1, "generations start at 1, never 0");
    expect(h).toBe(makeHandle(1, handleIndex(h)));
    expect(INDEX_BITS).toBe(22);
    expect(slabCheck(s, h)).toBe(OK);
    expect(slabPtr(s, h)).toBe(slabAt(s, handleIndex(h)));
    expect(s.recordSize).toBe(24);
    expect(slabAt(s, 1) - slabAt(s, 0)).toBe(24);
    expect(slabAt(s, 0) & 7).toBe(0, "records 8-byte aligned");
  });

  test("stale handle after release and after reuse; out-of-range and free slots invalid", () => {
    const s = slabCarve(4, 16);
    const h1 = slabAcquire(s);
    expect(slabRelease(s, h1)).toBe(OK);
    expect(slabCheck(s, h1)).toBe(E_STALE_HANDLE, "released: stale before reuse");
    expect(slabRelease(s, h1)).toBe(E_STALE_HANDLE, "double release refused");
    const h2 = slabAcquire(s);
    expect(handleIndex(h2)).toBe(handleIndex(h1), "LIFO: the same slot comes back");
    expect(h2).not.toBe(h1);
    expect(slabCheck(s, h1)).toBe(E_STALE_HANDLE, "reused: old handle stays stale");
    expect(slabPtr(s, h1)).toBe(0);
    expect(slabCheck(s, h2)).toBe(OK);
    expect(slabCheck(s, makeHandle(1, 4))).toBe(E_INVALID_HANDLE, "index beyond capacity");
    expect(slabCheck(s, makeHandle(1, 3))).toBe(E_INVALID_HANDLE, "free slot, current generation");
    expect(slabRelease(s, makeHandle(1, 3))).toBe(E_INVALID_HANDLE);
    expect(s.inUse).toBe(1);
  });

  test("exhaustion returns 0; every record handed out once", () => {
    const s = slabCarve(5, 8);
    const seen = new StaticArray<bool>(5);
    for (let i = 0; i < 5; i++) {
      const h = slabAcquire(s);
      expect(h).not.toBe(0);
      expect(seen[handleIndex(h)]).toBe(false);
      seen[handleIndex(h)] = true;
    }
    expect(slabAcquire(s)).toBe(0);
    expect(s.inUse).toBe(5);
    expect(s.highWater).toBe(5);
    expect(slabHandleAt(s, 9)).toBe(0);
  });

  test("generation wraps 1023 → 1, skipping 0", () => {
    const s = slabCarve(1, 8);
    let h: u32 = 0;
    for (let i: u32 = 0; i < GEN_MAX; i++) {
      h = slabAcquire(s);
      expect(handleGen(h)).toBe(i + 1);
      slabRelease(s, h);
    }
    h = slabAcquire(s);
    expect(handleGen(h)).toBe(1, "after 1023 the generation wraps to 1, never 0");
    expect(h).not.toBe(0);
  });
});
