// The shared chunk pool under pressure: when one connection's unacknowledged data
// holds every chunk, another connection's send() takes nothing. That connection has
// nothing in flight, so no ACK of its own will ever tell it to retry: the module
// must tell it (EV_WRITABLE) when chunks come back, or the writer waits for ever.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createPair, EV, ADDR_B, type Pair } from "../helpers/pair.ts";
import { ERRORS } from "../../host/abi.ts";

async function connect(p: Pair, port: number, onServer: (h: number) => void): Promise<number> {
  const l = p.b.core.listen(port, 0, 16);
  assert.ok(l !== 0, `listen: ${p.b.core.lastError()}`);
  p.b.on(l, (e) => { if (e.type === EV.ACCEPTED) onServer(p.b.core.accept(l)); });
  const c = p.a.core.connect(ADDR_B, port);
  assert.ok(c !== 0, `connect: ${p.a.core.lastError()}`);
  let up = false;
  p.a.on(c, (e) => { if (e.type === EV.CONNECTED) up = true; });
  p.a.kick();
  await p.run(() => up, `connect to ${port}`);
  return c;
}

test("chunk pool exhausted: a connection with nothing in flight is told when chunks come back", async () => {
  // A: 8 chunks of 2 KiB (14 KiB for every connection's send queue together, one chunk
  // is kept for receiving); B
  // advertises at most 4 KiB, so most of what c1 queues waits at A.
  const p = await createPair({ configA: { chunkCount: 8, chunkSize: 2048, sndBuf: 65536 }, configB: { rcvBuf: 4096 } });
  let s1 = 0, s2 = 0;
  const c1 = await connect(p, 81, (h) => (s1 = h));
  const c2 = await connect(p, 82, (h) => (s2 = h));
  await p.run(() => s1 !== 0 && s2 !== 0, "accepted");

  // B reads nothing on s1 yet: c1's data stays queued at A once B's window is full.
  const big = new Uint8Array(64 * 1024).fill(0x5a);
  let taken1 = p.a.core.send(c1, big);
  assert.ok(taken1 > 0 && taken1 <= 16384, `c1 took ${taken1}`);
  p.a.kick();
  await p.advance(50);
  // Fill whatever came free again, so that the pool is dry.
  for (let i = 0; i < 4; i++) { const r = p.a.core.send(c1, big); if (r > 0) taken1 += r; p.a.kick(); await p.advance(10); }
  const r2 = p.a.core.send(c2, new Uint8Array(100).fill(1));
  assert.equal(r2, -ERRORS.E_CHUNKS_EXHAUSTED, "c2 took nothing because the pool is dry, and says so");
  // Dry for sending: the one free chunk is the receive reserve (an eighth of 8, at least 1).
  assert.equal(p.a.core.gauges().chunksFree, 1, "A's pool is dry but for its receive reserve");

  let writable2 = false;
  p.a.on(c2, (e) => { if (e.type === EV.WRITABLE) writable2 = true; });
  // Now B drains s1: c1's data is acknowledged and its chunks go back to A's pool.
  let got1 = 0;
  const buf = new Uint8Array(65536);
  const drain = () => { for (;;) { const r = p.b.core.recvInto(s1, buf); if (r <= 0) break; got1 += r; } };
  p.b.on(s1, (e) => { if (e.type === EV.READABLE) drain(); });
  drain();
  p.b.kick();
  await p.run(() => writable2, "EV_WRITABLE for the connection that had nothing in flight", 5_000);
  assert.equal(p.a.core.send(c2, new Uint8Array(100).fill(1)), 100);
  let got2 = 0;
  const rd2 = () => { for (;;) { const r = p.b.core.recvInto(s2, buf); if (r <= 0) break; got2 += r; } };
  p.b.on(s2, (e) => { if (e.type === EV.READABLE) rd2(); });
  p.a.kick();
  await p.run(() => got2 === 100, "c2's 100 bytes delivered");
  await p.run(() => got1 === taken1, "all of c1's accepted bytes delivered");
  await p.close();
});
