// The node:net-compatible API of one stack: `stack.net`.
//
//   const server = stack.net.createServer((socket) => socket.pipe(socket));
//   server.listen(7, () => { ... });
//   const c = stack.net.connect({ host: "198.18.0.2", port: 7 }, () => c.end("hi"));
//
// Same names and signatures as node:net for everything a stream server or client
// uses (see docs/api.md for the exact list and the differences: IPv4 literals only,
// no IPC paths, no DNS).

import { NetContext } from "./context.ts";
import { Socket, withContext, type SocketConnectOptions, type SocketConstructorOptions } from "./socket.ts";
import { Server, type ServerOptions } from "./server.ts";
import { isIPv4 } from "./core.ts";

export { Socket, Server, NetContext };
export type { SocketConnectOptions, SocketConstructorOptions, ServerOptions };

export interface Net {
  createServer(listener?: (socket: Socket) => void): Server;
  createServer(options: ServerOptions, listener?: (socket: Socket) => void): Server;
  connect(options: SocketConnectOptions & SocketConstructorOptions, listener?: () => void): Socket;
  connect(port: number, host?: string, listener?: () => void): Socket;
  connect(port: number, listener?: () => void): Socket;
  createConnection: Net["connect"];
  /** `new stack.net.Socket()` then `socket.connect(...)`, as with node:net. */
  Socket: new (options?: SocketConstructorOptions) => Socket;
  Server: new (options?: ServerOptions, listener?: (socket: Socket) => void) => Server;
  isIP(input: string): number;
  isIPv4(input: string): boolean;
  isIPv6(input: string): boolean;
}

export function createNet(ctx: NetContext): Net {
  class BoundSocket extends Socket {
    constructor(options: SocketConstructorOptions = {}) {
      super(options, ctx);
    }
  }
  class BoundServer extends Server {
    constructor(options?: ServerOptions | ((s: Socket) => void), listener?: (s: Socket) => void) {
      if (typeof options === "function") super(ctx, {}, options);
      else super(ctx, options ?? {}, listener);
    }
  }
  const connect = (...args: unknown[]): Socket => {
    const first = args[0];
    const opts = first !== null && typeof first === "object" ? (first as SocketConstructorOptions) : {};
    const s = withContext(ctx, () => new Socket({ allowHalfOpen: opts.allowHalfOpen }, ctx));
    return s.connect(...args);
  };
  return {
    createServer: ((a?: ServerOptions | ((s: Socket) => void), b?: (s: Socket) => void) => new BoundServer(a, b)) as Net["createServer"],
    connect: connect as Net["connect"],
    createConnection: connect as Net["connect"],
    Socket: BoundSocket,
    Server: BoundServer as unknown as Net["Server"],
    isIP: (input: string) => (isIPv4(input) ? 4 : 0),
    isIPv4: (input: string) => isIPv4(input),
    isIPv6: () => false,
  };
}
