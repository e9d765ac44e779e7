// A scripted libc for link tests that need no device: TapLink.openSync and
// PacketLink.openSync run on it, and every read, write, poll and ioctl answers what
// the test's Script says (a frame length, or -errno). Counts the calls by name.

import { type Libc, SIOCGIFNAME } from "../../host/runtime/ffi.ts";

/** What the fake device answers; every field can be changed between calls. */
export interface Script {
  /** read()/recvmsg()/recvfrom() result: a frame length or -errno. */
  read: number;
  /** write()/sendmsg()/sendto() result: -errno, or null for "all bytes". */
  write: number | null;
  /** revents poll() reports for the device (0: nothing). */
  revents: number;
  /** ioctl(SIOCGIFNAME) result: 0 (the interface exists) or -errno. */
  ifname: number;
}

export function fakeLibc(script: Script, calls: Record<string, number>): Libc {
  const count = (name: string) => { calls[name] = (calls[name] ?? 0) + 1; };
  const rw = (buf: Uint8Array) => (script.write === null ? buf.byteLength : script.write);
  const pollResult = (fds: Uint8Array) => {
    const v = new DataView(fds.buffer, fds.byteOffset);
    v.setInt16(6, script.revents, true);
    return script.revents ? 1 : 0;
  };
  return {
    backend: "koffi",
    open: () => 10,
    close: () => { count("close"); return 0; },
    read: (fd) => { count(fd === 10 ? "read" : "readEventfd"); return fd === 10 ? script.read : 8; },
    write: (fd, buf) => { count(fd === 10 ? "write" : "writeEventfd"); return fd === 10 ? rw(buf) : 8; },
    ioctl: (_fd, request, arg) => {
      count(`ioctl${request.toString(16)}`);
      if (request === SIOCGIFNAME) return script.ifname;
      arg.set([2, 0, 0, 0, 0, 0x33], 18); // SIOCGIFHWADDR: a unicast MAC
      return 0;
    },
    ioctlInt: () => 0,
    socket: () => 10,
    bind: () => 0,
    setsockopt: () => -22, // no PACKET_AUXDATA / PACKET_VNET_HDR: plain recvfrom/sendto
    recvfrom: () => { count("read"); return script.read; },
    recvmsg: () => { count("read"); return script.read; },
    sendmsg: (_fd, bufs) => { count("write"); return script.write ?? bufs.reduce((n, b) => n + b.byteLength, 0); },
    sendto: (_fd, buf) => { count("write"); return rw(buf); },
    eventfd: () => 11,
    setns: () => 0,
    ifNameToIndex: () => 7,
    poll: (fds) => { count("poll"); return pollResult(fds); },
    pollAsync: async (fds) => { count("poll"); return pollResult(fds); },
  };
}

export const frame = () => Uint8Array.from({ length: 60 }, (_, i) => (i < 6 ? 0xff : i));
export const slot = () => new Uint8Array(2048);

