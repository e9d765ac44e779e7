// The node:net-compatible API between two stacks on a memory pair, on virtual time:
// echo, a 1 MB transfer over a faulty wire (seeded), backpressure both ways, errors
// with Node's codes, timeouts, half-close, server close semantics.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { coreSkipReason, duo, pattern, ADDR_A, ADDR_B } from "./stack-kit.ts";
import type { Socket } from "../../host/net/socket.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function skipIfNoCore(t: { skip(msg: string): void }): Promise<boolean> {
  const r = await coreSkipReason();
  if (r) t.skip(r);
  return !!r;
}

test("echo: connect/ready/data/end/close, addresses, byte counts", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  const events: string[] = [];
  let serverSide: Socket | null = null;
  const server = d.b.net.createServer((s) => {
    serverSide = s;
    s.pipe(s);
  });
  let listening = false;
  server.listen(7, () => { listening = true; });
  await d.pump.run({ until: () => listening });
  assert.deepEqual(server.address(), { address: "0.0.0.0", family: "IPv4", port: 7 });
  const c = d.a.net.connect({ host: ADDR_B, port: 7 });
  let got = "";
  let closed = false;
  c.on("connect", () => events.push("connect"));
  c.on("ready", () => { events.push("ready"); c.write("hello "); c.end("world"); });
  c.on("data", (b) => { got += b; });
  c.on("end", () => events.push("end"));
  c.on("close", (hadError: boolean) => { events.push(`close:${hadError}`); closed = true; });
  const r = await d.pump.run({ until: () => closed, maxMs: 5000 });
  assert.equal(r.reason, "until");
  assert.equal(got, "hello world");
  assert.deepEqual(events, ["connect", "ready", "end", "close:false"]);
  assert.equal(c.remoteAddress, ADDR_B);
  assert.equal(c.remotePort, 7);
  assert.equal(c.localAddress, ADDR_A);
  assert.ok(c.localPort! >= 49152, `ephemeral local port ${c.localPort}`);
  assert.equal(c.bytesWritten, 11);
  assert.equal(c.bytesRead, 11);
  assert.ok(serverSide);
  const ss = serverSide as Socket;
  assert.equal(ss.remoteAddress, ADDR_A);
  assert.equal(ss.remotePort, c.localPort);
  assert.equal(ss.localPort, 7);
  await d.close();
});

for (const seed of [11, 12]) {
  test(`1 MB each way over a lossy, reordering, duplicating wire is byte-exact (seed ${seed})`, async (t) => {
    if (await skipIfNoCore(t)) return;
    const d = await duo({ seed, faults: { loss: 0.01, delayUs: 1000, jitterUs: 500, reorder: 0.02, duplicate: 0.01 } });
    const up = pattern(1 << 20, seed);
    const down = pattern(1 << 20, seed + 100);
    const serverGot: Buffer[] = [];
    d.b.net.createServer((s) => {
      s.on("data", (b: Buffer) => serverGot.push(b));
      s.on("end", () => s.end(down));
    }).listen(9000);
    const clientGot: Buffer[] = [];
    let done = false;
    const c = d.a.net.connect(9000, ADDR_B, () => c.end(up));
    c.on("data", (b: Buffer) => clientGot.push(b));
    c.on("close", () => { done = true; });
    const r = await d.pump.run({ until: () => done, maxMs: 300_000 });
    assert.equal(r.reason, "until", `finished within the virtual budget (${r.elapsedMs} ms)`);
    assert.equal(sha(Buffer.concat(serverGot)), sha(up));
    assert.equal(sha(Buffer.concat(clientGot)), sha(down));
    const w = d.pair.a.stats().wireTx;
    assert.ok(w.lost > 0 && w.duplicated > 0, `the faults happened (${JSON.stringify(w)})`);
    assert.ok(d.a.stats().tcp.retransmits > 0 || d.b.stats().tcp.retransmits > 0, "losses were repaired by retransmission");
    await d.close();
  });
}

