// The TCP command surface of the core module, typed, plus IPv4 text helpers.
//
// The net API (socket.ts, server.ts) never touches raw exports: it calls TcpCore,
// which checks arguments, turns the module's signed i32 returns into unsigned
// handles, and copies data through the module's I/O buffer:
//
//   app bytes (Uint8Array) ──copy──► io buffer (ioBufAddr(), ioBufSize() bytes,
//                                    carved at init) ──send──► send chunks
//   recv chunks ──recv──► io buffer ──copy (Buffer)──► stream.push
//
// One copy each way at this seam, one inside the module (to/from the chunk pool).
// Nothing here allocates module memory; the io buffer is reused by every call.
//
// The module's command ABI (assembly/index.ts, docs/abi.md "Commands") this file uses:
//   listen(addr: u32, port: u32, backlog: u32): u32      handle, or 0 with lastError()
//   connect(localAddr, localPort, remoteAddr, remotePort): u32   handle, or 0 + lastError()
//   accept(listener: u32): u32                            next established child, 0 = none
//   send(h: u32, len: u32): i32                           takes ioBuf[0..len): bytes taken or −code
//   recv(h: u32, len: u32): i32                           fills ioBuf[0..n): n, 0 = end of stream, −code
//   shutdown(h), close(h), abort(h): i32; setOption(h, opt, value): i32
//   localAddr(h), localPort(h), remoteAddr(h), remotePort(h), state(h): u32
//   lastError(): i32; ioBufAddr(): usize; ioBufSize(): u32; linkUp(): i32
// Handles use all 32 bits (JS sees i32: every handle goes through >>> 0).

import type { CoreExports } from "../loader.ts";

/** Event types of the event ring (assembly/tcp/codes.ts EV_*). */
export const EV_ACCEPTED = 1;
export const EV_CONNECTED = 2;
export const EV_READABLE = 3;
export const EV_WRITABLE = 4;
export const EV_PEER_CLOSED = 5;
export const EV_CLOSED = 6;
export const EV_ERROR = 7;

/** Socket options (assembly/tcp/api.ts OPT_*). */
export const OPT_NODELAY = 1;
export const OPT_KEEPALIVE = 2;
export const OPT_SNDBUF = 3;
export const OPT_RCVBUF = 4;

/** tcp/codes.ts E_AGAIN: nothing readable yet. */
export const E_AGAIN = 208;
/**
 * errors.ts E_CHUNKS_EXHAUSTED from send(): the stack-wide chunk pool took nothing;
 * EV_WRITABLE follows when chunks are free again (like a full send buffer).
 */
export const E_CHUNKS_EXHAUSTED = 24;
/** tcp/codes.ts E_NO_PENDING: accept on an empty queue. */
export const E_NO_PENDING = 209;

/** Every export TcpCore needs, for a clear message when a module lacks one. */
export const TCP_EXPORTS = [
  "listen", "connect", "accept", "send", "recv", "shutdown", "close", "abort", "setOption",
  "localAddr", "localPort", "remoteAddr", "remotePort", "state", "lastError", "ioBufAddr", "ioBufSize",
] as const;

/** Names from `names` the module does not export as functions. */
export function missingExports(exports: CoreExports, names: readonly string[]): string[] {
  return names.filter((n) => typeof exports[n] !== "function");
}

export class TcpCore {
  readonly ioAddr: number;
  readonly ioSize: number;
  private io: Uint8Array;

  constructor(private readonly x: CoreExports) {
    const missing = missingExports(x, TCP_EXPORTS);
    if (missing.length) throw new Error(`ustack: the core module lacks the exports ${missing.join(", ")}`);
    this.ioAddr = x.ioBufAddr() >>> 0;
    this.ioSize = x.ioBufSize() >>> 0;
    if (this.ioSize < 1024) throw new Error(`ustack: core io buffer of ${this.ioSize} bytes is too small`);
    this.io = new Uint8Array(x.memory.buffer, this.ioAddr, this.ioSize);
  }

