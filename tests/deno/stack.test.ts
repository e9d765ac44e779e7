// The stack API under Deno (issue 7 item 5): the same host sources as under Node.
// Echo and a 1 MB transfer between two stacks on the in-memory link (virtual time,
// seed printed), a node:http server over it, and, as root, a stack on a TAP device in
// a test namespace answering the kernel's ping and curl.
//
// USTACK_WASM=path runs another core build (as the Node tests do).

import http from "node:http";
import { Buffer } from "node:buffer";
import { Stack, pumpStacks } from "../../host/stack.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { VirtualClock, realClock } from "../../host/link/clock.ts";
import { TCP_EXPORTS, missingExports } from "../../host/net/core.ts";
import { instantiate } from "../../host/loader.ts";
import { createTapNamespace } from "../../host/netns.ts";
import { demoHttpHandler, patternSha256 } from "../../host/cli/http-demo.ts";

function assertEq<T>(a: T, b: T, msg: string): void {
  if (a !== b) throw new Error(`${msg}: ${String(a)} !== ${String(b)}`);
}

const wasmPath = Deno.env.get("USTACK_WASM");
const wasm = wasmPath ? await Deno.readFile(wasmPath) : undefined;

async function coreMissing(): Promise<string> {
  const exports = wasm
    ? (new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { abort: () => { throw new Error("abort"); }, seed: () => 0 } }).exports as never)
    : (await instantiate("release")).exports;
  const m = missingExports(exports, [...TCP_EXPORTS, "linkUp", "statsSnapshot"]);
  return m.length ? `core module lacks ${m.join(", ")} (integration pending)` : "";
}
const missing = await coreMissing();
if (missing) console.log(`deno stack tests: ${missing}; set USTACK_WASM to a module that has them`);

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function duo(seed: number, faults?: Record<string, number>) {
  const clock = new VirtualClock(1_000_000);
  const pair = createMemoryPair({ clock, seed, faults });
  console.log(pair.describe());
  const a = await Stack.create({ link: pair.a, ipv4: "198.18.0.1/24", clock, wasm });
  const b = await Stack.create({ link: pair.b, ipv4: "198.18.0.2/24", clock, wasm });
  return { a, b, clock, pair, pump: pumpStacks(clock, a, b) };
}

Deno.test({ name: "deno: echo between two stacks on the memory link", ignore: !!missing, sanitizeOps: false, sanitizeResources: false }, async () => {
  const d = await duo(1);
  d.b.net.createServer((s) => s.pipe(s)).listen(7);
  let got = "";
  let closed = false;
  const c = d.a.net.connect(7, "198.18.0.2", () => c.end("hello from deno"));
  c.on("data", (x: Buffer) => { got += x; });
  c.on("close", () => { closed = true; });
  const r = await d.pump.run({ until: () => closed, maxMs: 5000 });
  assertEq(r.reason, "until", "finished");
  assertEq(got, "hello from deno", "echoed");
  await d.a.close();
  await d.b.close();
});

Deno.test({ name: "deno: 1 MB over a lossy memory link is byte-exact, and node:http serves it", ignore: !!missing, sanitizeOps: false, sanitizeResources: false }, async () => {
  const d = await duo(7, { loss: 0.01, delayUs: 1000, reorder: 0.02, duplicate: 0.01 });
  const payload = new Uint8Array(1 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
  const hs = http.createServer((_req, res) => { res.setHeader("content-length", payload.length); res.end(Buffer.from(payload)); });
  d.b.net.createServer((s) => hs.emit("connection", s)).listen(80);
  const parts: Buffer[] = [];
  let done = false;
  const c = d.a.net.connect(80, "198.18.0.2", () => c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  c.on("data", (x: Buffer) => parts.push(x));
  c.on("close", () => { done = true; });
  const r = await d.pump.run({ until: () => done, maxMs: 300_000 });
  assertEq(r.reason, "until", "finished within the virtual budget");
  const all = Buffer.concat(parts);
  const body = all.subarray(all.indexOf("\r\n\r\n") + 4);
  assertEq(body.length, payload.length, "body length");
  assertEq(await sha256(body), await sha256(payload), "body sha256");
  await d.a.close();
  await d.b.close();
});

const root = Deno.uid?.() === 0;
// (why the TAP test is ignored is printed below)
let tapSkip = "";
if (!root) tapSkip = "needs root";
else {
  // /dev/net/tun is opened through FFI (libc open), which Deno's permission flags do not
  // cover; Deno.stat on /dev would need --allow-all, so only iproute2 is checked here.
  const ipOk = new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync().success;
  if (!ipOk) tapSkip = "needs iproute2";
}
if (tapSkip || missing) console.log(`deno TAP test ignored: ${missing || tapSkip}`);

Deno.test({ name: "deno: a stack on TAP answers the kernel's ping and serves curl (as root)", ignore: !!missing || !!tapSkip, sanitizeOps: false, sanitizeResources: false }, async () => {
  const ns = `ud${Deno.pid % 100000}`;
  const t = await createTapNamespace({ ns, tap: `${ns}t`, kernelCidr: "198.18.33.1/24" });
  let stack: Stack | null = null;
  try {
    stack = await Stack.create({ link: t.link, ipv4: "198.18.33.2/24", clock: realClock, wasm });
    const hs = http.createServer(demoHttpHandler);
    stack.net.createServer((s) => hs.emit("connection", s)).listen(80);
    const ping = await new Deno.Command("ip", { args: ["netns", "exec", ns, "ping", "-c", "5", "-i", "0.1", "-W", "2", "198.18.33.2"], stdout: "piped" }).output();
    const text = new TextDecoder().decode(ping.stdout);
    if (!/5 received, 0% packet loss/.test(text)) throw new Error(`ping: ${text}`);
    const curl = await new Deno.Command("ip", { args: ["netns", "exec", ns, "curl", "-sS", "-m", "20", "http://198.18.33.2/bytes/100000"], stdout: "piped" }).output();
    assertEq(curl.success, true, "curl exit status");
    assertEq(await sha256(curl.stdout), patternSha256(100000), "curl body sha256");
  } finally {
    if (stack) await stack.close();
    await t.teardown();
  }
});
