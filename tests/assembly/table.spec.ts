// Connection table: exact lookup, listener wildcard order, bind conflicts,
// retagging, stale entry handles, exhaustion.

import {
  tableInit, tableInsert, tableInsertListener, tableRemove, tableLookup, tableLookupListener,
  tableDemux, tableBindCheck, entryType, entryOwner, entryRetag, tableCount, tableSize,
  tableMaxChain, tablePortInUse, tableRemoveTuple,
  ENTRY_CONN, ENTRY_LISTENER, ENTRY_SYNCACHE, ENTRY_TIMEWAIT, EF_BOUND, EF_REUSE_ADDR, EF_REUSE_PORT,
} from "../../assembly/tcp/table";
import { hashSetSecret } from "../../assembly/util/hash";
import {
  OK, E_ADDR_IN_USE, E_EXISTS, E_TABLE_EXHAUSTED, E_STALE_HANDLE, E_BAD_ARGUMENT, E_NOT_FOUND,
  lastError,
} from "../../assembly/errors";
import { counter, C_TABLE_EXHAUSTED, C_BIND_CONFLICT } from "../../assembly/mem/stats";

const A: u32 = 0xc6120001; // 198.18.0.1 (local)
const B: u32 = 0xc6120002; // 198.18.0.2 (local, second address)
const R: u32 = 0xc6130001; // 198.19.0.1 (remote)

hashSetSecret(0x0123456789abcdef, 0xfedcba9876543210);
tableInit(64, 8, 4);

describe("exact 4-tuple", () => {
  test("insert, lookup, remove; duplicates refused", () => {
    const e = tableInsert(ENTRY_CONN, A, 80, R, 40000, 0x1234, 0);
    expect(e).not.toBe(0);
    expect(tableLookup(A, 80, R, 40000)).toBe(e);
    expect(entryType(e)).toBe(ENTRY_CONN);
    expect(entryOwner(e)).toBe(0x1234);
    expect(tableLookup(A, 80, R, 40001)).toBe(0);
    expect(tableLookup(B, 80, R, 40000)).toBe(0);
    expect(tableInsert(ENTRY_CONN, A, 80, R, 40000, 0x9999, 0)).toBe(0);
    expect(lastError()).toBe(E_EXISTS);
    expect(tableCount(ENTRY_CONN)).toBe(1);
    expect(tableRemove(e)).toBe(OK);
    expect(tableLookup(A, 80, R, 40000)).toBe(0);
    expect(tableRemove(e)).toBe(E_STALE_HANDLE, "stale entry handle refused");
    expect(tableCount(ENTRY_CONN)).toBe(0);
    expect(tableInsert(ENTRY_LISTENER, A, 80, R, 1, 1, 0)).toBe(0);
    expect(lastError()).toBe(E_BAD_ARGUMENT);
    expect(tableInsert(ENTRY_CONN, A, 0, R, 1, 1, 0)).toBe(0);
    expect(lastError()).toBe(E_BAD_ARGUMENT);
  });

  test("many entries in one shard set: each found, removal in any order", () => {
    const hs = new StaticArray<u32>(40);
    for (let i = 0; i < 40; i++) {
      hs[i] = tableInsert(ENTRY_CONN, A, 443, R + <u32>(i & 3), <u16>(50000 + i), <u32>(i + 1), 0);
      expect(hs[i]).not.toBe(0);
    }
    for (let i = 0; i < 40; i++) expect(entryOwner(tableLookup(A, 443, R + <u32>(i & 3), <u16>(50000 + i)))).toBe(<u32>(i + 1));
    expect(tableMaxChain()).toBeLessThan(10);
    for (let i = 0; i < 40; i += 2) expect(tableRemove(hs[i])).toBe(OK);
    for (let i = 0; i < 40; i++) {
      const found = tableLookup(A, 443, R + <u32>(i & 3), <u16>(50000 + i));
      if (i % 2 == 0) expect(found).toBe(0); else expect(found).toBe(hs[i]);
    }
    expect(tableRemoveTuple(A, 443, R + 1, 50001, 999)).toBe(E_NOT_FOUND, "owner must match");
    for (let i = 1; i < 40; i += 2) expect(tableRemoveTuple(A, 443, R + <u32>(i & 3), <u16>(50000 + i), <u32>(i + 1))).toBe(OK);
    expect(tableSize()).toBe(0);
  });

  test("retag: syncache → connection → TIME-WAIT keeps the tuple findable", () => {
    const e = tableInsert(ENTRY_SYNCACHE, A, 80, R, 40000, 7, 0);
    expect(tableCount(ENTRY_SYNCACHE)).toBe(1);
    expect(entryRetag(e, ENTRY_CONN, 8)).toBe(OK);
    expect(entryType(tableLookup(A, 80, R, 40000))).toBe(ENTRY_CONN);
    expect(entryRetag(e, ENTRY_TIMEWAIT, 9)).toBe(OK);
    expect(entryType(tableDemux(A, 80, R, 40000))).toBe(ENTRY_TIMEWAIT);
    expect(entryOwner(e)).toBe(9);
    expect(tableCount(ENTRY_SYNCACHE)).toBe(0);
    expect(tableCount(ENTRY_TIMEWAIT)).toBe(1);
    expect(entryRetag(e, ENTRY_LISTENER, 1)).toBe(E_BAD_ARGUMENT);
    expect(tableRemove(e)).toBe(OK);
  });
});

