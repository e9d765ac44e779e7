// AF_PACKET link: a raw packet socket bound to one interface (a veth end, a NIC).
//
//   fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)    protocol 0: receives nothing yet
//   setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)                 Linux >= 4.20; also checked per frame
//   bind(fd, sockaddr_ll{ AF_PACKET, htons(ETH_P_ALL), ifindex })         from here on: this interface only
//   recvfrom(fd, slot, MSG_DONTWAIT | MSG_TRUNC, &from) until EAGAIN      from.sll_pkttype == PACKET_OUTGOING → skip
//   sendto(fd, frame, 0, &sockaddr_ll)                                     one whole frame
//
// Opening with protocol 0 and binding with ETH_P_ALL (instead of socket(..., ETH_P_ALL))
// keeps frames of other interfaces out of the queue in the window before bind().
// Frames are read and written one per call (recvmmsg/sendmmsg would need raw addresses
// of the slots; see docs/links.md). The socket belongs to the network namespace of the
// thread that creates it: open it inside a namespace with netns.ts's withinNetns().
//
// struct sockaddr_ll (20 bytes):
//
//   0        2          4            8         10        11       12               20
//   ┌────────┬──────────┬────────────┬─────────┬─────────┬────────┬────────────────┐
//   │ family │ protocol │ ifindex    │ hatype  │ pkttype │ halen  │ addr[8]        │
//   │ u16 LE │ u16 BE   │ i32 LE     │ u16     │ u8      │ u8     │                │
//   └────────┴──────────┴────────────┴─────────┴─────────┴────────┴────────────────┘
//
// struct packet_mreq (16 bytes): mr_ifindex i32 @0, mr_type u16 @4, mr_alen u16 @6, mr_address[8] @8.
// struct ifreq for SIOCGIFHWADDR: name[16] @0, ifr_hwaddr (sa_family u16 @16, sa_data @18: the MAC).

import {
  AF_PACKET, check, EAGAIN, ENOBUFS, ETH_P_ALL, type Libc, loadLibc, MSG_DONTWAIT, MSG_TRUNC,
  PACKET_ADD_MEMBERSHIP, PACKET_IGNORE_OUTGOING, PACKET_MR_PROMISC, PACKET_OUTGOING, SIOCGIFHWADDR,
  SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOCKADDR_LL_SIZE, SOL_PACKET, SysError,
} from "../runtime/ffi.ts";
import { FdWaiter } from "./fdwait.ts";
import { checkMac, checkMtu, LinkBase } from "./link.ts";
import { ifreqWithName, interfaceMtu } from "./tap.ts";

export interface PacketOptions {
  /** Interface to bind to. */
  ifname: string;
  /** The stack's MAC (default: the interface's own MAC). A different MAC needs promiscuous. */
  mac?: Uint8Array | string;
  /** Put the interface in promiscuous mode for this socket (default: true when mac is given). */
  promiscuous?: boolean;
  /** The MTU the stack assumes (default: the interface's). */
  mtu?: number;
  libc?: Libc;
}

/** Extra counters of the AF_PACKET link. */
export interface PacketStats {
  /** Frames the socket saw leaving the interface (our own, or the kernel's), skipped. */
  rxOutgoingSkipped: number;
}

export class PacketLink extends LinkBase {
  readonly kind = "packet";
  private readonly waiter: FdWaiter;
  private readonly from = new Uint8Array(SOCKADDR_LL_SIZE);
  private readonly fromLen = new Uint8Array(4);
  private readonly fromLenView = new DataView(this.fromLen.buffer);
  private closing: Promise<void> | null = null;
  outgoingSkipped = 0;

  private constructor(
    private readonly libc: Libc,
    private readonly fd: number,
    readonly name: string,
    readonly ifindex: number,
    readonly mtu: number,
    readonly mac: Uint8Array,
    /** sockaddr_ll used as the destination of sendto. */
    private readonly to: Uint8Array,
  ) {
    super();
    this.waiter = new FdWaiter(libc, fd);
  }

  /** Opens a raw socket on `ifname`. Needs CAP_NET_RAW. */
  static async open(options: PacketOptions): Promise<PacketLink> {
    const libc = options.libc ?? (await loadLibc());
    return PacketLink.openSync(libc, options);
  }

