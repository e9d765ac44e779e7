// Issue 5 item 10: 10 000 short connections (connect, 64-byte request, 64-byte reply,
// close with FIN, TIME-WAIT on the client) through two real modules, 50 at a time.
// Afterwards pool occupancy, chunk use, table entries and active timers are back to
// their baseline on both stacks, and neither heap top has moved (zero allocation).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createPair, EV, ADDR_B, type Node } from "../helpers/pair.ts";

const TOTAL = Number(process.env.CHURN_CONNECTIONS ?? 10_000);
const CONCURRENCY = 50;
// TIME-WAIT records are full endpoints until issue 6 (compact records): with 50
// connections in flight, ~0.6 ms each on this wire, 10 ms of TIME-WAIT keeps ~850 of
// them on the client; maxConnections leaves room for that.
const TW_MS = 10;

test(`${TOTAL} short connections (64-byte request/reply, FIN close): everything back to baseline, heap top unchanged`, async () => {
  const p = await createPair({ seed: 42, faults: { delayUs: 100 }, config: { timeWaitMs: TW_MS, maxConnections: 4096, syncacheEntries: 256 } });
  const { a, b } = p;
  const l = b.core.listen(80, 0, 128);
  assert.ok(l !== 0);
  // The baseline: after one warm-up connection (ARP resolved both ways) and its TIME-WAIT.
  const req = new Uint8Array(64).fill(0x51);
  const rep = new Uint8Array(64).fill(0x52);
  const buf = new Uint8Array(256);
  let started = 0, done = 0, failed = 0;
  let chain = false; // open the next connection when one finishes (off during the warm-up)
  b.on(l, (e) => {
    if (e.type !== EV.ACCEPTED) return;
    for (let s = b.core.accept(l); s !== 0; s = b.core.accept(l)) serve(b, s);
  });
  function serve(n: Node, s: number): void {
    n.on(s, (e) => {
      if (e.type === EV.READABLE) {
        const r = n.core.recvInto(s, buf);
        if (r === 64) assert.equal(n.core.send(s, rep), 64);
      } else if (e.type === EV.PEER_CLOSED) {
        assert.equal(n.core.recvInto(s, buf), 0);
        n.core.close(s);
        n.off(s);
      } else if (e.type === EV.ERROR || e.type === EV.CLOSED) {
        n.core.close(s);
        n.off(s);
      }
    });
  }
  function open(): void {
    started++;
    const c = a.core.connect(ADDR_B, 80);
    assert.ok(c !== 0, `connect ${started}: ${a.core.lastError()}`);
    a.on(c, (e) => {
      if (e.type === EV.CONNECTED) {
        assert.equal(a.core.send(c, req), 64);
      } else if (e.type === EV.READABLE) {
        if (a.core.recvInto(c, buf) === 64) {
          assert.equal(a.core.close(c), 0); // FIN; the record lives on in FIN-WAIT/TIME-WAIT
          a.off(c);
          done++;
          if (chain && started < TOTAL) open();
        }
      } else if (e.type === EV.ERROR || e.type === EV.CLOSED) {
        failed++;
        a.core.close(c);
        a.off(c);
        if (chain && started < TOTAL) open();
      }
    });
  }
  // Warm-up and baseline.
  open();
  a.kick();
  await p.run(() => done === 1, "warm-up connection");
  await p.advance(TW_MS * 4);
  const baseA = a.core.gauges(), baseB = b.core.gauges();
  const heapA = a.core.heapTop(), heapB = b.core.heapTop();
  const memA = a.memory(), memB = b.memory();
  assert.equal(baseA.endpoints, 0, "warm-up client record gone after TIME-WAIT");
  assert.equal(baseB.endpoints, 1, "only the listener");

  const t0 = Date.now();
  chain = true;
  for (let i = 0; i < CONCURRENCY - 1 && started < TOTAL; i++) open();
  if (started < TOTAL) open();
  a.kick();
  await p.run(() => done + failed === TOTAL, `${TOTAL} connections`, 3_600_000);
  const wall = Date.now() - t0;
  await p.advance(TW_MS * 4 + 1000);
  const ga = a.core.gauges(), gb = b.core.gauges();
  const sa = a.core.stats(), sb = b.core.stats();
  console.log(`churn: ${TOTAL} connections in ${wall} ms wall, ${(p.clock.nowUs() / 1e6).toFixed(2)} virtual s; ` +
    `A segs out ${sa.tcp_segsOut} retransmits ${sa.tcp_retransmits}; B segs out ${sb.tcp_segsOut}; ` +
    `chunk high water A ${ga.chunksHighWater} B ${gb.chunksHighWater}; B syncache overflow ${sb.tcp_syncacheOverflow} accept overflow ${sb.tcp_acceptOverflow}`);
  assert.equal(failed, 0, "no connection failed");
  assert.equal(done, TOTAL);
  for (const [n, base, g, heap, mem] of [[a, baseA, ga, heapA, memA], [b, baseB, gb, heapB, memB]] as const) {
    for (const key of ["endpoints", "connections", "listeners", "syncache", "chunksInUse", "tableEntries", "pendingOutput", "arpEntries"]) {
      assert.equal(g[key], base[key], `${n.name}: ${key} back to baseline`);
    }
    // Every active timer left belongs to an ARP entry (one node each); no TCP timer survives.
    assert.equal(g.timersActive, g.arpEntries, `${n.name}: active timers = ARP entries`);
    assert.equal(n.core.heapTop(), heap, `${n.name}: heap top unchanged`);
    assert.equal(n.memory(), mem, `${n.name}: memory size unchanged`);
  }
  await p.close();
});
