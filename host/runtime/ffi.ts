// The FFI seam: the few libc calls the link drivers need (TAP, AF_PACKET, network
// namespaces), behind one interface with two implementations:
//
//   ffi-node.ts   koffi 3.x on Node (prebuilt binary from npm, no compile step)
//   ffi-deno.ts   Deno.dlopen on Deno (needs --allow-ffi)
//
// Nothing else in host/ knows which one is in use. Every call is synchronous except
// pollAsync(), which runs poll(2) off the JS thread (a koffi async worker, a Deno
// nonblocking symbol) so the event loop is never blocked while the stack idles.
//
// Conventions of this seam:
// - Every call returns what libc returns on success (>= 0) and -errno on failure, so
//   callers never read errno themselves (it is thread-local and easily clobbered).
// - Buffers are Uint8Array views and are passed by address, never copied: a view of
//   WebAssembly.Memory at any offset is fine, which is how frames go straight into the
//   RX ring slots of the core. Lengths are the views' byteLength.
// - Constants below are Linux's for x86-64 and arm64 (the asm-generic values).

/** Linux constants used by the link drivers. Values from the kernel's uapi headers. */
export const O_RDWR = 0x2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENODEV = 19;
export const EBADFD = 77;
export const ENETDOWN = 100;
export const ENOBUFS = 105;
export const EPERM = 1;
export const ENOENT = 2;
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const EFD_NONBLOCK = 0x800;
export const EFD_CLOEXEC = 0x80000;
export const AF_INET = 2;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_PROMISC = 1;
export const PACKET_IGNORE_OUTGOING = 23;
export const PACKET_OUTGOING = 4;
/** setsockopt(SOL_PACKET, PACKET_AUXDATA, 1): recvmsg() then carries a tpacket_auxdata cmsg. */
export const PACKET_AUXDATA = 8;
/** tpacket_auxdata.tp_status bits. */
export const TP_STATUS_CSUMNOTREADY = 0x8;
export const TP_STATUS_CSUM_VALID = 0x80;
/**
 * setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1): every frame read or written is preceded by
 * a struct virtio_net_hdr (10 bytes, little-endian on x86-64/arm64):
 *
 *   0       1          2         4          6            8             10
 *   ┌───────┬──────────┬─────────┬──────────┬────────────┬─────────────┐
 *   │ flags │ gso_type │ hdr_len │ gso_size │ csum_start │ csum_offset │
 *   │ u8    │ u8       │ u16     │ u16      │ u16        │ u16         │
 *   └───────┴──────────┴─────────┴──────────┴────────────┴─────────────┘
 */
export const PACKET_VNET_HDR = 15;
export const VIRTIO_NET_HDR_LEN = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;
export const ETH_P_ALL = 0x0003;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_CTRUNC = 0x8;
export const CLONE_NEWNET = 0x40000000;
export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const SIOCGIFMTU = 0x8921;
/** ioctl(SIOCGIFNAME): the name of interface index ifr_ifindex (i32 @16); ENODEV when there is none. */
export const SIOCGIFNAME = 0x8910;
export const SIOCGIFHWADDR = 0x8927;
/** sizeof(struct ifreq) on 64-bit Linux: name[16] then a 24-byte union. */
export const IFREQ_SIZE = 40;
/** sizeof(struct pollfd): int fd, short events, short revents. */
export const POLLFD_SIZE = 8;
/** sizeof(struct sockaddr_ll). */
export const SOCKADDR_LL_SIZE = 20;
/**
 * struct msghdr and struct iovec on 64-bit Linux, as this seam's recvmsg()/sendmsg()
 * build them (one block: up to MAX_IOVECS iovecs right after the msghdr):
 *
 *   msghdr, 56 bytes
 *   0          8         12    16          24        32            40            48      52    56
 *   ┌──────────┬─────────┬─────┬───────────┬─────────┬─────────────┬─────────────┬───────┬─────┐
 *   │ msg_name │ namelen │ pad │ msg_iov   │ iovlen  │ msg_control │ controllen  │ flags │ pad │
 *   │ ptr      │ u32     │     │ ptr ──┐   │ u64 = k │ ptr         │ u64         │ i32   │     │
 *   └──────────┴─────────┴─────┴───────┼───┴─────────┴─────────────┴─────────────┴───────┴─────┘
 *   iovec[0..k), 16 bytes each ◄───────┘
 *   56          64          72          80          88
 *   ┌───────────┬───────────┬───────────┬───────────┬─ ─ ─
 *   │ iov_base  │ iov_len   │ iov_base  │ iov_len   │ ...
 *   │ ptr bufs[0] u64       │ ptr bufs[1] u64       │
 *   └───────────┴───────────┴───────────┴───────────┴─ ─ ─
 */
