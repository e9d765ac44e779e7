// A link that dies under a running stack (SPEC §2 tick loop): closed behind the stack's
// back, or a device whose descriptor fails for good (a deleted TAP: EBADFD; a packet
// socket whose interface is gone: ENETDOWN + ENODEV, ENXIO). The driver must stop,
// the stack must say so ('error' ERR_USTACK_LINK_DOWN to a listener, a process warning
// otherwise; sockets destroyed with ENETDOWN; 'close'), and nothing may keep the
// process busy or alive afterwards. Errors that pass (EAGAIN, EINTR, ENOBUFS, a device
// that is down: EIO / ENETDOWN) must not stop it, and a link whose waits keep ending
// at once must not make the loop spin.
//
// No root needed: the TAP link runs on a scripted fake libc here (link-failure.test.ts
// checks which errno fails a link); the real devices are deleted under a stack in
// driver-deadlink-kernel.test.ts (root only).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { coreSkipReason, coreWasm, duo, realStack, ADDR_A, ADDR_B } from "./stack-kit.ts";
import { Stack, pumpStacks } from "../../host/stack.ts";
import { createMemoryPair, type MemoryLink } from "../../host/link/memory.ts";
import { realClock, VirtualClock } from "../../host/link/clock.ts";
import { TapLink } from "../../host/link/tap.ts";
import type { Link, LinkStats } from "../../host/link/link.ts";
import { EAGAIN, EBADFD } from "../../host/runtime/ffi.ts";
import { fakeLibc, type Script } from "../helpers/fake-libc.ts";
import type { Socket } from "../../host/net/socket.ts";
import type { DriverStopError } from "../../host/driver.ts";

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

// --- the stack over a dying link ------------------------------------------------------

test("manual mode: the memory link closed under a stack → 'error' ERR_USTACK_LINK_DOWN once, sockets ENETDOWN, servers close, 'close', no more steps", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo();
  let accepted: Socket | null = null;
  d.b.net.createServer((s) => { accepted = s; s.resume(); }).listen(7);
  const c = d.a.net.connect(7, ADDR_B);
  const srvA = d.a.net.createServer(() => undefined).listen(8);
  await d.pump.run({ until: () => accepted !== null && !c.connecting, maxMs: 5000 });
  assert.ok(accepted && !c.connecting, "connected");

  const log: string[] = [];
  let stackErr: DriverStopError | null = null;
  let sockErr: (Error & { code?: string; errno?: number; syscall?: string; cause?: unknown }) | null = null;
  d.a.on("error", (e: DriverStopError) => { log.push("stack error"); stackErr = e; });
  d.a.on("close", () => log.push("stack close"));
  c.on("error", (e) => { log.push("socket error"); sockErr = e; });
  c.on("close", (hadError: boolean) => log.push(`socket close ${hadError}`));
  srvA.on("close", () => log.push("server close"));

  await d.pair.a.close(); // behind the stack's back
  await d.pump.run({ until: () => log.includes("stack close"), maxMs: 5000 });
  assert.ok(stackErr, "the stack reported the dead link");
  const e = stackErr as DriverStopError;
  assert.equal(e.code, "ERR_USTACK_LINK_DOWN");
  assert.match(e.message, /memory link a was closed under the running stack/);
  assert.equal(d.a.failure, e);
  assert.ok(sockErr, "the open socket got an error");
  const se = sockErr as Error & { code?: string; errno?: number; syscall?: string; cause?: unknown };
  assert.deepEqual([se.code, se.errno, se.syscall, se.cause], ["ENETDOWN", -100, "read", e]);
  assert.deepEqual(log.filter((x) => x === "stack error"), ["stack error"], "reported once");
  assert.ok(log.indexOf("stack error") < log.indexOf("socket error"), log.join(", "));
  assert.ok(log.includes("socket close true") && log.includes("server close"), log.join(", "));
  assert.equal(log[log.length - 1], "stack close");
  assert.equal(d.a.driver.isClosed, true);
  const steps = d.a.driver.stats().steps;
  await d.pump.run({ maxMs: 2000 });
  assert.equal(d.a.driver.stats().steps, steps, "a stopped driver is not stepped any more");
  await d.a.close(); // still fine, and idempotent
  assert.equal(log.filter((x) => x === "stack close").length, 1);
  await d.b.close();
});

