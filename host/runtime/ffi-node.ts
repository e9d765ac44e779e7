// libc through koffi (Node). Loaded only by ffi.ts when not running under Deno.
//
// koffi passes a Uint8Array argument declared as `void *` by address (no copy), also
// for async calls, whose worker thread writes poll's revents straight into the view.
// Variadic libc functions (open, ioctl) are declared with their fixed full argument
// list, which is how every FFI calls them on x86-64 and arm64 Linux.

import koffi from "koffi";
import { EINTR, fillMsghdr, type Libc, MSGHDR_BLOCK_SIZE, readMsghdr } from "./ffi.ts";

export function openLibc(): Libc {
  if (process.platform !== "linux") throw new Error(`ustack FFI: links need Linux (this is ${process.platform})`);
  const lib = koffi.load("libc.so.6");
  const f = {
    open: lib.func("int open(const char *path, int flags, int mode)"),
    close: lib.func("int close(int fd)"),
    read: lib.func("long read(int fd, void *buf, unsigned long count)"),
    write: lib.func("long write(int fd, void *buf, unsigned long count)"),
    ioctl: lib.func("int ioctl(int fd, unsigned long request, void *arg)"),
    ioctlInt: lib.func("int ioctl(int fd, unsigned long request, long value)"),
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    bind: lib.func("int bind(int fd, void *addr, unsigned int addrlen)"),
    setsockopt: lib.func("int setsockopt(int fd, int level, int name, void *value, unsigned int len)"),
    recvfrom: lib.func("long recvfrom(int fd, void *buf, unsigned long len, int flags, void *addr, void *addrlen)"),
    sendto: lib.func("long sendto(int fd, void *buf, unsigned long len, int flags, void *addr, unsigned int addrlen)"),
    recvmsg: lib.func("long recvmsg(int fd, void *msg, int flags)"),
    sendmsg: lib.func("long sendmsg(int fd, void *msg, int flags)"),
    eventfd: lib.func("int eventfd(unsigned int initval, int flags)"),
    setns: lib.func("int setns(int fd, int nstype)"),
    ifNameToIndex: lib.func("unsigned int if_nametoindex(const char *name)"),
    poll: lib.func("int poll(void *fds, unsigned long nfds, int timeout)"),
  };
  /** libc convention (-1 and errno) to this seam's convention (-errno). */
  const r = (ret: number | bigint): number => {
    const n = Number(ret);
    return n < 0 ? -koffi.errno() : n;
  };
  // recvmsg's and sendmsg's msghdr + iovecs (layout in ffi.ts). koffi.address() gives the
  // address of a view's first byte (byteOffset included), taken right before each call.
  // An ArrayBuffer's contents live outside the JS heap and do not move; a small typed
  // array that V8 kept on the heap is moved out of it by that first address query (V8
  // materialises its buffer), and stays put from then on.
  const hdrBuf = new ArrayBuffer(MSGHDR_BLOCK_SIZE);
  const hdrBytes = new Uint8Array(hdrBuf);
  const hdr = new DataView(hdrBuf);
  const addr = (v: Uint8Array): bigint => koffi.address(v);
  return {
    backend: "koffi",
    open: (path, flags, mode = 0) => r(f.open(path, flags, mode)),
    close: (fd) => r(f.close(fd)),
    read: (fd, buf) => r(f.read(fd, buf, buf.byteLength)),
    write: (fd, buf) => r(f.write(fd, buf, buf.byteLength)),
    ioctl: (fd, request, arg) => r(f.ioctl(fd, request, arg)),
    ioctlInt: (fd, request, value) => r(f.ioctlInt(fd, request, value)),
    socket: (domain, type, protocol) => r(f.socket(domain, type, protocol)),
    bind: (fd, addr) => r(f.bind(fd, addr, addr.byteLength)),
    setsockopt: (fd, level, name, value) => r(f.setsockopt(fd, level, name, value, value.byteLength)),
    recvfrom: (fd, buf, flags, addr, addrLen) => r(f.recvfrom(fd, buf, buf.byteLength, flags, addr, addrLen)),
    sendto: (fd, buf, flags, sa) => r(f.sendto(fd, buf, buf.byteLength, flags, sa, sa.byteLength)),
    recvmsg: (fd, bufs, flags, name, control, out) => {
      fillMsghdr(hdr, addr, addr(hdrBytes), bufs, name, control);
      const n = r(f.recvmsg(fd, hdrBytes, flags));
      readMsghdr(hdr, out);
      return n;
    },
    sendmsg: (fd, bufs, flags, name) => {
      fillMsghdr(hdr, addr, addr(hdrBytes), bufs, name, null);
      return r(f.sendmsg(fd, hdrBytes, flags));
    },
    eventfd: (initval, flags) => r(f.eventfd(initval, flags)),
    setns: (fd, nstype) => r(f.setns(fd, nstype)),
    ifNameToIndex: (name) => Number(f.ifNameToIndex(name)) >>> 0,
    poll: (fds, nfds, timeoutMs) => r(f.poll(fds, nfds, timeoutMs)),
    pollAsync: (fds, nfds, timeoutMs) =>
      new Promise((resolve, reject) => {
        f.poll.async(fds, nfds, timeoutMs, (err: unknown, ret: number) => {
          if (err) reject(err);
          // errno lives on the worker thread and is gone by now; poll(2) can only fail
          // here with EINTR (or EFAULT/EINVAL/ENOMEM, which our fixed pollfd array rules
          // out), so a failure is reported as -EINTR and the caller simply polls again.
          else resolve(ret < 0 ? -EINTR : ret);
        });
      }),
  };
}