export const MSGHDR_SIZE = 56;
export const IOVEC_SIZE = 16;
/** Most iovecs one recvmsg()/sendmsg() of this seam takes. */
export const MAX_IOVECS = 4;
/** Bytes of the msghdr + iovecs block. */
export const MSGHDR_BLOCK_SIZE = MSGHDR_SIZE + MAX_IOVECS * IOVEC_SIZE;

/**
 * struct cmsghdr on 64-bit Linux (data follows at 16; each cmsg starts 8-aligned):
 *
 *   0           8            12           16
 *   ┌───────────┬────────────┬────────────┬──────────────────
 *   │ cmsg_len  │ cmsg_level │ cmsg_type  │ data (cmsg_len - 16 bytes)
 *   │ u64       │ i32        │ i32        │
 *   └───────────┴────────────┴────────────┴──────────────────
 */
export const CMSGHDR_SIZE = 16;
/**
 * struct tpacket_auxdata (20 bytes): tp_status u32 @0, tp_len u32 @4, tp_snaplen u32 @8,
 * tp_mac u16 @12, tp_net u16 @14, tp_vlan_tci u16 @16, tp_vlan_tpid u16 @18.
 */
export const TPACKET_AUXDATA_SIZE = 20;

/**
 * Fills the msghdr + iovecs block `hdr` (MSGHDR_BLOCK_SIZE bytes, at address `hdrAddr`)
 * with one iovec per view of `bufs`; `addr` gives a view's address at the moment of the
 * call. Both FFI backends use it, so the layout above is written in one place. Throws a
 * RangeError for 0 or more than MAX_IOVECS views (a caller bug).
 */
export function fillMsghdr(hdr: DataView, addr: (v: Uint8Array) => bigint, hdrAddr: bigint, bufs: readonly Uint8Array[], name: Uint8Array, control: Uint8Array | null): void {
  const k = bufs.length;
  if (k < 1 || k > MAX_IOVECS) throw new RangeError(`msghdr: 1 to ${MAX_IOVECS} buffers (got ${k})`);
  const ptr = (v: Uint8Array): bigint => (v.byteLength > 0 ? addr(v) : 0n);
  hdr.setBigUint64(0, ptr(name), true);
  hdr.setUint32(8, name.byteLength, true);
  hdr.setUint32(12, 0, true);
  hdr.setBigUint64(16, hdrAddr + BigInt(MSGHDR_SIZE), true);
  hdr.setBigUint64(24, BigInt(k), true);
  hdr.setBigUint64(32, control ? ptr(control) : 0n, true);
  hdr.setBigUint64(40, BigInt(control ? control.byteLength : 0), true);
  hdr.setInt32(48, 0, true);
  hdr.setUint32(52, 0, true);
  for (let i = 0; i < k; i++) {
    hdr.setBigUint64(MSGHDR_SIZE + i * IOVEC_SIZE, ptr(bufs[i]), true);
    hdr.setBigUint64(MSGHDR_SIZE + i * IOVEC_SIZE + 8, BigInt(bufs[i].byteLength), true);
  }
}

/** After recvmsg(): msg_namelen, msg_controllen and msg_flags into out[0..3). */
export function readMsghdr(hdr: DataView, out: Uint32Array): void {
  out[0] = hdr.getUint32(8, true);
  out[1] = Number(hdr.getBigUint64(40, true) & 0xffffffffn);
  out[2] = hdr.getUint32(48, true);
}