  /** The synchronous core of open(), usable inside withinNetns(). */
  static openSync(libc: Libc, options: PacketOptions): PacketLink {
    const ifr = ifreqWithName(options.ifname);
    if (options.mtu !== undefined) checkMtu(options.mtu);
    const givenMac = options.mac !== undefined ? checkMac(options.mac) : null;
    const ifindex = libc.ifNameToIndex(options.ifname);
    if (ifindex === 0) throw new SysError("if_nametoindex", 19, options.ifname);
    const fd = check(libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket(AF_PACKET)");
    try {
      const one = new Uint8Array(4);
      new DataView(one.buffer).setInt32(0, 1, true);
      libc.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one); // best effort: pkttype is checked anyway

      const sll = new Uint8Array(SOCKADDR_LL_SIZE);
      const sv = new DataView(sll.buffer);
      sv.setUint16(0, AF_PACKET, true);
      sv.setUint16(2, ETH_P_ALL, false); // network byte order
      sv.setInt32(4, ifindex, true);
      check(libc.bind(fd, sll), "bind(AF_PACKET)", options.ifname);

      check(libc.ioctl(fd, SIOCGIFHWADDR, ifr), "ioctl(SIOCGIFHWADDR)", options.ifname);
      const ifMac = ifr.slice(18, 24);
      const mac = givenMac ?? checkMac(ifMac, `MAC of ${options.ifname}`);
      if (options.promiscuous ?? givenMac !== null) {
        const mreq = new Uint8Array(16);
        const mv = new DataView(mreq.buffer);
        mv.setInt32(0, ifindex, true);
        mv.setUint16(4, PACKET_MR_PROMISC, true);
        check(libc.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq), "setsockopt(PACKET_ADD_MEMBERSHIP)", options.ifname);
      }
      let mtu = options.mtu;
      if (mtu === undefined) {
        const m = interfaceMtu(libc, options.ifname);
        mtu = m >= 68 ? m : 1500;
      }
      // Destination for sendto: the bound interface; the frame carries its own MACs.
      const to = new Uint8Array(SOCKADDR_LL_SIZE);
      const tv = new DataView(to.buffer);
      tv.setUint16(0, AF_PACKET, true);
      tv.setUint16(2, ETH_P_ALL, false);
      tv.setInt32(4, ifindex, true);
      tv.setUint8(11, 6);
      return new PacketLink(libc, fd, options.ifname, ifindex, mtu, mac, to);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  override stats(): ReturnType<LinkBase["stats"]> & PacketStats {
    return { ...this.counters, rxOutgoingSkipped: this.outgoingSkipped };
  }

  protected readFrame(slot: Uint8Array): number {
    // Bounded: at most 256 skipped frames per call; the next call (or poll) sees the rest.
    for (let i = 0; i < 256; i++) {
      this.fromLenView.setUint32(0, SOCKADDR_LL_SIZE, true);
      const n = this.libc.recvfrom(this.fd, slot, MSG_DONTWAIT | MSG_TRUNC, this.from, this.fromLen);
      if (n < 0) {
        if (n !== -EAGAIN) this.counters.rxErrors++;
        return 0;
      }
      if (this.from[10] === PACKET_OUTGOING) {
        this.outgoingSkipped++;
        continue;
      }
      if (n > slot.byteLength) {
        // MSG_TRUNC reports the real length: the frame did not fit (bigger than the MTU).
        this.counters.rxDropped++;
        continue;
      }
      if (n > 0) return n;
    }
    return 0;
  }

  protected writeFrame(frame: Uint8Array): boolean {
    const n = this.libc.sendto(this.fd, frame, 0, this.to);
    if (n === frame.byteLength) return true;
    if (n >= 0 || (n !== -EAGAIN && n !== -ENOBUFS)) this.counters.txErrors++;
    return false;
  }

  waitReadable(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    return this.waiter.wait(timeoutMs);
  }

  interrupt(): void {
    this.waiter.interrupt();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.isClosed = true;
      this.closing = this.waiter.close().then(() => {
        const r = this.libc.close(this.fd);
        if (r < 0) throw new SysError("close", -r, this.name);
      });
    }
    return this.closing;
  }
}
