// AF_PACKET link: a raw packet socket bound to one interface (a veth end, a NIC).
//
//   fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)    protocol 0: receives nothing yet
//   setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)                 Linux >= 4.20; also checked per frame
//   setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, 1)                         a tpacket_auxdata per frame (checksum state)
//   setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1)                        a virtio_net_hdr before each frame (GSO info)
//   bind(fd, sockaddr_ll{ AF_PACKET, htons(ETH_P_ALL), ifindex })         from here on: this interface only
//   recvmsg(fd, [vnetIn | slot | spill], &from, control,                  until EAGAIN; from.sll_pkttype == PACKET_OUTGOING → skip
//           MSG_DONTWAIT | MSG_TRUNC)
//   sendmsg(fd, [zero vnet header | frame], &sockaddr_ll)                 one whole frame (sendto without PACKET_VNET_HDR)
//
// The receive iovecs: the 10-byte virtio_net_hdr goes to its own buffer, the frame
// straight into the RX slot (no copy), and only what does not fit the slot (a
// super-frame) into a 64 KiB spill buffer behind it:
//
//   iov[0] vnetIn (10)   iov[1] slot (WASM memory, >= maxFrameLen)   iov[2] spill (65554)
//   ┌────────────────┐   ┌──────────────────────────────────────┐   ┌────────────────────┐
//   │ virtio_net_hdr │   │ frame bytes 0 .. slot.byteLength     │   │ the rest, if any   │
//   └────────────────┘   └──────────────────────────────────────┘   └────────────────────┘
//
// Opening with protocol 0 and binding with ETH_P_ALL (instead of socket(..., ETH_P_ALL))
// keeps frames of other interfaces out of the queue in the window before bind().
// Frames are read and written one per call (recvmmsg/sendmmsg: see docs/links.md). The
// socket belongs to the network namespace of the thread that creates it: open it inside
// a namespace with netns.ts's withinNetns().
//
// A deleted interface (`ip link del`, its namespace gone): the socket reports ENETDOWN
// once on receive (POLLERR), and every send fails with ENXIO. Both fail the link
// (link.failure, code ENODEV or ENXIO) and the tick loop stops the stack; an ENETDOWN
// is told apart from a merely down interface (which comes back) by looking the bound
// interface index up (SIOCGIFNAME on the socket, in its own namespace).
//
// Checksum offload. A frame the local kernel sends on a veth (or any device with TX
// checksum offload) is handed to packet sockets on the peer before any checksum was
// computed: its TCP/UDP checksum field holds only the pseudo-header sum
// (CHECKSUM_PARTIAL), and tpacket_auxdata.tp_status has TP_STATUS_CSUMNOTREADY. The
// core checks every checksum strictly and would drop such a frame. So for these frames
// (and only these) the link completes the checksum in place, in the slot, before the
// module sees the frame: it computes the IPv4 TCP/UDP checksum afresh (RFC 1071 over the
// pseudo-header and the segment, RFC 793/768; UDP's 0 sent as 0xffff). Nothing is lost:
// such a frame never crossed a wire, there is no transmitted checksum to verify. Counted
// in stats().rxCsumNotReady / rxCsumCompleted. Option `checksumNotReady: "keep"` hands
// them on untouched instead (tests use it to see the partial checksum).
//
// Super-frames. With TSO/GSO on the sending end (veth default) or GRO on the receiving
// one, the kernel hands a packet socket one skb holding many MSS of TCP payload (up to
// 64 KiB) behind one set of headers. Without help such a frame is longer than any slot
// and was dropped. The virtio_net_hdr says what it is (gso_type TCPv4, gso_size); the
// link copies it whole into a TcpSegmenter and hands it on as the segments a real wire
// would have carried (at most gso_size payload bytes and mtu + 14 bytes each), one per
// receiveInto call, each with fresh IPv4 and TCP checksums. Super-frames of other kinds
// (UDP GSO, IPv6) are dropped and counted (rxGsoDropped). Counted in rxGsoFrames /
// rxGsoSegments. Option `vnetHdr: false` turns this off.
//
// struct sockaddr_ll (20 bytes):
//
//   0        2          4            8         10        11       12               20
//   ┌────────┬──────────┬────────────┬─────────┬─────────┬────────┬────────────────┐
//   │ family │ protocol │ ifindex    │ hatype  │ pkttype │ halen  │ addr[8]        │
//   │ u16 LE │ u16 BE   │ i32 LE     │ u16     │ u8      │ u8     │                │
//   └────────┴──────────┴────────────┴─────────┴─────────┴────────┴────────────────┘
//
// Control data of one frame (struct cmsghdr + struct tpacket_auxdata, 64-bit Linux):
//
//   0           8            12           16          20       24           28        30       32     34      36
//   ┌───────────┬────────────┬────────────┬───────────┬────────┬────────────┬─────────┬────────┬──────┬───────┐
//   │ cmsg_len  │ cmsg_level │ cmsg_type  │ tp_status │ tp_len │ tp_snaplen │ tp_mac  │ tp_net │ vlan │ vlan  │
//   │ u64 = 36  │ SOL_PACKET │ AUXDATA(8) │ u32       │ u32    │ u32        │ u16     │ u16    │ tci  │ tpid  │
//   └───────────┴────────────┴────────────┴───────────┴────────┴────────────┴─────────┴────────┴──────┴───────┘
//   the next cmsg, if any, starts at the next multiple of 8
//
// struct packet_mreq (16 bytes): mr_ifindex i32 @0, mr_type u16 @4, mr_alen u16 @6, mr_address[8] @8.
// struct ifreq for SIOCGIFHWADDR: name[16] @0, ifr_hwaddr (sa_family u16 @16, sa_data @18: the MAC).