export interface Libc {
  /** "koffi" on Node, "deno" on Deno. */
  readonly backend: "koffi" | "deno";
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): number;
  /** read(fd, buf, buf.byteLength). */
  read(fd: number, buf: Uint8Array): number;
  /** write(fd, buf, buf.byteLength). */
  write(fd: number, buf: Uint8Array): number;
  /** ioctl(fd, request, arg) with a pointer argument (struct ifreq and the like). */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** ioctl(fd, request, value) with an integer argument (TUNSETPERSIST and the like). */
  ioctlInt(fd: number, request: number, value: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /**
   * recvfrom(fd, buf, buf.byteLength, flags, addr, &addrLen). `addrLen` is a 4-byte
   * view holding the socklen_t in/out value; the caller sets it before each call.
   */
  recvfrom(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array, addrLen: Uint8Array): number;
  /**
   * recvmsg(fd, &msg, flags) scattering into `bufs` (1 to MAX_IOVECS views, one iovec
   * each, filled in order), msg_name = `name` (its byteLength as msg_namelen) and
   * msg_control = `control` (its byteLength as msg_controllen). Returns the byte count
   * (with MSG_TRUNC on a packet socket: the frame's real length, even beyond the
   * buffers) or -errno; `out` (3 or more u32) receives msg_namelen, msg_controllen and
   * msg_flags. Views are passed by address at the moment of the call (no copies): a
   * buffer may be a view of WebAssembly.Memory.
   */
  recvmsg(fd: number, bufs: readonly Uint8Array[], flags: number, name: Uint8Array, control: Uint8Array, out: Uint32Array): number;
  /** sendmsg(fd, &msg, flags) gathering `bufs` (1 to MAX_IOVECS views), msg_name = `name`, no control data. */
  sendmsg(fd: number, bufs: readonly Uint8Array[], flags: number, name: Uint8Array): number;
  /** sendto(fd, buf, buf.byteLength, flags, addr, addr.byteLength). */
  sendto(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array): number;
  eventfd(initval: number, flags: number): number;
  setns(fd: number, nstype: number): number;
  /** if_nametoindex(name): 0 when there is no such interface. */
  ifNameToIndex(name: string): number;
  /** poll(fds, nfds, timeoutMs) on the JS thread: use only with timeoutMs = 0. */
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  /** poll(fds, nfds, timeoutMs) on a worker thread; resolves with poll's result or -errno. */
  pollAsync(fds: Uint8Array, nfds: number, timeoutMs: number): Promise<number>;
}

/** Copies `s` into a fresh NUL-terminated byte string. */
export function cString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Short names for the errno values the drivers report. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 5: "EIO", 6: "ENXIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
  16: "EBUSY", 19: "ENODEV", 22: "EINVAL", 24: "EMFILE", 90: "EMSGSIZE", 93: "EPROTONOSUPPORT",
  77: "EBADFD", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT", 100: "ENETDOWN", 105: "ENOBUFS",
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** An error carrying a Node-style `code` ("EPERM", ...) and the failed call's name. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail = "") {
    const code = errnoName(errno);
    super(`${syscall}${detail ? " " + detail : ""} failed: ${code}`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Throws a SysError when `ret` is -errno; returns `ret` otherwise. */
export function check(ret: number, syscall: string, detail = ""): number {
  if (ret < 0) throw new SysError(syscall, -ret, detail);
  return ret;
}

let cached: Promise<Libc> | null = null;

/**
 * Loads libc through the runtime's FFI (once per process). Rejects with a clear message
 * when FFI is unavailable (koffi missing, Deno without --allow-ffi, not Linux).
 */
export function loadLibc(): Promise<Libc> {
  if (!cached) {
    // deno-lint-ignore no-explicit-any
    const g = globalThis as any;
    cached = (g.Deno ? import("./ffi-deno.ts") : import("./ffi-node.ts")).then((m) => m.openLibc());
    cached.catch(() => { cached = null; });
  }
  return cached;
}

/** Resolves to null when libc can be loaded, or to the reason it cannot (for test skips). */
export async function ffiUnavailableReason(): Promise<string | null> {
  try {
    await loadLibc();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
