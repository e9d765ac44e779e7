// Socket: a node:net-compatible stream.Duplex over one TCP endpoint of the core.
//
// Data paths and backpressure:
//
//   write(chunk) → _write → send (copies into the send buffer, up to its limit)
//        taken < offered (or −E_CHUNKS_EXHAUSTED: the stack-wide chunk pool is dry)
//        → keep the rest, wait for EV_WRITABLE, then continue;
//        the write callback runs only when every byte was taken, so Writable's
//        highWaterMark + our pending chunk bound what the app can queue ('drain').
//   EV_READABLE → pull: recv → push(Buffer) while push() returns true;
//        push() false (consumer paused or slow) → stop reading: the bytes stay in
//        the module's receive buffer, its window shrinks and the peer slows down
//        (RFC 9293 §3.8.6). _read() resumes pulling.
//   recv 0 → end of stream: push(null) → 'end'.
//
// Life cycle:
//   connect(): connect command (SYN) → EV_CONNECTED → 'connect', 'ready'
//   EV_ERROR(code) → destroy(error with Node's code) → 'error', 'close'
//   end() → _final → shutdown (FIN after queued data)
//   destroy() → _destroy → close (FIN, or RST when unread data remains, as Linux);
//     the endpoint lives on in the module until the protocol is done.
//   resetAndDestroy() → abort (RST) + destroy.

import { Duplex } from "node:stream";
import process from "node:process";
import { Buffer } from "node:buffer";
import { inspect } from "node:util";
import {
  EV_CONNECTED, EV_READABLE, EV_WRITABLE, EV_PEER_CLOSED, EV_CLOSED, EV_ERROR, E_AGAIN, E_CHUNKS_EXHAUSTED,
  OPT_NODELAY, OPT_KEEPALIVE, isIPv4, ipv4ToU32, u32ToIpv4,
} from "./core.ts";
import type { NetContext, CoreEventTarget } from "./context.ts";
import { systemError, argumentError } from "../errors.ts";
import { PORT_OPT } from "../abi.ts";
import type { TimerHandle } from "../driver.ts";

export interface SocketConstructorOptions {
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Ignored (Node compatibility): a socket is always readable and writable. */
  readable?: boolean;
  writable?: boolean;
}

export interface SocketConnectOptions {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  /** ustack extension (Linux tcp_tw_reuse): the 4-tuple may come from TIME-WAIT when timestamps make it safe. Default: the stack's twReuse. */
  twReuse?: boolean;
  /** Idle timeout in ms (socket.setTimeout). */
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  family?: number;
}

type WriteCb = (error?: Error | null) => void;

/** Node's validation of a port argument: integer 0..65535 (numeric strings too). */
export function checkPort(port: unknown, allowZero: boolean, name = "Port"): number {
  const n = typeof port === "string" && /^\s*\d+\s*$/.test(port) ? Number(port) : port;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535 || (!allowZero && n === 0)) {
    throw argumentError("ERR_SOCKET_BAD_PORT", `${name} should be >= ${allowZero ? 0 : 1} and < 65536. Received ${typeof port === "string" ? `type string ('${port}')` : String(port)}.`);
  }
  return n;
}

/** Largest timer duration Node accepts (2^31 − 1 ms); longer ones are truncated with a warning. */
const TIMEOUT_MAX = 2 ** 31 - 1;

/** Node's "Received ..." suffix of an ERR_INVALID_ARG_TYPE message. */
function received(v: unknown): string {
  if (v === null || v === undefined) return `Received ${v}`;
  if (typeof v === "function") return `Received function ${v.name}`;
  if (typeof v === "object") {
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name ? `Received an instance of ${name}` : `Received ${inspect(v, { depth: -1 })}`;
  }
  let shown = inspect(v, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof v} (${shown})`;
}

/** Node's getTimerDuration(): validates a timer duration in ms and truncates it to TIMEOUT_MAX. */
function timerDuration(msecs: unknown, name: string): number {
  if (typeof msecs !== "number") throw argumentError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type number. ${received(msecs)}`);
  if (!(msecs >= 0) || !Number.isFinite(msecs)) {
    // Node writes integers beyond 2^32 with "_" separators (-10_000_000_000).
    const shown = Number.isInteger(msecs) && Math.abs(msecs) > 2 ** 32 ? String(msecs).replace(/\B(?=(\d{3})+$)/g, "_") : inspect(msecs);
    throw argumentError("ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be a non-negative finite number. Received ${shown}`);
  }
  if (msecs > TIMEOUT_MAX) {
    process.emitWarning(`${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to ${TIMEOUT_MAX}.`, "TimeoutOverflowWarning");
    return TIMEOUT_MAX;
  }
  return msecs;
}

