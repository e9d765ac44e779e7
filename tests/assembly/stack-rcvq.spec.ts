// Receive queues (mem/chunks.ts rq*): readable bytes plus out-of-order bytes held at
// their offsets past the readable end, in chunks of the shared pool; the window they
// report never exceeds what held and free chunks can back (issue 5 item 3); an idle
// queue holds no chunk. Checked against a byte-array model with a seeded generator.

import {
  chunksInit, chunksInUse, chunksFree, rqSpace, rqWriteAt, rqCommit, rqRead, rqTrim, rqFree,
  rqLength, rqChunks, RQ_MAX_CHUNKS,
} from "../../assembly/mem/chunks";
import { counter, C_CHUNKS_EXHAUSTED, countersReset } from "../../assembly/mem/stats";

const Q = heap.alloc(16);
const SRC = heap.alloc(8192);
const DST = heap.alloc(8192);
const CS: u32 = 64;
let rs: u64 = 1;
/** xorshift64 in [0, n). */
function rnd(n: u32): u32 {
  rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
  return <u32>(rs % <u64>n);
}

function fillSrc(seed: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) store<u8>(SRC + i, <u8>(seed + i * 13));
}

describe("receive queue basics", () => {
  test("in order: write at 0, commit, read back; the chain goes back when drained", () => {
    chunksInit(32, CS);
    memory.fill(Q, 0, 16);
    expect(rqSpace(Q, 1000)).toBe(1000);
    fillSrc(1, 150);
    expect(rqWriteAt(Q, 0, SRC, 150, 1000)).toBe(150);
    expect(rqLength(Q)).toBe(0, "not readable before commit");
    rqCommit(Q, 150);
    expect(rqLength(Q)).toBe(150);
    expect(rqChunks(Q)).toBe(3);
    expect(rqSpace(Q, 1000)).toBe(850);
    expect(rqRead(Q, DST, 100, false)).toBe(100);
    for (let i: u32 = 0; i < 100; i++) expect(load<u8>(DST + i)).toBe(<u8>(1 + i * 13));
    expect(rqChunks(Q)).toBe(2, "the first chunk went back");
    expect(rqRead(Q, DST, 100, false)).toBe(50);
    expect(load<u8>(DST + 49)).toBe(<u8>(1 + 149 * 13));
    expect(rqChunks(Q)).toBe(0);
    expect(chunksInUse()).toBe(0, "an idle queue holds no chunk");
  });

  test("out of order: bytes past a hole wait, become readable when the hole is filled", () => {
    chunksInit(32, CS);
    memory.fill(Q, 0, 16);
    fillSrc(7, 300);
    // Bytes 200..299 first (offset 200), then 0..199.
    expect(rqWriteAt(Q, 200, SRC + 200, 100, 1000)).toBe(100);
    expect(rqLength(Q)).toBe(0);
    expect(rqChunks(Q)).toBe(5, "the chain reaches byte 299");
    expect(rqRead(Q, DST, 10, true)).toBe(0, "nothing readable");
    expect(rqChunks(Q)).toBe(5, "held data kept while out-of-order data exists");
    expect(rqWriteAt(Q, 0, SRC, 200, 1000)).toBe(200);
    rqCommit(Q, 300);
    expect(rqRead(Q, DST, 300, false)).toBe(300);
    for (let i: u32 = 0; i < 300; i++) expect(load<u8>(DST + i)).toBe(<u8>(7 + i * 13));
    expect(chunksInUse()).toBe(0);
  });

  test("the buffer limit bounds writes and space; the pool running dry gives partial writes (counted)", () => {
    chunksInit(4, CS); // 256 bytes in the whole pool
    countersReset();
    memory.fill(Q, 0, 16);
    expect(rqSpace(Q, 1000)).toBe(256, "only what free chunks back");
    fillSrc(3, 400);
    expect(rqWriteAt(Q, 0, SRC, 400, 1000)).toBe(256);
    expect(counter(C_CHUNKS_EXHAUSTED)).toBe(1);
    rqCommit(Q, 256);
    expect(rqSpace(Q, 1000)).toBe(0);
    expect(rqWriteAt(Q, 0, SRC, 10, 1000)).toBe(0);
    rqFree(Q);
    expect(chunksFree()).toBe(4);
    memory.fill(Q, 0, 16);
    expect(rqWriteAt(Q, 90, SRC, 100, 120)).toBe(30, "limit 120: offsets 90..119 only");
    expect(rqWriteAt(Q, 120, SRC, 10, 120)).toBe(0);
    expect(rqSpace(Q, 120)).toBe(120);
    rqFree(Q);
  });

  test("rqTrim gives back chunks that only held abandoned out-of-order data", () => {
    chunksInit(32, CS);
    memory.fill(Q, 0, 16);
    fillSrc(5, 64);
    rqWriteAt(Q, 0, SRC, 10, 4096);
    rqCommit(Q, 10);
    rqWriteAt(Q, 500, SRC, 10, 4096); // out of order, later given up
    expect(rqChunks(Q)).toBe(9);
    rqTrim(Q);
    expect(rqChunks(Q)).toBe(1);
    expect(chunksInUse()).toBe(1);
    expect(rqRead(Q, DST, 64, false)).toBe(10);
    expect(chunksInUse()).toBe(0);
  });
});

