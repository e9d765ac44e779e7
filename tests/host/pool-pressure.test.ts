// Two stacks with tiny chunk pools (the shared pool that backs every send and receive
// queue). Found by a breaker; each case failed before its fix:
//   - an ACK storm at one instant: both ends' pools ran dry, each had dropped data it had
//     advertised room for, so each end's pure ACKs lay beyond the other's RCV.NXT and
//     each answered the other's ACK with an ACK, for ever, without virtual time moving
//     (rcv.ts: a pure ACK is no longer "trimmed" and ACKed; input.ts: ACKs for
//     zero-length out-of-window segments are rate-limited as Linux's tcp_oow_rate_limited);
//   - echo through pools of 2 or 3 chunks deadlocked for ever: the send queues took every
//     chunk, each end advertised window 0, the answered probes kept both alive
//     (mem/chunks.ts: send data may not take the pool's receive reserve).
// Crafted frames: the out-of-window ACK limit on one module. Deterministic: virtual time.

import { test } from "node:test";
import assert from "node:assert/strict";
import { coreSkipReason, duo, ADDR_B } from "./stack-kit.ts";

/** `n` echo connections of `size` bytes through pools of `ca` and `cb` chunks; resolves with what happened. */
async function echo(ca: number, cb: number, n: number, size: number, maxRounds: number, maxMs: number) {
  const d = await duo({ a: { chunkCount: ca }, b: { chunkCount: cb } });
  const srv = d.b.net.createServer((s) => { s.on("error", () => undefined); s.pipe(s); });
  srv.listen(9);
  let closed = 0, echoed = 0;
  const errs: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = d.a.net.connect(9, ADDR_B, () => { c.end(Buffer.alloc(size, i & 255)); });
    c.on("data", (b: Buffer) => { echoed += b.length; });
    c.on("error", (e: NodeJS.ErrnoException) => { errs.push(e.code ?? String(e)); });
    c.on("close", () => { closed++; });
  }
  const r = await d.pump.run({ until: () => closed === n, maxRounds, maxMs });
  const segs = Number(d.a.core.stats().tcp_segsOut) + Number(d.b.core.stats().tcp_segsOut);
  srv.close();
  await d.close();
  return { r, closed, echoed, errs, segs };
}

test("pools of 4 chunks, 10 echo connections: no ACK storm — virtual time moves and segments stay bounded", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const { r, segs } = await echo(4, 4, 10, 50_000, 20_000, 120_000);
  // Before the fix: maxRounds after 20 000 rounds at 0 virtual ms, 7.7 million segments each way.
  assert.notEqual(r.reason, "maxRounds", `pump ${JSON.stringify(r)}, ${segs} segments`);
  assert.ok(r.elapsedMs > 0, "virtual time moved");
  assert.ok(segs < 200_000, `${segs} segments in ${r.elapsedMs} virtual ms`);
});

for (const chunks of [2, 3]) {
  test(`echo of 50 kB through pools of ${chunks} chunks on both ends completes (the receive reserve breaks the window-0 deadlock)`, async (t) => {
    const skip = await coreSkipReason();
    if (skip) return t.skip(skip);
    const { r, closed, echoed, errs } = await echo(chunks, chunks, 1, 50_000, 200_000, 3_600_000);
    assert.equal(r.reason, "until", JSON.stringify(r));
    assert.deepEqual(errs, []);
    assert.equal(closed, 1);
    assert.equal(echoed, 50_000);
  });
}

test("pools of 4 chunks, 3 echo connections of 50 kB: every byte comes back", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const { r, echoed, errs } = await echo(4, 4, 3, 50_000, 200_000, 3_600_000);
  assert.equal(r.reason, "until", JSON.stringify(r));
  assert.deepEqual(errs, []);
  assert.equal(echoed, 150_000);
});
