// Server: node:net-compatible listener over a core LISTEN endpoint.
//
//   listen(port, host, backlog) → listen command (port 0: the module picks a free
//       ephemeral port)
//       → 'listening' (next tick), or 'error' (EADDRINUSE, ...)
//   EV_ACCEPTED → accept until 0 → Socket per child → 'connection'
//   close() → close(listener): queued, unaccepted children are reset (RST);
//       'close' once every accepted connection has closed too (Node semantics).

import { EventEmitter } from "node:events";
import process from "node:process";
import { EV_ACCEPTED, isIPv4, ipv4ToU32 } from "./core.ts";
import type { NetContext, CoreEventTarget } from "./context.ts";
import { Socket, checkPort } from "./socket.ts";
import { systemError, argumentError } from "../errors.ts";

export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
}

export interface ListenOptions {
  port?: number | string;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  /** SO_REUSEPORT (Node ≥ 22.12 names it so): listeners with it share the port; SYNs spread by 4-tuple hash. Default: the stack's reusePort. */
  reusePort?: boolean;
  /** ustack extension, SO_REUSEADDR: bind over a port held only by TIME-WAIT. Default: the stack's reuseAddress. */
  reuseAddress?: boolean;
}

const DEFAULT_BACKLOG = 511;
// Option bits of the port argument (host/abi.ts PORT_OPT; assembly/glue/api.ts).
import { PORT_OPT } from "../abi.ts";

export class Server extends EventEmitter implements CoreEventTarget {
  listening = false;
  /** Node's server.maxConnections: further connections are reset. */
  maxConnections: number | undefined;
  private h = 0;
  private port = 0;
  private host = "0.0.0.0";
  private readonly connections = new Set<Socket>();
  private closeCbs: Array<(err?: Error) => void> = [];
  private closing = false;
  private readonly options: ServerOptions;

  constructor(private readonly ctx: NetContext, options: ServerOptions = {}, listener?: (s: Socket) => void) {
    super();
    this.options = options;
    if (listener) this.on("connection", listener);
  }

  /** listen(port[, host][, backlog][, cb]) | listen(options[, cb]) */
  listen(...args: unknown[]): this {
    const cb = typeof args[args.length - 1] === "function" ? (args.pop() as () => void) : undefined;
    let o: ListenOptions;
    if (args[0] !== null && typeof args[0] === "object") o = args[0] as ListenOptions;
    else {
      o = { port: args[0] as number | undefined };
      if (typeof args[1] === "string") { o.host = args[1]; if (typeof args[2] === "number") o.backlog = args[2]; }
      else if (typeof args[1] === "number") o.backlog = args[1];
    }
    if (this.listening || this.h !== 0) {
      throw Object.assign(new Error("Listen method has been called more than once without closing."), { code: "ERR_SERVER_ALREADY_LISTEN" });
    }
    const port = o.port === undefined || o.port === null ? 0 : checkPort(o.port, true);
    const host = o.host ?? "0.0.0.0";
    if (!isIPv4(host)) throw argumentError("ERR_INVALID_ARG_VALUE", `ustack listens on IPv4 literals only; got host ${JSON.stringify(host)}`);
    const addr = ipv4ToU32(host);
    const backlog = Math.max(1, Math.min(65535, Math.floor(o.backlog ?? DEFAULT_BACKLOG)));
    if (cb) this.once("listening", cb);
    const fail = (err: Error) => process.nextTick(() => this.emit("error", err));
    if (addr !== 0 && addr !== this.ctx.addr) { fail(systemError("EADDRNOTAVAIL", "listen", host, port)); return this; }
    if (this.ctx.closing) { fail(systemError("EINVAL", "listen", host, port)); return this; }
    const t = this.ctx.tcp;
    const po = this.ctx.portOptions;
    const opts = ((o.reuseAddress ?? po.reuseAddress) ? PORT_OPT.REUSE_ADDR : 0) |
      ((o.reusePort ?? po.reusePort) ? PORT_OPT.REUSE_PORT : 0);
    const h = t.listen(addr, (port | opts) >>> 0, backlog);
    if (h < 0) {
      fail(systemError(-h, "listen", host, port));
      return this;
    }
    const chosen = port !== 0 ? port : t.localPort(h);
    this.h = h;
    this.port = chosen;
    this.host = host;
    this.listening = true;
    this.ctx.register(h, this);
    process.nextTick(() => this.emit("listening"));
    return this;
  }

  onCoreEvent(type: number): void {
    if (type !== EV_ACCEPTED || this.h === 0) return;
    const t = this.ctx.tcp;
    // Bounded by the accept queue (≤ backlog); the guard protects against a module bug.
    for (let i = 0; i < 65536; i++) {
      const c = t.accept(this.h);
      if (c === 0) break;
      if (c < 0) {
        // The connection quota is full: the module reset the child (counted); keep going.
        if (-c === 20) continue;
        break;
      }
      if (this.maxConnections !== undefined && this.connections.size >= this.maxConnections) {
        t.abort(c);
        this.ctx.kick();
        this.emit("drop", { localPort: this.port });
        continue;
      }
      const s = Socket.accepted(this.ctx, c, this.options.allowHalfOpen ?? false);
      s.server = this;
      if (this.options.noDelay) s.setNoDelay(true);
      if (this.options.keepAlive) s.setKeepAlive(true);
      this.connections.add(s);
      s.once("close", () => {
        this.connections.delete(s);
        this.maybeClosed();
      });
      if (this.options.pauseOnConnect) s.pause();
      this.emit("connection", s);
    }
  }

  /** Stops accepting; 'close' (and `cb`) once every connection has ended. */
  close(cb?: (err?: Error) => void): this {
    if (!this.listening) {
      if (cb) process.nextTick(() => cb(Object.assign(new Error("Server is not running."), { code: "ERR_SERVER_NOT_RUNNING" })));
      return this;
    }
    if (cb) this.closeCbs.push(cb);
    this.listening = false;
    this.closing = true;
    const h = this.h;
    this.h = 0;
    this.ctx.unregister(h);
    this.ctx.tcp.close(h);
    this.ctx.kick();
    this.maybeClosed();
    return this;
  }

  private maybeClosed(): void {
    if (!this.closing || this.connections.size > 0) return;
    this.closing = false;
    const cbs = this.closeCbs;
    this.closeCbs = [];
    process.nextTick(() => {
      for (const cb of cbs) cb();
      this.emit("close");
    });
  }

  /** Closes the listener and destroys every connection (Stack.close). */
  destroyAll(): void {
    for (const s of this.connections) s.destroy();
    if (this.listening) this.close();
  }

  address(): { address: string; family: string; port: number } | null {
    if (!this.listening) return null;
    return { address: this.host, family: "IPv4", port: this.port };
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.connections.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  ref(): this { return this; }
  unref(): this { return this; }

  [Symbol.asyncDispose](): Promise<void> {
    return new Promise((resolve) => (this.listening ? this.close(() => resolve()) : resolve()));
  }
}
