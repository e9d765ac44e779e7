// Issue 5 item 10: two stacks over the in-memory wire with seeded 5% loss,
// reordering, duplication and delay move 10 MB each way at the same time, byte-exact
// (sha256 of what was sent = sha256 of what arrived), for 20 seeds. Every seed is
// printed with the wire's fault options. Afterwards both stacks are back to their
// baseline (endpoints, chunks, table entries) and their heap top has not moved.
//
// SOAK_MB (default 10) and SOAK_SEEDS (default 20) shrink the run for development.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createPair, EV, ST, ADDR_B, type Node } from "../helpers/pair.ts";
import { Prng } from "../../host/link/memory.ts";

const MB = Number(process.env.SOAK_MB ?? 10);
const SEEDS = Number(process.env.SOAK_SEEDS ?? 20);
const BYTES = MB * 1024 * 1024;
const FAULTS = { loss: 0.05, reorder: 0.05, reorderUs: 3000, duplicate: 0.02, delayUs: 1000, jitterUs: 400 };

/** A seeded byte stream: a 256 KiB block of PRNG bytes, each lap xored with its lap number. */
class Source {
  private readonly block = new Uint8Array(256 * 1024);
  private readonly out = new Uint8Array(64 * 1024);
  pos = 0;
  readonly hash = createHash("sha256");
  constructor(seed: number, readonly total: number) {
    const r = new Prng(seed, 7);
    for (let i = 0; i < this.block.length; i += 4) {
      const v = r.nextU32();
      this.block[i] = v; this.block[i + 1] = v >>> 8; this.block[i + 2] = v >>> 16; this.block[i + 3] = v >>> 24;
    }
  }
  /** The next `n` bytes (at most 64 KiB) without consuming them. */
  peek(n: number): Uint8Array {
    n = Math.min(n, this.out.length, this.total - this.pos);
    for (let i = 0; i < n; i++) {
      const p = this.pos + i;
      this.out[i] = this.block[p & (this.block.length - 1)] ^ ((p >>> 18) & 0xff);
    }
    return this.out.subarray(0, n);
  }
  consume(bytes: Uint8Array, n: number): void {
    this.hash.update(bytes.subarray(0, n));
    this.pos += n;
  }
}

/** One direction's application: the sender pushes `src` and then shuts down; the receiver hashes. */
class Endpoint {
  readonly rxHash = createHash("sha256");
  rxBytes = 0;
  eof = false;
  closed = false;
  error = 0;
  private readonly buf = new Uint8Array(64 * 1024);
  constructor(readonly node: Node, readonly h: number, readonly src: Source) {
    node.on(h, (e) => this.onEvent(e.type, e.arg0));
  }
  onEvent(type: number, arg0: number): void {
    if (type === EV.READABLE || type === EV.PEER_CLOSED) this.drain();
    else if (type === EV.WRITABLE || type === EV.CONNECTED) this.pushMore();
    else if (type === EV.ERROR) this.error = arg0;
    else if (type === EV.CLOSED) this.closed = true;
  }
  drain(): void {
    for (;;) {
      const n = this.node.core.recvInto(this.h, this.buf);
      if (n > 0) { this.rxHash.update(this.buf.subarray(0, n)); this.rxBytes += n; continue; }
      if (n === 0) this.eof = true;
      return;
    }
  }
  pushMore(): void {
    while (this.src.pos < this.src.total) {
      const chunk = this.src.peek(65536);
      const n = this.node.core.send(this.h, chunk);
      if (n > 0) this.src.consume(chunk, n);
      if (n < chunk.length) return; // EVENT_WRITABLE brings us back
    }
    if (this.node.core.state(this.h) === ST.ESTABLISHED || this.node.core.state(this.h) === ST.CLOSE_WAIT) {
      assert.equal(this.node.core.shutdown(this.h), 0);
    }
  }
}

test(`${SEEDS} seeds: ${MB} MB each way over a wire with 5% loss, reordering, duplication and delay, byte-exact`, async () => {
  const started = Date.now();
  for (let k = 0; k < SEEDS; k++) {
    const seed = 0x5eed0000 + k * 7919;
    const p = await createPair({ seed, faults: FAULTS, config: { timeWaitMs: 1000, sndBuf: 256 * 1024, rcvBuf: 256 * 1024, chunkCount: 2048 } });
    const heapA = p.a.core.heapTop(), heapB = p.b.core.heapTop();
    const baseA = p.a.core.gauges(), baseB = p.b.core.gauges();
    const t0 = Date.now();
    const l = p.b.core.listen(80, 0, 4);
    let server: Endpoint | null = null;
    p.b.on(l, (e) => {
      if (e.type !== EV.ACCEPTED) return;
      const s = p.b.core.accept(l);
      server = new Endpoint(p.b, s, new Source(seed ^ 0xbbbb, BYTES));
      server.pushMore();
    });
    const c = p.a.core.connect(ADDR_B, 80);
    assert.ok(c !== 0);
    const client = new Endpoint(p.a, c, new Source(seed ^ 0xaaaa, BYTES));
    p.a.kick();
    await p.run(() => server !== null && client.eof && server.eof, `seed ${seed}: both directions complete`, 3_600_000);
    const srv = server as unknown as Endpoint;
    assert.equal(client.error, 0);
    assert.equal(srv.error, 0);
    assert.equal(client.rxBytes, BYTES, `seed ${seed}: A received everything`);
    assert.equal(srv.rxBytes, BYTES, `seed ${seed}: B received everything`);
    assert.equal(client.rxHash.digest("hex"), srv.src.hash.digest("hex"), `seed ${seed}: B→A byte-exact`);
    assert.equal(srv.rxHash.digest("hex"), client.src.hash.digest("hex"), `seed ${seed}: A→B byte-exact`);
    assert.equal(p.a.core.close(c), 0);
    assert.equal(p.b.core.close(srv.h), 0);
    assert.equal(p.b.core.close(l), 0);
    p.a.kick(); p.b.kick();
    await p.advance(5000); // FIN exchange, TIME-WAIT (1 s), retransmissions all over
    const sa = p.a.core.stats(), sb = p.b.core.stats();
    const w = p.wire.a.txWireStats();
    console.log(`seed ${seed}: ${MB} MB each way in ${(p.clock.nowUs() / 1e6).toFixed(1)} virtual s, ${Date.now() - t0} ms; ` +
      `wire a→b sent ${w.sent} lost ${w.lost} dup ${w.duplicated} reordered ${w.reordered}; ` +
      `retransmits A ${sa.tcp_retransmits} (fast ${sa.tcp_fastRetransmits}) B ${sb.tcp_retransmits} (fast ${sb.tcp_fastRetransmits}); ${p.wire.describe()}`);
    for (const [n, base, heap] of [[p.a, baseA, heapA], [p.b, baseB, heapB]] as const) {
      const g = n.core.gauges();
      for (const key of ["endpoints", "chunksInUse", "tableEntries"]) assert.equal(g[key], base[key], `seed ${seed} ${n.name}: ${key} back to baseline`);
      assert.equal(n.core.heapTop(), heap, `seed ${seed} ${n.name}: heap top unchanged`);
    }
    await p.close();
  }
  console.log(`soak: ${SEEDS} seeds × ${MB} MB each way in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
