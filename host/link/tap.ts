// TAP link: a Linux TAP device opened through /dev/net/tun (SPEC §8).
//
//   fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
//   ioctl(fd, TUNSETIFF, &ifr)       ifr.name = the device name, ifr.flags = IFF_TAP | IFF_NO_PI
//   read(fd, slot)  → one whole Ethernet frame, or EAGAIN when none is pending
//   write(fd, frame) → one whole frame to the kernel
//
// The device lives as long as the fd (it disappears on close, unless someone made it
// persistent), in the network namespace of the thread that opened it: open it inside
// a test namespace with netns.ts's withinNetns(). The kernel side of the device (its
// address, MTU, up/down) is configured with `ip`; the stack's side is this fd.
//
// When the device goes away under an open fd (`ip link del`, its namespace deleted),
// the file stays open but is detached: read and write fail with EBADFD and poll
// reports POLLERR for ever. That error is permanent: the link fails (link.failure) and
// the tick loop stops the stack. A device that is only down (`ip link set down`) makes
// write fail with EIO and read see nothing; that passes when it comes up again and is
// only counted (txErrors).
//
// struct ifreq as used by TUNSETIFF, SIOCGIFMTU (40 bytes on 64-bit Linux):
//
//   0                16       18                                   40
//   ┌────────────────┬────────┬────────────────────────────────────┐
//   │ ifr_name[16]   │ flags  │ (rest of the union, unused)        │
//   │ NUL-terminated │ u16 LE │ SIOCGIFMTU: ifr_mtu i32 @16        │
//   └────────────────┴────────┴────────────────────────────────────┘

import {
  AF_INET, check, EAGAIN, IFF_NO_PI, IFF_TAP, IFREQ_SIZE, type Libc, loadLibc, O_CLOEXEC, O_NONBLOCK, O_RDWR,
  SIOCGIFMTU, SOCK_CLOEXEC, SOCK_DGRAM, TUNSETIFF, TUNSETPERSIST,
} from "../runtime/ffi.ts";
import { runtime } from "../runtime/index.ts";
import { FdLinkBase } from "./fdwait.ts";
import { checkMac, checkMtu, localMac } from "./link.ts";

export interface TapOptions {
  /** Device name, at most 15 bytes; "tap%d" lets the kernel pick a number. */
  name: string;
  /** The stack's MAC on this link (default: a random locally administered one). */
  mac?: Uint8Array | string;
  /** The MTU the stack assumes (default: the device's MTU as the kernel reports it). */
  mtu?: number;
  /**
   * Make the device persistent (TUNSETPERSIST): it outlives this link and can be
   * attached to again by name; TapLink.removePersistent() deletes it. Default false.
   */
  persist?: boolean;
  /** Use this libc (default: loadLibc()). */
  libc?: Libc;
}

/** Writes a NUL-terminated interface name into ifreq bytes 0..15; throws if too long or empty. */
export function ifreqWithName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length > 15 || bytes.includes(0) || /[\s/]/.test(name)) {
    throw new RangeError(`interface name "${name}" must be 1 to 15 bytes, without spaces, "/" or NUL`);
  }
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(bytes);
  return ifr;
}

export function ifreqName(ifr: Uint8Array): string {
  const end = ifr.subarray(0, 16).indexOf(0);
  return new TextDecoder().decode(ifr.subarray(0, end < 0 ? 16 : end));
}

/** The MTU of interface `name` in the calling thread's namespace, or -errno. */
export function interfaceMtu(libc: Libc, name: string): number {
  const s = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return s;
  try {
    const ifr = ifreqWithName(name);
    const r = libc.ioctl(s, SIOCGIFMTU, ifr);
    return r < 0 ? r : new DataView(ifr.buffer).getInt32(16, true);
  } finally {
    libc.close(s);
  }
}

export class TapLink extends FdLinkBase {
  readonly kind = "tap";

  private constructor(
    libc: Libc,
    fd: number,
    readonly name: string,
    readonly mtu: number,
    readonly mac: Uint8Array,
  ) {
    super(libc, fd);
  }

  /** Creates (or attaches to) a TAP device. Needs CAP_NET_ADMIN. */
  static async open(options: TapOptions): Promise<TapLink> {
    const libc = options.libc ?? (await loadLibc());
    return TapLink.openSync(libc, options);
  }

  /**
   * The synchronous core of open(), for use inside netns.ts's withinNetns(), where
   * nothing may be awaited while the thread sits in the other namespace.
   */
  static openSync(libc: Libc, options: TapOptions): TapLink {
    const ifr = ifreqWithName(options.name);
    const mac = checkMac(options.mac ?? localMac(runtime.randomBytes(6)));
    if (options.mtu !== undefined) checkMtu(options.mtu);
    const fd = check(libc.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), "open", "/dev/net/tun");
    try {
      new DataView(ifr.buffer).setUint16(16, IFF_TAP | IFF_NO_PI, true);
      check(libc.ioctl(fd, TUNSETIFF, ifr), "ioctl(TUNSETIFF)", options.name);
      const name = ifreqName(ifr);
      if (options.persist) check(libc.ioctlInt(fd, TUNSETPERSIST, 1), "ioctl(TUNSETPERSIST)", name);
      let mtu = options.mtu;
      if (mtu === undefined) {
        const m = interfaceMtu(libc, name);
        mtu = m >= 68 ? m : 1500;
      }
      return new TapLink(libc, fd, name, mtu, mac);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  /**
   * Deletes a persistent TAP device `name` (in the calling thread's namespace): attaches
   * to it, clears TUNSETPERSIST, and closes, which removes it.
   */
  static removePersistent(libc: Libc, name: string): void {
    const ifr = ifreqWithName(name);
    new DataView(ifr.buffer).setUint16(16, IFF_TAP | IFF_NO_PI, true);
    const fd = check(libc.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), "open", "/dev/net/tun");
    try {
      check(libc.ioctl(fd, TUNSETIFF, ifr), "ioctl(TUNSETIFF)", name);
      check(libc.ioctlInt(fd, TUNSETPERSIST, 0), "ioctl(TUNSETPERSIST)", name);
    } finally {
      libc.close(fd);
    }
  }

  protected readFrame(slot: Uint8Array): number {
    // Bounded: each pass consumes one frame from the device queue.
    for (let i = 0; i < 64; i++) {
      const n = this.libc.read(this.fd, slot);
      if (n <= 0) {
        if (n < 0 && n !== -EAGAIN) {
          // EBADFD: the device was deleted (ip link del) and the file is detached from it.
          this.counters.rxErrors++;
          this.deviceError("read", -n);
        }
        return 0;
      }
      // tun(4) truncates a frame longer than the buffer to the buffer's size and says
      // nothing. An untagged frame within our MTU is at most mtu + 14 < maxFrameLen <=
      // slot length, so a read that fills the slot is a frame from a larger kernel-side
      // MTU, cut short: drop it rather than hand the stack a truncated frame.
      if (n < slot.byteLength) return n;
      this.counters.rxDropped++;
    }
    return 0;
  }

  protected writeFrame(frame: Uint8Array): boolean {
    const n = this.libc.write(this.fd, frame);
    return this.wrote(n, frame.byteLength);
  }

}