test("without an 'error' listener the dead link is a process warning (code ERR_USTACK_LINK_DOWN), not an exception", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo();
  const warnings: Array<Error & { code?: string }> = [];
  const onWarning = (w: Error & { code?: string }) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    let closed = false;
    d.a.on("close", () => { closed = true; });
    await d.pair.a.close();
    await d.pump.run({ until: () => closed && warnings.length > 0, maxMs: 5000 });
    assert.equal(closed, true);
    assert.deepEqual(warnings.map((w) => w.code), ["ERR_USTACK_LINK_DOWN"]);
    assert.equal(d.a.failure?.code, "ERR_USTACK_LINK_DOWN");
  } finally {
    process.off("warning", onWarning);
    await d.close();
  }
});

test("manual mode on a TAP whose device was deleted (fake libc: read EBADFD): 'error' with the device error as cause, the fd closed", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const script: Script = { read: -EAGAIN, write: null, revents: 0, ifname: 0 };
  const calls: Record<string, number> = {};
  const link = TapLink.openSync(fakeLibc(script, calls), { name: "fake3", mtu: 1500 });
  const clock = new VirtualClock(1_000_000);
  const stack = await Stack.create({ link, ipv4: `${ADDR_A}/24`, clock, wasm: coreWasm() });
  const pump = pumpStacks(clock, stack);
  const sock = stack.net.connect(80, ADDR_B); // stays connecting: nobody answers ARP
  let sockErr: (Error & { code?: string; syscall?: string }) | null = null;
  sock.on("error", (e) => { sockErr = e; });
  await pump.run({ maxMs: 100 });
  assert.equal(stack.driver.isClosed, false, "EAGAIN: nothing happens");
  let err: DriverStopError | null = null;
  let closed = false;
  stack.on("error", (e: DriverStopError) => { err = e; });
  stack.on("close", () => { closed = true; });
  script.read = -EBADFD;
  script.write = -EBADFD;
  await pump.run({ until: () => closed, maxMs: 5000 });
  const e = err as DriverStopError | null;
  assert.equal(e?.code, "ERR_USTACK_LINK_DOWN");
  assert.match(e!.message, /tap link fake3 failed \(read: EBADFD, the device was removed\); the stack stopped/);
  assert.equal((e!.cause as { code?: string }).code, "EBADFD");
  const se = sockErr as (Error & { code?: string; syscall?: string }) | null;
  assert.deepEqual([se?.code, se?.syscall], ["ENETDOWN", "connect"], "a connecting socket fails in connect");
  assert.equal(link.closed, true, "the stack closed the link (the fd)");
  assert.equal(calls.close, 2);
  const reads = calls.read;
  await pump.run({ maxMs: 1000 });
  assert.equal(calls.read, reads, "no reads after the failure");
  await stack.close();
});

test("loop mode: the link closed under the stack stops the loop (it used to spin at 100 % CPU)", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const pair = createMemoryPair({ clock: realClock });
  const a = await realStack(pair.a, `${ADDR_A}/24`, {}, realClock);
  let err: DriverStopError | null = null;
  let closed = false;
  a.on("error", (e: DriverStopError) => { err = e; });
  a.on("close", () => { closed = true; });
  await new Promise((r) => setTimeout(r, 50));
  await pair.a.close();
  await until(() => closed);
  assert.equal(closed, true, "'close' within 5 s");
  assert.equal((err as DriverStopError | null)?.code, "ERR_USTACK_LINK_DOWN");
  const steps = a.driver.stats().steps;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(a.driver.stats().steps, steps, "no steps after the stop");
  await a.close();
});