  /** The io buffer view (rebuilt if linear memory was ever replaced by a grow). */
  private ioView(): Uint8Array {
    if (this.io.byteLength === 0) this.io = new Uint8Array(this.x.memory.buffer, this.ioAddr, this.ioSize);
    return this.io;
  }

  /** Handle of a new listener, or −code. */
  listen(addr: number, port: number, backlog: number): number {
    const h = this.x.listen(addr >>> 0, port >>> 0, backlog >>> 0) >>> 0;
    return h !== 0 ? h : -(this.x.lastError() | 0);
  }
  /** Handle of a new connection (SYN sent), or −code. */
  connect(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): number {
    const h = this.x.connect(localAddr >>> 0, localPort >>> 0, remoteAddr >>> 0, remotePort >>> 0) >>> 0;
    return h !== 0 ? h : -(this.x.lastError() | 0);
  }
  /** The next established child of a listener, 0 when none waits (or −code for others). */
  accept(h: number): number {
    const c = this.x.accept(h) >>> 0;
    if (c !== 0) return c;
    const e = this.x.lastError() | 0;
    return e === E_NO_PENDING ? 0 : -e;
  }

  /**
   * Offers bytes [off, end) of `data` to the send buffer (at most one io buffer's
   * worth). Returns the bytes taken (possibly 0) or -code.
   */
  send(h: number, data: Uint8Array, off: number, end: number): number {
    const n = Math.min(end - off, this.ioSize);
    if (n <= 0) return 0;
    this.ioView().set(data.subarray(off, off + n));
    return this.x.send(h, n) | 0;
  }

  /**
   * Reads up to `max` bytes. Returns a fresh copy from `alloc`, 0 at end of stream,
   * or -code (-E_AGAIN when nothing is readable yet).
   */
  recv(h: number, max: number, alloc: (n: number) => Uint8Array): Uint8Array | number {
    const n = this.x.recv(h, Math.min(max, this.ioSize)) | 0;
    if (n <= 0) return n;
    const out = alloc(n);
    out.set(this.ioView().subarray(0, n));
    return out;
  }

  shutdown(h: number): number { return this.x.shutdown(h) | 0; }
  close(h: number): number { return this.x.close(h) | 0; }
  abort(h: number): number { return this.x.abort(h) | 0; }
  setOption(h: number, opt: number, value: number): number { return this.x.setOption(h, opt, value >>> 0) | 0; }
  state(h: number): number { return this.x.state(h) >>> 0; }
  localAddr(h: number): number { return this.x.localAddr(h) >>> 0; }
  localPort(h: number): number { return this.x.localPort(h) & 0xffff; }
  remoteAddr(h: number): number { return this.x.remoteAddr(h) >>> 0; }
  remotePort(h: number): number { return this.x.remotePort(h) & 0xffff; }
}

// --- IPv4 text ------------------------------------------------------------------------

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted-quad IPv4 literal. */
export function isIPv4(text: unknown): text is string {
  if (typeof text !== "string") return false;
  const m = IPV4_RE.exec(text);
  return !!m && m.slice(1).every((p) => Number(p) <= 255 && (p.length === 1 || p[0] !== "0"));
}

/** "a.b.c.d" → u32; throws a TypeError for anything else. */
export function ipv4ToU32(text: string, what = "address"): number {
  if (!isIPv4(text)) throw new TypeError(`${what} must be an IPv4 address a.b.c.d (got ${JSON.stringify(text)})`);
  const b = text.split(".").map(Number);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function u32ToIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** "a.b.c.d/len" → { addr, prefixLen }; throws a TypeError with the expected form. */
export function parseIpv4Cidr(text: unknown, what = "ipv4"): { addr: number; prefixLen: number } {
  if (typeof text !== "string") throw new TypeError(`${what} must be a string "a.b.c.d/len" (got ${typeof text})`);
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1]) || Number(m[2]) < 1 || Number(m[2]) > 32) {
    throw new TypeError(`${what} must be "a.b.c.d/len" with len 1..32 (got ${JSON.stringify(text)})`);
  }
  return { addr: ipv4ToU32(m[1]), prefixLen: Number(m[2]) };
}

/** The netmask of a prefix length as a u32. */
export function maskOf(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}