describe("listener lookup order", () => {
  test("exact 4-tuple, then listener on (addr, port), then listener on (0.0.0.0, port)", () => {
    const wild = tableInsertListener(0, 80, 100, 0);
    const onA = tableInsertListener(A, 80, 101, 0);
    expect(wild).not.toBe(0);
    expect(onA).not.toBe(0);
    expect(tableDemux(A, 80, R, 40000)).toBe(onA, "specific address wins over the wildcard");
    expect(tableDemux(B, 80, R, 40000)).toBe(wild, "other local address: wildcard");
    expect(tableDemux(A, 81, R, 40000)).toBe(0, "no listener on the port");
    const conn = tableInsert(ENTRY_CONN, A, 80, R, 40000, 102, 0);
    expect(tableDemux(A, 80, R, 40000)).toBe(conn, "exact tuple wins over both listeners");
    expect(tableDemux(A, 80, R, 40001)).toBe(onA);
    expect(tableRemove(onA)).toBe(OK);
    expect(tableDemux(A, 80, R, 40001)).toBe(wild, "falls back to the wildcard");
    expect(tableLookupListener(0, 80)).toBe(wild);
    expect(tableRemove(conn)).toBe(OK);
    expect(tableRemove(wild)).toBe(OK);
    expect(tableDemux(A, 80, R, 40001)).toBe(0);
    expect(tableCount(ENTRY_LISTENER)).toBe(0);
  });
});

describe("bind conflicts", () => {
  test("overlapping addresses conflict; distinct addresses do not", () => {
    const l = tableInsertListener(A, 8080, 1, 0);
    const c0 = counter(C_BIND_CONFLICT);
    expect(tableBindCheck(A, 8080, 0)).toBe(E_ADDR_IN_USE);
    expect(tableBindCheck(0, 8080, 0)).toBe(E_ADDR_IN_USE, "wildcard overlaps A");
    expect(tableBindCheck(B, 8080, 0)).toBe(OK, "another address is free");
    expect(tableBindCheck(A, 8081, 0)).toBe(OK);
    expect(counter(C_BIND_CONFLICT)).toBe(c0 + 2);
    expect(tableInsertListener(A, 8080, 2, 0)).toBe(0, "second listener on the same (addr, port)");
    expect(lastError()).toBe(E_ADDR_IN_USE);
    expect(tableRemove(l)).toBe(OK);
    expect(tableBindCheck(A, 8080, 0)).toBe(OK, "free again after remove");
    expect(tablePortInUse(8080)).toBe(false);
    const w = tableInsertListener(0, 8080, 3, 0);
    expect(tableBindCheck(B, 8080, 0)).toBe(E_ADDR_IN_USE, "wildcard listener covers every address");
    expect(tableRemove(w)).toBe(OK);
  });

  test("reusePort: listeners that both set it share the port", () => {
    const l1 = tableInsertListener(0, 9000, 1, EF_REUSE_PORT);
    expect(tableBindCheck(0, 9000, EF_REUSE_PORT)).toBe(OK);
    expect(tableBindCheck(0, 9000, 0)).toBe(E_ADDR_IN_USE, "the newcomer must set it too");
    const l2 = tableInsertListener(0, 9000, 2, EF_REUSE_PORT);
    expect(l2).not.toBe(0);
    expect(tableLookupListener(A, 9000)).toBe(l1, "the first listener answers");
    expect(tableRemove(l1)).toBe(OK);
    expect(tableLookupListener(A, 9000)).toBe(l2);
    expect(tableRemove(l2)).toBe(OK);
  });

  test("reuseAddress: bind over a TIME-WAIT entry only", () => {
    const tw = tableInsert(ENTRY_TIMEWAIT, A, 7000, R, 5555, 1, EF_BOUND);
    expect(tableBindCheck(A, 7000, 0)).toBe(E_ADDR_IN_USE);
    expect(tableBindCheck(A, 7000, EF_REUSE_ADDR)).toBe(OK, "TIME-WAIT does not block reuseAddress");
    const c = tableInsert(ENTRY_CONN, A, 7000, R, 5556, 2, EF_BOUND);
    expect(tableBindCheck(A, 7000, EF_REUSE_ADDR)).toBe(E_ADDR_IN_USE, "an active connection does");
    expect(tableRemove(c)).toBe(OK);
    expect(tableRemove(tw)).toBe(OK);
    expect(tableBindCheck(A, 7000, 0)).toBe(OK);
    // Unbound entries (accepted children) never block binds.
    const child = tableInsert(ENTRY_CONN, A, 7000, R, 5557, 3, 0);
    expect(tableBindCheck(A, 7000, 0)).toBe(OK);
    expect(tableRemove(child)).toBe(OK);
  });
});

describe("exhaustion", () => {
  test("a full table refuses with E_TABLE_EXHAUSTED and counts; nothing traps", () => {
    const hs = new StaticArray<u32>(64);
    for (let i = 0; i < 64; i++) {
      hs[i] = tableInsert(ENTRY_CONN, A, 1000, R, <u16>(1000 + i), 1, 0);
      expect(hs[i]).not.toBe(0);
    }
    const c0 = counter(C_TABLE_EXHAUSTED);
    expect(tableInsert(ENTRY_CONN, A, 1000, R, 999, 1, 0)).toBe(0);
    expect(lastError()).toBe(E_TABLE_EXHAUSTED);
    expect(tableInsertListener(A, 1, 1, 0)).toBe(0);
    expect(lastError()).toBe(E_TABLE_EXHAUSTED);
    expect(counter(C_TABLE_EXHAUSTED)).toBe(c0 + 2);
    for (let i = 0; i < 64; i++) expect(tableRemove(hs[i])).toBe(OK);
    expect(tableSize()).toBe(0);
  });
});