import {
  AF_PACKET, check, CMSGHDR_SIZE, EAGAIN, ENETDOWN, ENODEV, ETH_P_ALL, IFREQ_SIZE, type Libc, loadLibc, MSG_DONTWAIT, MSG_TRUNC,
  PACKET_ADD_MEMBERSHIP, PACKET_AUXDATA, PACKET_IGNORE_OUTGOING, PACKET_MR_PROMISC, PACKET_OUTGOING, PACKET_VNET_HDR,
  SIOCGIFHWADDR, SIOCGIFNAME, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOCKADDR_LL_SIZE, SOL_PACKET, SysError, TP_STATUS_CSUMNOTREADY,
  TPACKET_AUXDATA_SIZE, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_LEN,
} from "../runtime/ffi.ts";
import { FdLinkBase } from "./fdwait.ts";
import { checkMac, checkMtu, type LinkStats } from "./link.ts";
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
  /**
   * Frames whose TCP/UDP checksum the kernel left for offload (TP_STATUS_CSUMNOTREADY):
   * "complete" computes it in place before handing the frame on (default), "keep"
   * hands them on as they are (segments cut from a super-frame always get full checksums).
   */
  checksumNotReady?: "complete" | "keep";
  /** Turn PACKET_VNET_HDR on to receive super-frames as segments (default true; false: they are dropped as too long). */
  vnetHdr?: boolean;
  libc?: Libc;
}

/** Extra counters of the AF_PACKET link. */
export interface PacketStats {
  /** Frames the socket saw leaving the interface (our own, or the kernel's), skipped. */
  rxOutgoingSkipped: number;
  /** Frames the kernel flagged TP_STATUS_CSUMNOTREADY (checksum left to offload). */
  rxCsumNotReady: number;
  /** Of those, frames whose IPv4 TCP/UDP checksum the link completed. */
  rxCsumCompleted: number;
  /** Super-frames (TSO/GSO/GRO, virtio_net_hdr gso_type TCPv4) received, and the segments cut from them. */
  rxGsoFrames: number;
  rxGsoSegments: number;
  /** Super-frames of another kind (UDP, IPv6) or that did not parse: dropped (also in rxDropped). */
  rxGsoDropped: number;
  /** PACKET_AUXDATA is on (false: setsockopt refused it; checksum state unknown). */
  auxdata: boolean;
  /** PACKET_VNET_HDR is on (false: refused; super-frames are then too long and dropped). */
  vnetHdr: boolean;
}

/**
 * tp_status of the tpacket_auxdata in `control[0..controlLen)` (layout above), or -1 when
 * there is none. Walks the cmsgs with every length checked: never reads past controlLen,
 * never loops on a zero length.
 */
export function auxdataStatus(control: Uint8Array, controlLen: number): number {
  const end = Math.min(controlLen, control.byteLength);
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let off = 0;
  while (off + CMSGHDR_SIZE <= end) {
    const hi = v.getUint32(off + 4, true);
    const len = v.getUint32(off, true);
    if (hi !== 0 || len < CMSGHDR_SIZE || off + len > end) return -1;
    if (v.getInt32(off + 8, true) === SOL_PACKET && v.getInt32(off + 12, true) === PACKET_AUXDATA && len >= CMSGHDR_SIZE + TPACKET_AUXDATA_SIZE) {
      return v.getUint32(off + CMSGHDR_SIZE, true);
    }
    off += (len + 7) & ~7; // CMSG_ALIGN: 8 on 64-bit Linux
  }
  return -1;
}

