// libc through Deno.dlopen (Deno 2, needs --allow-ffi). Loaded only by ffi.ts under Deno.
//
// "buffer" parameters take any ArrayBufferView by address (no copy), including views of
// WebAssembly.Memory. Results of ssize_t calls are declared "i32": the values we get
// (frame lengths, -1) fit, and an i32 result comes back as a number, not a bigint.
// errno is read through __errno_location() right after each synchronous call, which runs
// on the JS thread. poll is also bound a second time with `nonblocking: true`, which runs
// it on a Deno worker thread and returns a promise.

import { cString, EINTR, fillMsghdr, type Libc, MSGHDR_BLOCK_SIZE, readMsghdr } from "./ffi.ts";

// Minimal local typing of the Deno FFI surface we use (tsc compiles this file for Node,
// where the Deno namespace does not exist).
interface DenoFfi {
  build: { os: string };
  dlopen(path: string, symbols: Record<string, unknown>): { symbols: Record<string, (...a: unknown[]) => unknown> };
  UnsafePointerView: new (p: unknown) => { getInt32(offset?: number): number };
  UnsafePointer: { of(v: ArrayBufferView): unknown; value(p: unknown): bigint | number };
}

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctl_int: { name: "ioctl", parameters: ["i32", "u64", "i64"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

export function openLibc(): Libc {
  // deno-lint-ignore no-explicit-any
  const Deno = (globalThis as any).Deno as DenoFfi;
  if (Deno.build.os !== "linux") throw new Error(`ustack FFI: links need Linux (this is ${Deno.build.os})`);
  let lib;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (e) {
    throw new Error(`ustack FFI: Deno.dlopen(libc.so.6) failed (run Deno with --allow-ffi): ${(e as Error).message}`);
  }
  const pollWorker = Deno.dlopen("libc.so.6", {
    poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  });
  const s = lib.symbols;
  const errnoView = new Deno.UnsafePointerView(s.__errno_location());
  /** libc convention (-1 and errno) to this seam's convention (-errno). */
  const r = (ret: unknown): number => {
    const n = Number(ret);
    return n < 0 ? -errnoView.getInt32(0) : n;
  };
  // recvmsg's and sendmsg's msghdr + iovecs (layout in ffi.ts); UnsafePointer.of gives a
  // view's address (byteOffset included), taken right before each call.
  const hdrBuf = new ArrayBuffer(MSGHDR_BLOCK_SIZE);
  const hdrBytes = new Uint8Array(hdrBuf);
  const hdr = new DataView(hdrBuf);
  const addr = (v: Uint8Array): bigint => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(v)));
  return {
    backend: "deno",
    open: (path, flags, mode = 0) => r(s.open(cString(path), flags, mode)),
    close: (fd) => r(s.close(fd)),
    read: (fd, buf) => r(s.read(fd, buf, buf.byteLength)),
    write: (fd, buf) => r(s.write(fd, buf, buf.byteLength)),
    ioctl: (fd, request, arg) => r(s.ioctl(fd, BigInt(request), arg)),
    ioctlInt: (fd, request, value) => r(s.ioctl_int(fd, BigInt(request), BigInt(value))),
    socket: (domain, type, protocol) => r(s.socket(domain, type, protocol)),
    bind: (fd, addr) => r(s.bind(fd, addr, addr.byteLength)),
    setsockopt: (fd, level, name, value) => r(s.setsockopt(fd, level, name, value, value.byteLength)),
    recvfrom: (fd, buf, flags, addr, addrLen) => r(s.recvfrom(fd, buf, buf.byteLength, flags, addr, addrLen)),
    sendto: (fd, buf, flags, sa) => r(s.sendto(fd, buf, buf.byteLength, flags, sa, sa.byteLength)),
    recvmsg: (fd, bufs, flags, name, control, out) => {
      fillMsghdr(hdr, addr, addr(hdrBytes), bufs, name, control);
      const n = r(s.recvmsg(fd, hdrBytes, flags));
      readMsghdr(hdr, out);
      return n;
    },
    sendmsg: (fd, bufs, flags, name) => {
      fillMsghdr(hdr, addr, addr(hdrBytes), bufs, name, null);
      return r(s.sendmsg(fd, hdrBytes, flags));
    },
    eventfd: (initval, flags) => r(s.eventfd(initval, flags)),
    setns: (fd, nstype) => r(s.setns(fd, nstype)),
    ifNameToIndex: (name) => Number(s.if_nametoindex(cString(name))) >>> 0,
    poll: (fds, nfds, timeoutMs) => r(s.poll(fds, nfds, timeoutMs)),
    pollAsync: async (fds, nfds, timeoutMs) => {
      const ret = Number(await (pollWorker.symbols.poll(fds, nfds, timeoutMs) as Promise<number>));
      // errno of the worker thread is not reachable; see ffi-node.ts for why -EINTR.
      return ret < 0 ? -EINTR : ret;
    },
  };
}