describe("receive queue against a byte model (seeded)", () => {
  test("random in-order, out-of-order and read steps keep bytes, lengths and chunk counts right", () => {
    const seed: u64 = 0x5eedfacecafe0001;
    log<string>("rcvq model seed 0x" + seed.toString(16));
    rs = seed;
    chunksInit(64, CS);
    memory.fill(Q, 0, 16);
    const LIMIT: u32 = 2048;
    const model = new StaticArray<i32>(<i32>LIMIT * 4); // -1 = hole; stream positions
    for (let i = 0; i < model.length; i++) model[i] = -1;
    let readPos: u32 = 0, readable: u32 = 0;
    let errors = 0;
    for (let step = 0; step < 20000; step++) {
      const op: u32 = rnd(3);
      const space = rqSpace(Q, LIMIT);
      // The window never exceeds what held + free chunks back.
      const backed = rqChunks(Q) * CS - ((readPos % CS) + readable) + chunksFree() * CS;
      if (rqChunks(Q) > 0 && space > backed) errors++;
      if (op == 0 && space > 0) {
        const off = rnd(space);
        const n: u32 = 1 + rnd(200);
        for (let i: u32 = 0; i < n; i++) store<u8>(SRC + i, <u8>(readPos + readable + off + i));
        const w = rqWriteAt(Q, off, SRC, n, LIMIT);
        if (w > n || w > space - off) errors++;
        for (let i: u32 = 0; i < w; i++) model[<i32>(readPos + readable + off + i) % model.length] = <i32>((readPos + readable + off + i) & 0xff);
        // Commit whatever is now contiguous after the readable end.
        let k: u32 = 0;
        while (model[<i32>(readPos + readable + k) % model.length] >= 0 && readable + k < LIMIT) k++;
        if (k > 0) { rqCommit(Q, k); readable += k; }
      } else if (op == 1) {
        const n: u32 = 1 + rnd(300);
        const anyAhead = model[<i32>(readPos + readable) % model.length] >= 0 || true;
        const got = rqRead(Q, DST, n, anyAhead);
        const want = n < readable ? n : readable;
        if (got != want) errors++;
        for (let i: u32 = 0; i < got; i++) {
          if (<i32>load<u8>(DST + i) != model[<i32>(readPos + i) % model.length]) errors++;
          model[<i32>(readPos + i) % model.length] = -1;
        }
        readPos += got;
        readable -= got;
      } else if (op == 2 && rnd(50) == 0) {
        // Give up every out-of-order byte (FIN, RST...): trim and forget them in the model.
        rqTrim(Q);
        for (let i: u32 = readable; i < LIMIT * 2; i++) model[<i32>(readPos + i) % model.length] = -1;
      }
      if (rqLength(Q) != readable) errors++;
    }
    expect(errors).toBe(0);
    rqFree(Q);
    expect(chunksInUse()).toBe(0);
    expect(RQ_MAX_CHUNKS).toBe(0xffff);
  });
});
