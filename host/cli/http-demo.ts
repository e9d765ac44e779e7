// The demo HTTP application `ustack serve --http` runs (and the interop tests use):
//
//   GET  /            a one-line greeting
//   GET  /bytes/N     N bytes (N ≤ 1 GiB) of a fixed pseudo-random pattern, streamed with
//                     backpressure in 64 KB pieces; the same bytes as patternBytes(N)
//   POST /sink        reads the body, answers "<bytes> <sha256 hex>"
//   anything else     404
//
// Plain node:http request handler: it never knows it runs on ustack.

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";

const PIECE = 64 * 1024;
const MAX_BYTES = 1 << 30;

/** Piece `i` (64 KB) of the pattern: an LCG stream seeded by the piece index. */
function piece(i: number): Buffer {
  const b = Buffer.allocUnsafe(PIECE);
  let x = (i * 2654435761 + 1) >>> 0;
  for (let k = 0; k < PIECE; k += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b.writeUInt32LE(x, k);
  }
  return b;
}

/** The first `n` bytes of the pattern GET /bytes/N serves. */
export function patternBytes(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i * PIECE < n; i++) parts.push(piece(i));
  return Buffer.concat(parts).subarray(0, n);
}

/** sha256 (hex) of the first `n` bytes of the pattern, without holding them all. */
export function patternSha256(n: number): string {
  const h = createHash("sha256");
  for (let i = 0; i * PIECE < n; i++) {
    const p = piece(i);
    h.update(p.subarray(0, Math.min(PIECE, n - i * PIECE)));
  }
  return h.digest("hex");
}

export function demoHttpHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const m = /^\/bytes\/(\d+)$/.exec(url);
  if (req.method === "GET" && url === "/") {
    res.setHeader("content-type", "text/plain");
    res.end("ustack-wasm: hello from a userspace TCP/IP stack\n");
  } else if (req.method === "GET" && m && Number(m[1]) <= MAX_BYTES) {
    const n = Number(m[1]);
    res.setHeader("content-type", "application/octet-stream");
    res.setHeader("content-length", n);
    let i = 0;
    const more = (): void => {
      // Bounded by n / 64 KB pieces; pauses whenever the socket is full.
      while (i * PIECE < n) {
        const p = piece(i);
        const chunk = p.subarray(0, Math.min(PIECE, n - i * PIECE));
        i++;
        if (!res.write(chunk)) {
          res.once("drain", more);
          return;
        }
      }
      res.end();
    };
    more();
  } else if (req.method === "POST" && url === "/sink") {
    const h = createHash("sha256");
    let count = 0;
    req.on("data", (b: Buffer) => { h.update(b); count += b.length; });
    req.on("end", () => {
      res.setHeader("content-type", "text/plain");
      res.end(`${count} ${h.digest("hex")}\n`);
    });
  } else {
    res.statusCode = 404;
    res.end("not found\n");
  }
}