test("backpressure: a paused reader closes the window; the writer sees write() false, then 'drain'", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  let server: Socket | null = null;
  d.b.net.createServer((s) => { server = s; s.pause(); }).listen(9001);
  const c = d.a.net.connect(9001, ADDR_B);
  let connected = false;
  c.on("connect", () => { connected = true; });
  await d.pump.run({ until: () => connected && server !== null });
  // 512 KB: more than the send buffer, the peer's receive buffer and both streams' buffers hold.
  const chunk = pattern(64 * 1024, 3);
  const writes = 8;
  let full = false;
  for (let i = 0; i < writes; i++) if (!c.write(chunk)) full = true;
  assert.ok(full, "write() returned false");
  await d.pump.run({ maxMs: 2000 });
  const s = server as unknown as Socket;
  const buffered = s.readableLength;
  assert.ok(c.writableLength > 0, "bytes wait in the writer: the peer's window is closed");
  const before = c.bytesWritten;
  let drained = false;
  c.once("drain", () => { drained = true; });
  let received = 0;
  s.on("data", (b: Buffer) => { received += b.length; });
  s.resume();
  const r = await d.pump.run({ until: () => drained, maxMs: 60_000 });
  assert.equal(r.reason, "until", "'drain' came once the reader resumed");
  assert.ok(c.bytesWritten > before);
  await d.pump.run({ until: () => received >= writes * chunk.length, maxMs: 60_000 });
  assert.equal(received, writes * chunk.length, `every byte arrived (buffered while paused: ${buffered})`);
  await d.close();
});

test("ECONNREFUSED when nothing listens", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  const c = d.a.net.connect({ host: ADDR_B, port: 4242 });
  let err: (Error & { code?: string; syscall?: string; address?: string; port?: number; errno?: number }) | null = null;
  c.on("error", (e) => { err = e; });
  await d.pump.run({ until: () => err !== null, maxMs: 5000 });
  assert.ok(err);
  const e = err as unknown as { code: string; syscall: string; address: string; port: number; errno: number; message: string };
  assert.equal(e.code, "ECONNREFUSED");
  assert.equal(e.syscall, "connect");
  assert.equal(e.errno, -111);
  assert.equal(e.message, `connect ECONNREFUSED ${ADDR_B}:4242`);
  assert.equal(c.destroyed, true);
  await d.close();
});

test("EADDRINUSE on a second listen; listen(0) picks a free ephemeral port", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  const s1 = d.b.net.createServer().listen(8080);
  const s2 = d.b.net.createServer();
  let err: (Error & { code?: string }) | null = null;
  s2.on("error", (e) => { err = e; });
  s2.listen(8080);
  const s3 = d.b.net.createServer().listen(0);
  await d.pump.run({ until: () => err !== null });
  assert.equal((err as unknown as { code: string }).code, "EADDRINUSE");
  assert.equal(s1.listening, true);
  assert.equal(s2.listening, false);
  const p = s3.address()!.port;
  assert.ok(p >= 49152 && p <= 65535, `listen(0) → ${p}`);
  assert.throws(() => d.b.net.createServer().listen(70000), { code: "ERR_SOCKET_BAD_PORT" });
  await d.close();
});

test("ECONNRESET when the peer resets; resetAndDestroy sends the RST", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  d.b.net.createServer((s) => { s.on("data", () => s.resetAndDestroy()); }).listen(9002);
  const c = d.a.net.connect(9002, ADDR_B, () => c.write("x"));
  let err: (Error & { code?: string }) | null = null;
  c.on("error", (e) => { err = e; });
  await d.pump.run({ until: () => err !== null, maxMs: 5000 });
  assert.equal((err as unknown as { code: string }).code, "ECONNRESET");
  await d.close();
});

test("writing after end() fails with Node's ERR_STREAM_WRITE_AFTER_END", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  d.b.net.createServer((s) => s.resume()).listen(9003);
  const c = d.a.net.connect(9003, ADDR_B);
  let err: (Error & { code?: string }) | null = null;
  c.on("error", (e) => { err = e; });
  c.on("connect", () => { c.end(); c.write("late"); });
  await d.pump.run({ until: () => err !== null, maxMs: 5000 });
  assert.equal((err as unknown as { code: string }).code, "ERR_STREAM_WRITE_AFTER_END", "Node's stream layer reports it first");
  await d.close();
});

test("setTimeout emits 'timeout' after idle time on the stack's clock, and activity postpones it", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  d.b.net.createServer((s) => s.resume()).listen(9004);
  const c = d.a.net.connect({ host: ADDR_B, port: 9004, timeout: 1000 });
  let at = -1;
  const start = d.clock.nowUs();
  c.on("connect", () => {
    d.a.driver.after(600, () => c.write("keep me alive"));
  });
  c.on("timeout", () => { at = d.clock.nowUs(); c.destroy(); });
  await d.pump.run({ until: () => at >= 0, maxMs: 10_000 });
  const ms = (at - start) / 1000;
  assert.ok(ms >= 1600 && ms < 1700, `timeout fired ${ms} ms after start (write at 600 ms + 1000 ms idle)`);
  await d.close();
});

