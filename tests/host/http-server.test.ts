// node:http runs unmodified over the stack: the server through
// server.emit('connection', socket), the client through the createConnection option.
// Two stacks on a memory pair, virtual time.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { coreSkipReason, duo, pattern, ADDR_B } from "./stack-kit.ts";
import type { Duo } from "./stack-kit.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** An http.Server fed by the stack's listener on `port`. */
function httpOn(d: Duo, port: number, handler: http.RequestListener): http.Server {
  const hs = http.createServer(handler);
  d.b.net.createServer((s) => hs.emit("connection", s)).listen(port);
  return hs;
}

/** Raw HTTP/1.1 exchange: writes `request`, collects the whole response until close. */
async function raw(d: Duo, port: number, request: string | Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  let done = false;
  const c = d.a.net.connect(port, ADDR_B, () => c.write(request));
  c.on("data", (b: Buffer) => parts.push(b));
  c.on("close", () => { done = true; });
  const r = await d.pump.run({ until: () => done, maxMs: 30_000 });
  assert.equal(r.reason, "until");
  return Buffer.concat(parts);
}

test("node:http server: GET, keep-alive pipelining, and a 200 KB POST echoed with its sha256", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo();
  httpOn(d, 80, (req, res) => {
    if (req.method === "POST") {
      const h = createHash("sha256");
      let n = 0;
      req.on("data", (b: Buffer) => { h.update(b); n += b.length; });
      req.on("end", () => res.end(`${n} ${h.digest("hex")}`));
    } else {
      res.setHeader("content-type", "text/plain");
      res.end(`hello ${req.url}`);
    }
  });
  const one = (await raw(d, 80, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toString();
  assert.match(one, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(one, /\r\n\r\nhello \/a$/);
  const two = (await raw(d, 80, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toString();
  assert.equal(two.match(/HTTP\/1\.1 200 OK/g)?.length, 2, "two responses on one connection");
  assert.ok(two.indexOf("hello /1") < two.indexOf("hello /2"));
  const body = pattern(200_000, 5);
  const post = await raw(d, 80, Buffer.concat([Buffer.from(`POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
  assert.ok(post.toString().endsWith(`${body.length} ${sha(body)}`), post.toString().slice(-120));
  await d.close();
});

test("node:http client (createConnection) fetches 1 MB from the node:http server, byte-exact", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo({ seed: 21, faults: { loss: 0.005, delayUs: 500 } });
  const payload = pattern(1 << 20, 21);
  httpOn(d, 8080, (_req, res) => {
    res.setHeader("content-length", payload.length);
    res.end(Buffer.from(payload));
  });
  let status = 0;
  let got: Buffer | null = null;
  const req = http.request({
    // No `agent`: with agent undefined node:http uses createConnection (agent: false would build
    // a default Agent that dials through the kernel instead).
    host: ADDR_B, port: 8080, path: "/big",
    createConnection: () => d.a.net.connect(8080, ADDR_B) as never,
  }, (res) => {
    status = res.statusCode ?? 0;
    const parts: Buffer[] = [];
    res.on("data", (b: Buffer) => parts.push(b));
    res.on("end", () => { got = Buffer.concat(parts); });
  });
  req.end();
  const r = await d.pump.run({ until: () => got !== null, maxMs: 120_000 });
  assert.equal(r.reason, "until");
  assert.equal(status, 200);
  assert.equal(sha(got!), sha(payload));
  await d.close();
});