/**
 * Computes the TCP or UDP checksum of the Ethernet II / IPv4 frame in frame[0..len) and
 * writes it in place (RFC 1071 sum over the pseudo-header and the segment, RFC 793 §3.1,
 * RFC 768; a UDP result of 0 is sent as 0xffff). Returns false, leaving the frame
 * untouched, for anything else: not IPv4, a header that does not check out (version,
 * IHL, total length within the frame), a fragment, another protocol, a segment shorter
 * than its header. Never throws, never reads past `len`.
 */
export function completeL4Checksum(frame: Uint8Array, len: number): boolean {
  if (len > frame.byteLength) len = frame.byteLength;
  const ip = 14;
  if (len < ip + 20 || frame[12] !== 0x08 || frame[13] !== 0x00) return false;
  const vihl = frame[ip];
  const ihl = (vihl & 0x0f) * 4;
  const total = (frame[ip + 2] << 8) | frame[ip + 3];
  if (vihl >>> 4 !== 4 || ihl < 20 || total < ihl || ip + total > len) return false;
  if ((((frame[ip + 6] << 8) | frame[ip + 7]) & 0x3fff) !== 0) return false; // MF or an offset: a fragment
  const proto = frame[ip + 9];
  const l4 = ip + ihl;
  const l4len = total - ihl;
  let field: number;
  if (proto === 6 && l4len >= 20) field = l4 + 16;
  else if (proto === 17 && l4len >= 8) field = l4 + 6;
  else return false;
  frame[field] = 0;
  frame[field + 1] = 0;
  // Pseudo-header: source, destination, zero + protocol, segment length.
  let sum = proto + l4len;
  for (let i = ip + 12; i < ip + 20; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  const end = l4 + l4len;
  let i = l4;
  for (; i + 1 < end; i += 2) sum += (frame[i] << 8) | frame[i + 1];
  if (i < end) sum += frame[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let c = ~sum & 0xffff;
  if (c === 0 && proto === 17) c = 0xffff;
  frame[field] = c >>> 8;
  frame[field + 1] = c & 0xff;
  return true;
}

/**
 * Cuts an Ethernet II / IPv4 / TCP super-frame (what TSO/GSO or GRO leaves in one skb:
 * one set of headers, up to 64 KiB of payload) into segments of at most `mss` payload
 * bytes, the way the kernel's tcp_gso_segment would before a real wire:
 *
 *   super-frame:  [eth|ip|tcp| payload 0 .......................................... P )
 *   segment k:    [eth|ip'|tcp'| payload [k·mss, min((k+1)·mss, P)) ]
 *     ip'   total length = ihl + thl + chunk, identification = id + k (mod 2^16), header
 *           checksum recomputed (RFC 791 §3.1)
 *     tcp'  sequence number = seq + k·mss (RFC 793 §3.3 arithmetic mod 2^32); FIN and PSH
 *           only on the last segment, CWR only on the first (RFC 3168 §6.1.2); checksum
 *           computed over the pseudo-header and the segment (RFC 793 §3.1)
 *
 * load() checks the frame once (IPv4, IHL, TCP data offset, lengths within the frame, not
 * a fragment); next() then cannot read or write out of bounds.
 */
export class TcpSegmenter {
  /** The super-frame being cut (the caller copies it in before load()). */
  readonly buf: Uint8Array;
  private loaded = false;
  private hdrLen = 0;
  private ihl = 0;
  /** Payload bytes in all, and how many were cut off already. */
  private payload = 0;
  private off = 0;
  private k = 0;
  private mss = 0;
  private seq = 0;
  private id = 0;
  private flags = 0;

  constructor(capacity = 65536 + 18) {
    this.buf = new Uint8Array(capacity);
  }

  /** True while segments remain. */
  get active(): boolean {
    return this.loaded && (this.off < this.payload || this.k === 0);
  }

  /**
   * Prepares to cut buf[0..len) into segments of at most `mss` payload bytes (0: no
   * limit of its own) and at most `maxLen` bytes each; false when it is not an IPv4/TCP
   * frame or no payload byte would fit.
   */
  load(len: number, mss: number, maxLen: number): boolean {
    this.loaded = false;
    const f = this.buf;
    if (!(len <= f.byteLength)) return false;
    const ip = 14;
    if (len < ip + 20 || f[12] !== 0x08 || f[13] !== 0x00) return false;
    const ihl = (f[ip] & 0x0f) * 4;
    const total = (f[ip + 2] << 8) | f[ip + 3];
    if (f[ip] >>> 4 !== 4 || ihl < 20 || f[ip + 9] !== 6 || ip + total > len) return false;
    if ((((f[ip + 6] << 8) | f[ip + 7]) & 0x3fff) !== 0) return false; // a fragment
    if (total < ihl + 20) return false;
    const tcp = ip + ihl;
    const thl = (f[tcp + 12] >>> 4) * 4;
    if (thl < 20 || ihl + thl > total) return false;
    this.ihl = ihl;
    this.hdrLen = tcp + thl;
    this.payload = total - ihl - thl;
    this.off = 0;
    this.k = 0;
    const fit = Math.floor(maxLen) - this.hdrLen;
    this.mss = mss >= 1 && mss < fit ? Math.floor(mss) : fit;
    if (!(this.mss >= 1)) return false;
    this.seq = ((f[tcp + 4] << 24) | (f[tcp + 5] << 16) | (f[tcp + 6] << 8) | f[tcp + 7]) >>> 0;
    this.id = (f[ip + 4] << 8) | f[ip + 5];
    this.flags = f[tcp + 13];
    this.loaded = true;
    return true;
  }

  /** Writes the next segment into `slot`; returns its length, 0 when none is left (or it does not fit: the rest is dropped). */
  next(slot: Uint8Array): number {
    if (!this.active) return 0;
    const f = this.buf;
    const h = this.hdrLen;
    const chunk = Math.min(this.mss, this.payload - this.off);
    const len = h + chunk;
    if (len > slot.byteLength) {
      this.loaded = false;
      return 0;
    }
    slot.set(f.subarray(0, h), 0);
    slot.set(f.subarray(h + this.off, h + this.off + chunk), h);
    const last = this.off + chunk >= this.payload;
    const ip = 14;
    const tcp = ip + this.ihl;
    const total = len - ip;
    slot[ip + 2] = total >>> 8;
    slot[ip + 3] = total & 0xff;
    const id = (this.id + this.k) & 0xffff;
    slot[ip + 4] = id >>> 8;
    slot[ip + 5] = id & 0xff;
    slot[ip + 10] = 0;
    slot[ip + 11] = 0;
    let sum = 0;
    for (let i = ip; i < tcp; i += 2) sum += (slot[i] << 8) | slot[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    slot[ip + 10] = c >>> 8;
    slot[ip + 11] = c & 0xff;
    const seq = (this.seq + this.off) >>> 0;
    slot[tcp + 4] = seq >>> 24;
    slot[tcp + 5] = (seq >>> 16) & 0xff;
    slot[tcp + 6] = (seq >>> 8) & 0xff;
    slot[tcp + 7] = seq & 0xff;
    let fl = this.flags;
    if (!last) fl &= ~(0x01 | 0x08); // FIN, PSH: last segment only
    if (this.k > 0) fl &= ~0x80; // CWR: first segment only
    slot[tcp + 13] = fl;
    completeL4Checksum(slot, len);
    this.off += chunk;
    this.k++;
    if (!this.active) this.loaded = false;
    return len;
  }
}

export class PacketLink extends FdLinkBase {
  readonly kind = "packet";
  // recvmsg's buffers live in ArrayBuffers of their own (outside the JS heap): the FFI
  // passes their addresses inside the msghdr.
  private readonly from = new Uint8Array(new ArrayBuffer(SOCKADDR_LL_SIZE));
  private readonly fromLen = new Uint8Array(4);
  private readonly fromLenView = new DataView(this.fromLen.buffer);
  /** Room for the tpacket_auxdata cmsg (40 bytes aligned) and one more. */
  private readonly control = new Uint8Array(new ArrayBuffer(128));
  private readonly msgOut = new Uint32Array(3);
  /** The virtio_net_hdr of the frame just read, and an all-zero one for sends (gso_type NONE, no flags). */
  private readonly vnetIn = new Uint8Array(new ArrayBuffer(VIRTIO_NET_HDR_LEN));
  private readonly vnetOut = new Uint8Array(new ArrayBuffer(VIRTIO_NET_HDR_LEN));
  /** Where the rest of a frame longer than the slot lands (a super-frame: up to 64 KiB). */
  private readonly spill: Uint8Array;
  /** recvmsg's iovecs: [vnetIn, slot, spill] (vnetHdr) or [slot]; the slot is set per call. */
  private readonly rxIov: Uint8Array[];
  private readonly txIov: Uint8Array[];
  private readonly segmenter: TcpSegmenter | null;
  outgoingSkipped = 0;
  csumNotReady = 0;
  csumCompleted = 0;
  gsoFrames = 0;
  gsoSegments = 0;
  gsoDropped = 0;

  private constructor(
    libc: Libc,
    fd: number,
    readonly name: string,
    readonly ifindex: number,
    readonly mtu: number,
    readonly mac: Uint8Array,
    /** sockaddr_ll used as the destination of sendto. */
    private readonly to: Uint8Array,
    /** PACKET_AUXDATA is on: frames are read with recvmsg and their tp_status checked. */
    readonly auxdata: boolean,
    /** PACKET_VNET_HDR is on: a virtio_net_hdr precedes every frame read and written. */
    readonly vnetHdr: boolean,
    private readonly completeChecksums: boolean,
  ) {
    super(libc, fd);
    this.spill = new Uint8Array(new ArrayBuffer(vnetHdr ? 65536 + 18 : 0));
    this.rxIov = vnetHdr ? [this.vnetIn, this.spill, this.spill] : [this.spill];
    this.txIov = [this.vnetOut, this.vnetOut];
    this.segmenter = vnetHdr ? new TcpSegmenter(65536 + 18 + 4096) : null;
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
    const csumMode = options.checksumNotReady ?? "complete";
    if (csumMode !== "complete" && csumMode !== "keep") throw new TypeError(`checksumNotReady must be "complete" or "keep" (got ${String(csumMode)})`);
    const ifindex = libc.ifNameToIndex(options.ifname);
    if (ifindex === 0) throw new SysError("if_nametoindex", 19, options.ifname);
    const fd = check(libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket(AF_PACKET)");
    try {
      const one = new Uint8Array(4);
      new DataView(one.buffer).setInt32(0, 1, true);
      libc.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one); // best effort: pkttype is checked anyway
      // Linux >= 2.6.21; without it frames are read with recvfrom and their checksum state is unknown.
      const auxdata = libc.setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, one) === 0;
      // Linux >= 3.5 (best effort too): tells super-frames (TSO/GSO/GRO) and their segment size.
      const vnetHdr = options.vnetHdr !== false && libc.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one) === 0;

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
      return new PacketLink(libc, fd, options.ifname, ifindex, mtu, mac, to, auxdata, vnetHdr, csumMode === "complete");
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  override stats(): LinkStats & PacketStats {
    return {
      ...this.counters, rxOutgoingSkipped: this.outgoingSkipped,
      rxCsumNotReady: this.csumNotReady, rxCsumCompleted: this.csumCompleted,
      rxGsoFrames: this.gsoFrames, rxGsoSegments: this.gsoSegments, rxGsoDropped: this.gsoDropped,
      auxdata: this.auxdata, vnetHdr: this.vnetHdr,
    };
  }

  protected readFrame(slot: Uint8Array): number {
    // The rest of a super-frame first: one segment per call.
    const seg = this.segmenter;
    if (seg?.active) {
      const n = seg.next(slot);
      if (n > 0) {
        this.gsoSegments++;
        return n;
      }
    }
    // Bounded: at most 256 skipped frames per call; the next call (or poll) sees the rest.
    for (let i = 0; i < 256; i++) {
      let n: number;
      if (this.vnetHdr) {
        this.rxIov[1] = slot;
        n = this.libc.recvmsg(this.fd, this.rxIov, MSG_DONTWAIT | MSG_TRUNC, this.from, this.control, this.msgOut);
        // The byte count includes the virtio_net_hdr in front of the frame.
        if (n >= 0) n = n >= VIRTIO_NET_HDR_LEN ? n - VIRTIO_NET_HDR_LEN : 0;
      } else if (this.auxdata) {
        this.rxIov[0] = slot;
        n = this.libc.recvmsg(this.fd, this.rxIov, MSG_DONTWAIT | MSG_TRUNC, this.from, this.control, this.msgOut);
      } else {
        this.fromLenView.setUint32(0, SOCKADDR_LL_SIZE, true);
        n = this.libc.recvfrom(this.fd, slot, MSG_DONTWAIT | MSG_TRUNC, this.from, this.fromLen);
      }
      if (n < 0) {
        if (n !== -EAGAIN) {
          this.counters.rxErrors++;
          this.deviceError(this.vnetHdr || this.auxdata ? "recvmsg" : "recvfrom", -n);
        }
        return 0;
      }
      if (this.from[10] === PACKET_OUTGOING) {
        this.outgoingSkipped++;
        continue;
      }
      if (n === 0) continue;
      // The checksum was left to offload (CHECKSUM_PARTIAL): tp_status says so, and so
      // does the virtio_net_hdr (NEEDS_CSUM) when it is on.
      const status = this.auxdata ? auxdataStatus(this.control, this.msgOut[1]) : -1;
      const notReady = (status >= 0 && (status & TP_STATUS_CSUMNOTREADY) !== 0) ||
        (this.vnetHdr && (this.vnetIn[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0);
      if (notReady) this.csumNotReady++;
      const gsoType = this.vnetHdr ? this.vnetIn[1] & ~VIRTIO_NET_HDR_GSO_ECN : VIRTIO_NET_HDR_GSO_NONE;
      if (gsoType !== VIRTIO_NET_HDR_GSO_NONE && seg) {
        const m = this.cut(slot, n, gsoType, seg);
        if (m > 0) {
          if (notReady) this.csumCompleted++;
          return m;
        }
        this.gsoDropped++;
        this.counters.rxDropped++;
        continue;
      }
      if (n > slot.byteLength) {
        // MSG_TRUNC reports the real length: the frame did not fit (bigger than the MTU).
        this.counters.rxDropped++;
        continue;
      }
      if (notReady && this.completeChecksums && completeL4Checksum(slot, n)) this.csumCompleted++;
      return n;
    }
    return 0;
  }

  /**
   * A super-frame of `len` bytes sits in slot (and spill, past the slot's end): copies it
   * whole into the segmenter and writes its first segment into `slot`. Returns that
   * segment's length, or 0 when it cannot be cut (not TCPv4, not all of it read, bad headers).
   */
  private cut(slot: Uint8Array, len: number, gsoType: number, seg: TcpSegmenter): number {
    const inSlot = Math.min(len, slot.byteLength);
    if (gsoType !== VIRTIO_NET_HDR_GSO_TCPV4 || len - inSlot > this.spill.byteLength || len > seg.buf.byteLength) return 0;
    seg.buf.set(slot.subarray(0, inSlot), 0);
    if (len > inSlot) seg.buf.set(this.spill.subarray(0, len - inSlot), inSlot);
    const gsoSize = this.vnetIn[4] | (this.vnetIn[5] << 8);
    if (!seg.load(len, gsoSize, this.mtu + 14)) return 0;
    const n = seg.next(slot);
    if (n > 0) {
      this.gsoFrames++;
      this.gsoSegments++;
    }
    return n;
  }

  /**
   * ENETDOWN is what both a down and a deleted interface report (once on receive, on
   * every send): the interface index tells them apart. SIOCGIFNAME on the socket looks
   * it up in the socket's own namespace; ENODEV means the interface is gone for good
   * (a device re-created under the same name has a new index: the socket stays bound
   * to the old one, so that is gone too).
   */
  protected override deviceError(syscall: string, errno: number): void {
    if (errno === ENETDOWN) {
      const ifr = new Uint8Array(IFREQ_SIZE);
      new DataView(ifr.buffer).setInt32(16, this.ifindex, true);
      const r = this.libc.ioctl(this.fd, SIOCGIFNAME, ifr);
      if (r === -ENODEV) this.fail(new SysError(syscall, ENODEV, `${this.name} (interface index ${this.ifindex} is gone)`));
      return;
    }
    super.deviceError(syscall, errno);
  }

  protected writeFrame(frame: Uint8Array): boolean {
    let n: number;
    if (this.vnetHdr) {
      // With PACKET_VNET_HDR the kernel reads a virtio_net_hdr before the frame: all zero, a plain frame.
      this.txIov[1] = frame;
      n = this.libc.sendmsg(this.fd, this.txIov, 0, this.to);
      if (n >= 0) n -= VIRTIO_NET_HDR_LEN;
    } else {
      n = this.libc.sendto(this.fd, frame, 0, this.to);
    }
    return this.wrote(n, frame.byteLength, this.vnetHdr ? "sendmsg" : "sendto");
  }

}