test("allowHalfOpen: the server keeps writing after the client's FIN", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  d.b.net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on("data", (b: Buffer) => { n += b.length; });
    s.on("end", () => { s.write(`got ${n}`); s.end(); });
  }).listen(9005);
  const c = d.a.net.connect(9005, ADDR_B, () => c.end("12345"));
  let reply = "";
  let closed = false;
  c.on("data", (b) => { reply += b; });
  c.on("close", () => { closed = true; });
  await d.pump.run({ until: () => closed, maxMs: 5000 });
  assert.equal(reply, "got 5");
  await d.close();
});

test("server.close waits for open connections, then emits 'close'; queued connections are refused afterwards", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  let conn: Socket | null = null;
  const server = d.b.net.createServer((s) => { conn = s; s.resume(); }).listen(9006);
  const c = d.a.net.connect(9006, ADDR_B);
  c.on("error", () => undefined);
  await d.pump.run({ until: () => conn !== null });
  let closed = false;
  server.close(() => { closed = true; });
  await d.pump.run({ maxMs: 100 });
  assert.equal(closed, false, "an open connection keeps the server from closing");
  (conn as unknown as Socket).destroy();
  await d.pump.run({ until: () => closed, maxMs: 5000 });
  assert.equal(closed, true);
  const c2 = d.a.net.connect(9006, ADDR_B);
  let err: (Error & { code?: string }) | null = null;
  c2.on("error", (e) => { err = e; });
  await d.pump.run({ until: () => err !== null, maxMs: 5000 });
  assert.equal((err as unknown as { code: string }).code, "ECONNREFUSED");
  await d.close();
});

test("argument errors: bad port, non-IPv4 host, foreign localAddress", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  assert.throws(() => d.a.net.connect({ host: ADDR_B, port: 0 }), { code: "ERR_SOCKET_BAD_PORT" });
  assert.throws(() => d.a.net.connect({ host: ADDR_B, port: -1 }), { code: "ERR_SOCKET_BAD_PORT" });
  const errs: string[] = [];
  d.a.net.connect({ host: "example.invalid", port: 80 }).on("error", (e: Error & { code?: string }) => errs.push(e.code!));
  d.a.net.connect({ host: ADDR_B, port: 80, localAddress: "198.18.0.9" }).on("error", (e: Error & { code?: string }) => errs.push(e.code!));
  await d.pump.run({ until: () => errs.length === 2, maxMs: 100 });
  assert.deepEqual(errs.sort(), ["EADDRNOTAVAIL", "ENOTFOUND"]);
  await d.close();
});

test("new net.Socket() then connect(); setNoDelay/setKeepAlive chain; address()", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  d.b.net.createServer((s) => s.pipe(s)).listen(9007);
  const s = new d.a.net.Socket();
  assert.equal(s.pending, true);
  assert.equal(s.setNoDelay(true).setKeepAlive(true, 1000), s);
  let echoed = "";
  s.connect(9007, ADDR_B, () => s.end("nodelay"));
  s.on("data", (b) => { echoed += b; });
  let closed = false;
  s.on("close", () => { closed = true; });
  await d.pump.run({ until: () => closed, maxMs: 5000 });
  assert.equal(echoed, "nodelay");
  assert.equal((s.address() as { port: number }).port, s.localPort);
  await d.close();
});

test("ETIMEDOUT when nobody answers the SYN (SYN retries with backoff, on virtual time)", async (t) => {
  if (await skipIfNoCore(t)) return;
  const d = await duo();
  // 198.18.0.99 is on the subnet but absent: ARP never resolves, the SYNs go nowhere.
  const c = d.a.net.connect({ host: "198.18.0.99", port: 80 });
  let err: (Error & { code?: string; syscall?: string }) | null = null;
  c.on("error", (e) => { err = e; });
  const r = await d.pump.run({ until: () => err !== null, maxMs: 600_000 });
  assert.equal(r.reason, "until", `an error came within the budget (${r.elapsedMs} virtual ms)`);
  const e = err as unknown as { code: string; syscall: string };
  assert.equal(e.code, "ETIMEDOUT");
  assert.equal(e.syscall, "connect");
  console.log(`ETIMEDOUT after ${r.elapsedMs} virtual ms`);
  await d.close();
});
