// Issue 6 through the node:net-compatible API: EADDRINUSE on a bind conflict, the
// Stack.create defaults (reuseAddress, twReuse, ephemeral range) and the per-call
// options (listen reusePort / reuseAddress, connect twReuse) reach the module.

import { test } from "node:test";
import assert from "node:assert/strict";
import { duo, ADDR_B } from "./stack-kit.ts";
import type { Socket } from "../../host/net/socket.ts";

/** One request/reply from A to B:port; A ends first (A keeps TIME-WAIT). */
async function exchange(d: Awaited<ReturnType<typeof duo>>, port: number, extra: Record<string, unknown> = {}): Promise<Socket> {
  let closed = false, err: Error | null = null;
  const c = d.a.net.connect({ host: ADDR_B, port, ...extra } as { host: string; port: number }, () => c.end("ping"));
  c.on("error", (e: Error) => { err = e; });
  c.on("close", () => { closed = true; });
  c.resume();
  await d.pump.run({ until: () => closed, maxMs: 10_000 });
  if (err) throw err;
  return c;
}

test("net: a second listen on the port fails with EADDRINUSE; reusePort lets listeners share it", async () => {
  const d = await duo();
  const s1 = d.b.net.createServer(() => {}).listen(80);
  let e: (Error & { code?: string }) | null = null;
  const s2 = d.b.net.createServer(() => {});
  s2.on("error", (x: Error) => { e = x; });
  s2.listen(80);
  await d.pump.run({ until: () => e !== null, maxMs: 100 });
  assert.equal(e!.code, "EADDRINUSE");
  const r1 = d.b.net.createServer(() => {});
  const r2 = d.b.net.createServer(() => {});
  let ok = 0;
  r1.listen({ port: 81, reusePort: true }, () => ok++);
  r2.listen({ port: 81, reusePort: true }, () => ok++);
  await d.pump.run({ until: () => ok === 2, maxMs: 100 });
  for (const s of [s1, r1, r2]) s.close();
  await d.close();
});

test("net: reuseAddress (Stack default or listen option) binds over a TIME-WAIT port; ephemeral range and twReuse from Stack.create", async () => {
  const d = await duo({ a: { timeWaitMs: 30_000, ephemeralLow: 40000, ephemeralHigh: 40000, twReuse: false } });
  d.b.net.createServer((s) => { s.resume(); s.on("end", () => s.end()); }).listen(80);
  const c = await exchange(d, 80);
  assert.equal(c.localPort, 40000, "the one-port ephemeral range");
  assert.equal(d.a.core.gauges().timeWait, 1);
  // A's port 40000 is held by TIME-WAIT.
  let e: (Error & { code?: string }) | null = null;
  const plain = d.a.net.createServer(() => {});
  plain.on("error", (x: Error) => { e = x; });
  plain.listen(40000);
  await d.pump.run({ until: () => e !== null, maxMs: 100 });
  assert.equal(e!.code, "EADDRINUSE");
  let listening = false;
  const reuse = d.a.net.createServer(() => {});
  reuse.listen({ port: 40000, reuseAddress: true } as { port: number }, () => { listening = true; });
  await d.pump.run({ until: () => listening, maxMs: 100 });
  reuse.close();
  // twReuse off (Stack default): no port left for B:80; on (per connect) after 1 s: works.
  await assert.rejects(exchange(d, 80), /ENOPORT|EADDRNOTAVAIL|EADDRINUSE/);
  const end = d.clock.nowUs() + 1_100_000; // 1.1 s of virtual time since the last segment
  await d.pump.run({ until: () => d.clock.nowUs() >= end, maxMs: 1200 });
  d.clock.setUs(end);
  for (const s of [d.a, d.b]) s.driver.step(end); // the modules see the new time
  assert.equal(d.a.core.gauges().timeWait, 1, "still in TIME-WAIT (30 s)");
  const c2 = await exchange(d, 80, { twReuse: true });
  assert.equal(c2.localPort, 40000);
  assert.equal(d.a.core.gauges().twReused, 1);
  await d.close();
});