let ctxForNew: NetContext | null = null;

export class Socket extends Duplex {
  /** Bytes received and handed to the stream. */
  bytesRead = 0;
  private written = 0;
  connecting = false;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: string | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  /** node:http and others read this. */
  server: unknown = null;
  /** The stack this socket belongs to. */
  readonly ctx: NetContext;
  private h = 0;
  private wq: { data: Uint8Array; off: number; cb: WriteCb } | null = null;
  private finalCb: WriteCb | null = null;
  private wantRead = false;
  private pulling = false;
  private eof = false;
  private noDelay: boolean | null = null;
  private keepAlive: boolean | null = null;
  /** Idle period in ms (0: off) and the value setTimeout was given (socket.timeout). */
  private idleMs = 0;
  private timeoutValue: number | undefined = undefined;
  private idleTimer: TimerHandle | null = null;
  private lastActivityUs = 0;
  private protocolClosed = false;

  constructor(options: SocketConstructorOptions = {}, ctx?: NetContext) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      emitClose: false, // 'close' carries hadError, as node:net's does (emitted in _destroy)
      autoDestroy: true,
      decodeStrings: true,
    });
    const c = ctx ?? ctxForNew;
    if (!c) throw new TypeError("ustack: create sockets through stack.net (net.Socket, connect, createServer)");
    this.ctx = c;
  }

  /** Wraps an accepted child endpoint (Server). */
  static accepted(ctx: NetContext, handle: number, allowHalfOpen: boolean): Socket {
    const s = new Socket({ allowHalfOpen }, ctx);
    s.attach(handle);
    s.fillAddresses();
    return s;
  }

  private attach(handle: number): void {
    this.h = handle >>> 0;
    this.ctx.register(this.h, this as CoreEventTarget);
    if (this.noDelay !== null) this.ctx.tcp.setOption(this.h, OPT_NODELAY, this.noDelay ? 1 : 0);
    if (this.keepAlive !== null) this.ctx.tcp.setOption(this.h, OPT_KEEPALIVE, this.keepAlive ? 1 : 0);
  }

  private fillAddresses(): void {
    const t = this.ctx.tcp;
    const la = t.localAddr(this.h);
    this.localAddress = u32ToIpv4(la === 0 ? this.ctx.addr : la);
    this.localPort = t.localPort(this.h);
    this.remoteAddress = u32ToIpv4(t.remoteAddr(this.h));
    this.remotePort = t.remotePort(this.h);
    this.remoteFamily = "IPv4";
  }

  // --- connect ------------------------------------------------------------------

  /** connect(options[, listener]) | connect(port[, host][, listener]) */
  connect(...args: unknown[]): this {
    const cb = typeof args[args.length - 1] === "function" ? (args.pop() as () => void) : undefined;
    let o: SocketConnectOptions;
    if (args[0] !== null && typeof args[0] === "object") o = args[0] as SocketConnectOptions;
    else o = { port: args[0] as number, host: typeof args[1] === "string" ? args[1] : undefined };
    if (cb) this.once("connect", cb);
    if (this.h !== 0 || this.connecting) {
      throw Object.assign(new Error("Socket is already connected or connecting"), { code: "ERR_SOCKET_CONNECTING" });
    }
    const port = checkPort(o.port, false);
    const host = o.host ?? "127.0.0.1";
    if (o.timeout !== undefined) this.setTimeout(o.timeout);
    if (o.noDelay) this.setNoDelay(true);
    if (o.keepAlive) this.setKeepAlive(true, o.keepAliveInitialDelay);
    this.connecting = true;
    this.remoteAddress = host;
    this.remotePort = port;
    this.remoteFamily = "IPv4";
    const fail = (err: Error) => {
      this.connecting = false;
      process.nextTick(() => this.destroy(err));
    };
    if (this.ctx.closing) { fail(systemError("ECONNABORTED", "connect", host, port)); return this; }
    if (!isIPv4(host)) {
      // No resolver in the stack: only IPv4 literals (Node would ask getaddrinfo).
      const err = systemError("ENOTFOUND", "getaddrinfo");
      Object.assign(err, { hostname: host, message: `getaddrinfo ENOTFOUND ${host} (ustack accepts IPv4 literals only)` });
      fail(err);
      return this;
    }
    let localAddr = 0;
    if (o.localAddress !== undefined) {
      if (!isIPv4(o.localAddress)) throw argumentError("ERR_INVALID_IP_ADDRESS", `Invalid IP address: ${o.localAddress}`);
      localAddr = ipv4ToU32(o.localAddress);
      if (localAddr !== 0 && localAddr !== this.ctx.addr) { fail(systemError("EADDRNOTAVAIL", "bind", o.localAddress, o.localPort)); return this; }
    }
    const localPort = o.localPort === undefined ? 0 : checkPort(o.localPort, true, "localPort");
    const t = this.ctx.tcp;
    const po = this.ctx.portOptions;
    const opts = (po.reuseAddress ? PORT_OPT.REUSE_ADDR : 0) | (po.reusePort ? PORT_OPT.REUSE_PORT : 0) |
      ((o.twReuse ?? po.twReuse) ? PORT_OPT.TW_REUSE : 0);
    const h = t.connect(localAddr === 0 ? this.ctx.addr : localAddr, (localPort | opts) >>> 0, ipv4ToU32(host), port);
    if (h < 0) {
      fail(systemError(-h, "connect", host, port));
      return this;
    }
    this.attach(h);
    this.localAddress = this.ctx.addrText;
    this.localPort = t.localPort(h);
    this.ctx.kick();
    return this;
  }

  // --- core events ------------------------------------------------------------------

  onCoreEvent(type: number, arg0: number): void {
    switch (type) {
      case EV_CONNECTED:
        if (!this.connecting) return;
        this.connecting = false;
        this.fillAddresses();
        this.touch();
        this.emit("connect");
        this.emit("ready");
        this.continueWrite();
        if (this.wantRead) this.pull();
        break;
      case EV_READABLE:
      case EV_PEER_CLOSED:
        if (this.wantRead) this.pull();
        break;
      case EV_WRITABLE:
        this.continueWrite();
        break;
      case EV_ERROR: {
        const syscall = this.connecting ? "connect" : this.wq ? "write" : "read";
        this.connecting = false;
        this.destroy(systemError(arg0, syscall, syscall === "connect" ? this.remoteAddress : undefined, syscall === "connect" ? this.remotePort : undefined));
        break;
      }
      case EV_CLOSED:
        this.protocolClosed = true;
        // Both directions are done at the protocol level. If the stream still waits
        // for a write to be taken, it never will be.
        if (this.wq) this.destroy(systemError("EPIPE", "write"));
        break;
    }
  }

  // --- reading ------------------------------------------------------------------

  override _read(): void {
    this.wantRead = true;
    if (this.h !== 0 && !this.connecting) this.pull();
  }

  /** Moves readable bytes from the module into the stream until it says stop. */
  private pull(): void {
    if (this.pulling || this.eof || this.h === 0 || this.destroyed) return;
    this.pulling = true;
    let read = false;
    try {
      const t = this.ctx.tcp;
      while (this.wantRead) {
        const r = t.recv(this.h, t.ioSize, (n) => Buffer.allocUnsafe(n));
        if (typeof r !== "number") {
          this.bytesRead += r.byteLength;
          read = true;
          this.touch();
          if (!this.push(r)) this.wantRead = false;
          continue;
        }
        if (r === 0) {
          this.eof = true;
          this.wantRead = false;
          this.push(null);
        } else if (r !== -E_AGAIN) {
          this.wantRead = false;
          this.destroy(systemError(-r, "read"));
        }
        break;
      }
    } finally {
      this.pulling = false;
    }
    if (read) this.ctx.kick(); // reading may open the window: the update goes out now
  }

  // --- writing ------------------------------------------------------------------

  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCb): void {
    const data = typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk;
    this.wq = { data, off: 0, cb };
    if (this.h !== 0 && !this.connecting) this.continueWrite();
  }

  override _writev(chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, cb: WriteCb): void {
    const bufs = chunks.map(({ chunk, encoding }) => (typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk));
    this._write(Buffer.concat(bufs), "utf8", cb); // encoding unused for a Buffer
  }

  /** Offers the pending chunk to the send buffer; completes it when all is taken. */
  private continueWrite(): void {
    const p = this.wq;
    if (p === null) {
      this.maybeShutdown();
      return;
    }
    if (this.h === 0 || this.connecting) return;
    const t = this.ctx.tcp;
    let sent = false;
    while (p.off < p.data.byteLength) {
      const r = t.send(this.h, p.data, p.off, p.data.byteLength);
      if (r === -E_CHUNKS_EXHAUSTED) break; // the stack's chunk pool is dry: EV_WRITABLE continues
      if (r < 0) {
        this.wq = null;
        if (sent) this.ctx.kick();
        p.cb(systemError(-r, "write"));
        return;
      }
      if (r === 0) break; // send buffer full: EV_WRITABLE continues
      p.off += r;
      this.written += r;
      sent = true;
    }
    if (sent) {
      this.touch();
      this.ctx.kick();
    }
    if (p.off >= p.data.byteLength) {
      this.wq = null;
      p.cb();
      this.maybeShutdown();
    }
  }

  override _final(cb: WriteCb): void {
    this.finalCb = cb;
    if (this.h !== 0 && !this.connecting) this.maybeShutdown();
  }

  private maybeShutdown(): void {
    const cb = this.finalCb;
    if (!cb || this.wq) return;
    this.finalCb = null;
    const rc = this.ctx.tcp.shutdown(this.h);
    this.ctx.kick();
    // ENOTCONN after the peer reset us: the stream is being destroyed anyway.
    cb(rc === 0 || rc === 205 ? null : systemError(rc, "shutdown"));
  }

  // --- teardown -----------------------------------------------------------------

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.clearIdle();
    const h = this.h;
    if (h !== 0) {
      this.ctx.unregister(h);
      this.h = 0;
      this.ctx.tcp.close(h);
      this.ctx.kick();
    }
    this.connecting = false;
    const p = this.wq;
    this.wq = null;
    if (p) p.cb(err ?? systemError("EPIPE", "write"));
    this.finalCb = null;
    cb(err);
    process.nextTick(() => this.emit("close", !!err));
  }

  /**
   * The stack stopped because its link went down (Stack 'error', code
   * ERR_USTACK_LINK_DOWN): destroys the socket with ENETDOWN (errno -100) from the
   * operation it was in: connect, write or read. `cause` is the stack's error.
   * @internal
   */
  netDown(cause: Error): void {
    if (this.destroyed) return;
    const syscall = this.connecting ? "connect" : this.wq ? "write" : "read";
    const err = systemError("ENETDOWN", syscall, syscall === "connect" ? this.remoteAddress : undefined, syscall === "connect" ? this.remotePort : undefined);
    err.errno = -100;
    (err as Error & { cause?: unknown }).cause = cause;
    this.connecting = false;
    this.destroy(err);
  }

  /** Sends a RST and destroys the socket (Node ≥ 16.17). */
  resetAndDestroy(): this {
    if (this.h !== 0) {
      const h = this.h;
      this.ctx.unregister(h);
      this.h = 0;
      this.ctx.tcp.abort(h);
      this.ctx.kick();
    }
    this.destroy();
    return this;
  }

  /** Ends the writable side, then destroys once everything is flushed (node:http uses it). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  }

  // --- options ------------------------------------------------------------------

  setNoDelay(noDelay = true): this {
    this.noDelay = !!noDelay;
    if (this.h !== 0) {
      this.ctx.tcp.setOption(this.h, OPT_NODELAY, this.noDelay ? 1 : 0);
      this.ctx.kick();
    }
    return this;
  }

  /**
   * Turns keepalive probes on or off. The idle time and interval are the stack's
   * settings (initialDelay is accepted for compatibility; per-socket delays need a
   * core option that does not exist yet).
   */
  setKeepAlive(enable = false, _initialDelay?: number): this {
    this.keepAlive = !!enable;
    if (this.h !== 0) this.ctx.tcp.setOption(this.h, OPT_KEEPALIVE, this.keepAlive ? 1 : 0);
    return this;
  }

  /**
   * Emits 'timeout' once after `msecs` without activity (0 disables), on the stack's
   * clock, as node:net does: the timer then stays quiet until the next activity
   * (data read, bytes taken by the send buffer, connect) starts a new idle period.
   * Validation and rounding as Node's (lib/internal/timers.js getTimerDuration and
   * Timeout): a non-number is ERR_INVALID_ARG_TYPE; negative, NaN or Infinity
   * ERR_OUT_OF_RANGE; above 2^31 − 1 a TimeoutOverflowWarning and 2^31 − 1; a value
   * below 1 ms (0.001, ...) runs as 1 ms. A destroyed socket ignores the call.
   */
  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    const ms = timerDuration(msecs, "msecs");
    if (callback !== undefined && typeof callback !== "function") {
      throw argumentError("ERR_INVALID_ARG_TYPE", `The "callback" argument must be of type function. ${received(callback)}`);
    }
    this.timeoutValue = msecs;
    this.clearIdle();
    if (ms === 0) {
      this.idleMs = 0;
      if (callback) this.removeListener("timeout", callback);
      return this;
    }
    this.idleMs = Math.max(1, ms);
    this.lastActivityUs = this.ctx.driver.clock.nowUs();
    this.armIdle(this.idleMs);
    if (callback) this.once("timeout", callback);
    return this;
  }

  /** The value given to the last setTimeout() (node:net's socket.timeout), undefined before. */
  get timeout(): number | undefined {
    return this.timeoutValue;
  }

  /** Activity: the idle period starts again (and a timer that already fired is re-armed). */
  private touch(): void {
    this.lastActivityUs = this.ctx.driver.clock.nowUs();
    if (this.idleMs > 0 && this.idleTimer === null && !this.destroyed) this.armIdle(this.idleMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = this.ctx.after(ms, () => {
      this.idleTimer = null;
      if (this.destroyed || this.idleMs === 0) return;
      const idleUs = this.ctx.driver.clock.nowUs() - this.lastActivityUs;
      const leftMs = this.idleMs - idleUs / 1000;
      if (leftMs > 0) this.armIdle(leftMs); // activity since: wait the rest
      else this.emit("timeout"); // once per idle period: the next touch() re-arms
    });
  }

  private clearIdle(): void {
    this.idleTimer?.cancel();
    this.idleTimer = null;
  }

  // --- properties -----------------------------------------------------------------

  get bytesWritten(): number {
    return this.written;
  }

  /** True until the socket is connected (Node's `pending`). */
  get pending(): boolean {
    return this.h === 0 || this.connecting;
  }

  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening";
    if (this.h === 0 || this.destroyed) return "closed";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  /** The core handle (0 when none): diagnostics. */
  get handle(): number {
    return this.h;
  }

  /** True once the module reported the connection fully closed. */
  get closedByProtocol(): boolean {
    return this.protocolClosed;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localPort === undefined) return {};
    return { address: this.localAddress ?? this.ctx.addrText, family: "IPv4", port: this.localPort };
  }

  ref(): this { return this; }
  unref(): this { return this; }
}

/** Runs `fn` with `ctx` as the context of sockets constructed without one (net.Socket()). */
export function withContext<T>(ctx: NetContext, fn: () => T): T {
  const prev = ctxForNew;
  ctxForNew = ctx;
  try {
    return fn();
  } finally {
    ctxForNew = prev;
  }
}