/** A memory link end that misbehaves: its waits end at once, with read errors or without a frame. */
class BadWaitLink implements Link {
  readonly kind = "memory";
  errors = 0;
  constructor(readonly inner: MemoryLink, readonly mode: "readable-errors" | "returns-early") {}
  get name() { return this.inner.name; }
  get mtu() { return this.inner.mtu; }
  get maxFrameLen() { return this.inner.maxFrameLen; }
  get mac() { return this.inner.mac; }
  get closed() { return this.inner.closed; }
  receiveInto(s: Uint8Array) { return this.receiveBatch([s], new Uint32Array(1)); }
  receiveBatch(slots: readonly Uint8Array[], lengths: Uint32Array, first = 0, count = slots.length - first) {
    if (this.mode === "readable-errors") this.errors++; // "readable", but every read fails (an errno not known to be permanent)
    return this.inner.receiveBatch(slots, lengths, first, count);
  }
  send(f: Uint8Array) { return this.inner.send(f); }
  sendBatch(f: readonly Uint8Array[], n?: number) { return this.inner.sendBatch(f, n); }
  waitReadable(): Promise<boolean> { return Promise.resolve(this.mode === "readable-errors"); }
  interrupt() { this.inner.interrupt(); }
  stats(): LinkStats { return { ...this.inner.stats(), rxErrors: this.errors }; }
  close() { return this.inner.close(); }
}

for (const mode of ["readable-errors", "returns-early"] as const) {
  test(`loop mode: a link whose waits end at once (${mode}) makes the loop back off, not spin, and does not stop it`, async (t) => {
    const skip = await coreSkipReason();
    if (skip) return t.skip(skip);
    const pair = createMemoryPair({ clock: realClock });
    const link = new BadWaitLink(pair.a, mode);
    const a = await realStack(link, `${ADDR_A}/24`, {}, realClock);
    let err: Error | null = null;
    a.on("error", (e: Error) => { err = e; });
    const s0 = a.driver.stats().steps;
    await new Promise((r) => setTimeout(r, 300));
    const st = a.driver.stats();
    // Without the back-off this is tens of thousands of steps in 300 ms; with it, about
    // two per doubling of the sleep (1, 2, 4, ... ms). The bound only ever gets easier
    // on a slow machine.
    assert.ok(st.steps - s0 < 300, `${st.steps - s0} steps in 300 ms`);
    assert.ok(st.errorBackoffs > 0, "backed off");
    assert.equal(a.driver.isClosed, false, "an error not known to be permanent never stops the stack");
    assert.equal(err, null);
    await a.close();
  });
}

test("a process whose link was closed under a loop-mode stack exits by itself", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const url = (p: string) => JSON.stringify(fileURLToPath(new URL(p, import.meta.url)));
  const child = `
import { readFileSync } from "node:fs";
import { Stack } from ${url("../../host/stack.js")};
import { createMemoryPair } from ${url("../../host/link/memory.js")};
import { realClock } from ${url("../../host/link/clock.js")};
const wasm = process.env.USTACK_WASM ? new Uint8Array(readFileSync(process.env.USTACK_WASM)) : undefined;
const pair = createMemoryPair({ clock: realClock });
const a = await Stack.create({ link: pair.a, ipv4: "198.18.0.1/24", clock: realClock, wasm });
const b = await Stack.create({ link: pair.b, ipv4: "198.18.0.2/24", clock: realClock, wasm });
b.net.createServer((s) => s.resume()).listen(7);
const c = a.net.connect(7, "198.18.0.2", async () => {
  c.on("error", (e) => console.log("socket:" + e.code));
  a.on("error", (e) => console.log("stack:" + e.code));
  await pair.a.close(); // not a.close(): the link dies under the stack
  await b.close();
});
`;
  const p = spawn(process.execPath, ["--input-type=module", "-e", child], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let out = "";
  let errText = "";
  p.stdout.on("data", (d) => { out += d; });
  p.stderr.on("data", (d) => { errText += d; });
  const killer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => p.on("exit", (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, `the child had to be killed: it did not exit by itself (stdout: ${out}; stderr: ${errText})`);
  assert.equal(code, 0, errText);
  assert.match(out, /stack:ERR_USTACK_LINK_DOWN/);
  assert.match(out, /socket:ENETDOWN/);
});
