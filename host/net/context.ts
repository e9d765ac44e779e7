// The per-stack state the net API shares: the TCP command surface, the driver (to
// wake it after commands and for host timers), our address, and the handle → object
// registry that routes events from the event ring to sockets and servers.
//
//   event ring record (type, handle, arg0, arg1)
//        │ Driver.step → NetContext.onEvent
//        ▼
//   handles: Map<u32 handle, EventTarget>   socket handles and listener handles
//        ├ Socket.onCoreEvent   EV_CONNECTED / READABLE / WRITABLE / PEER_CLOSED / CLOSED / ERROR
//        └ Server.onCoreEvent   EV_ACCEPTED (arg0 = child) → tcpAccept loop → new Socket
//
// A handle leaves the registry when its owner calls tcpClose/tcpAbort: later events
// for it (the module may still post some) are ignored, and a recycled handle value
// carries a new generation, so it can never reach the old object.

import type { TcpCore } from "./core.ts";
import type { Driver, TimerHandle } from "../driver.ts";

export interface CoreEventTarget {
  onCoreEvent(type: number, arg0: number, arg1: number): void;
}

export class NetContext {
  private readonly handles = new Map<number, CoreEventTarget>();
  /** Set by Stack.close(): no new sockets or servers. */
  closing = false;
  /**
   * Stack-wide defaults for the bind options (Stack.create reuseAddress / reusePort /
   * twReuse; SPEC §5), as PORT_OPT bits for the port argument of listen/connect.
   */
  portOptions = { reuseAddress: false, reusePort: false, twReuse: false };

  constructor(
    readonly tcp: TcpCore,
    readonly driver: Driver,
    /** Our IPv4 address (u32) and its text form. */
    readonly addr: number,
    readonly addrText: string,
  ) {}

  register(handle: number, target: CoreEventTarget): void {
    this.handles.set(handle >>> 0, target);
  }

  unregister(handle: number): void {
    this.handles.delete(handle >>> 0);
  }

  /** Live sockets and servers (Stack.close destroys them). */
  targets(): CoreEventTarget[] {
    return [...this.handles.values()];
  }

  onEvent = (type: number, handle: number, arg0: number, arg1: number): void => {
    const t = this.handles.get(handle >>> 0);
    if (t) t.onCoreEvent(type, arg0 >>> 0, arg1 >>> 0);
  };

  /** After a command: send its frames and let the loop step. */
  kick(): void {
    this.driver.wake();
  }

  after(ms: number, fn: () => void): TimerHandle {
    return this.driver.after(ms, fn);
  }
}
