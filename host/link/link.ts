// The Link interface: what the tick loop (SPEC §2) needs from a layer-2 device.
//
// A link moves whole Ethernet II frames (destination MAC first, no preamble, no FCS).
// Every driver implements it: memory.ts (an in-process wire with faults), tap.ts
// (/dev/net/tun), packet.ts (AF_PACKET raw socket) and pcap.ts (a recorder wrapping any
// other link).
//
// One tick, seen from the link:
//
//   free RX ring slots (Uint8Array views of WebAssembly.Memory, each >= maxFrameLen)
//        │  receiveBatch(slots, lengths, first, count)  or  receiveInto(slot) per slot
//        ▼  (the driver writes the frame straight into the view: read(2)/recvfrom(2)
//           for TAP/AF_PACKET, one copy from the wire queue for the memory link)
//   tick(nowUs) in the module
//        │
//        ▼  send(view) / sendBatch(views) for each frame of the TX ring
//   idle?  await waitReadable(min(timeout, next timer))   ← poll(2) off the JS thread
//          interrupt() ends that wait early (the app queued work)
//
// Contract:
// - receiveInto(slot) returns the length of the frame written at slot[0..len), or 0 when
//   no frame is pending. It never blocks and never throws on bad input from the wire;
//   frames that do not fit are dropped and counted (stats().rxDropped).
//   `slot.byteLength` must be >= maxFrameLen (a RangeError otherwise: a caller bug).
// - send(frame) returns true when the link took the frame. false means it could not
//   (the device queue is full: EAGAIN/ENOBUFS, the frame is larger than maxFrameLen or
//   shorter than an Ethernet header, the link is closed); the frame is counted in
//   stats().txDropped and the caller may retry later or let TCP recover.
//   The link never keeps a reference to `frame` after send returns: the TX slot may be
//   reused at once.
// - waitReadable(timeoutMs) resolves true when a frame is (probably) pending, false on
//   timeout, interrupt() or close(). It never rejects. A second call while one is
//   pending ends the first one (which resolves false). timeoutMs: 0 = just check,
//   Infinity (or a negative value) = no timeout.
// - close() releases the device (and ends a pending wait); afterwards receiveInto
//   returns 0 and send returns false. Closing twice is harmless.
// - failure: null while the device works. A device error that cannot pass (the TAP
//   device was deleted: read/write fail with EBADFD; the AF_PACKET socket's interface
//   is gone: ENXIO/ENODEV; the descriptor is not open: EBADF, POLLNVAL) sets it to
//   that error (a SysError: code, errno, syscall) once; from then on receiveInto
//   returns 0, send returns false and waitReadable resolves false at once, without
//   touching the device. The link still has to be closed. Transient errors (EAGAIN,
//   EINTR, ENOBUFS, a device that is down: EIO, ENETDOWN) are only counted. The tick
//   loop stops the stack when a link fails or is closed under it (driver.ts).

/** Ethernet header length: destination MAC, source MAC, EtherType. */
export const ETH_HLEN = 14;
/** Room for one 802.1Q tag on top of mtu + ETH_HLEN. */
export const VLAN_HLEN = 4;

/** Counters every link keeps (drivers may add their own fields). */
export interface LinkStats {
  /** Frames handed to the caller by receiveInto/receiveBatch, and their bytes. */
  rxFrames: number;
  rxBytes: number;
  /** Frames received from the device but dropped (too long for the slot, truncated). */
  rxDropped: number;
  /** Device read errors other than "nothing pending". */
  rxErrors: number;
  /** Frames the link took from send/sendBatch, and their bytes. */
  txFrames: number;
  txBytes: number;
  /** Frames send refused (queue full, bad size, closed). */
  txDropped: number;
  /** Device write errors other than "queue full". */
  txErrors: number;
}

export function newLinkStats(): LinkStats {
  return { rxFrames: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txFrames: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
}

export interface Link {
  /** "memory", "tap", "packet", "pcap" for the recorder, or "impair" for the impairment wrapper. */
  readonly kind: string;
  /** Device name (TAP/interface name) or a descriptive label. */
  readonly name: string;
  /** Largest IP packet carried (the interface MTU, 1500 by default). */
  readonly mtu: number;
  /** Largest frame the link can deliver: mtu + ETH_HLEN + VLAN_HLEN. RX slots must be this big. */
  readonly maxFrameLen: number;
  /** The stack's MAC address on this link (6 bytes; do not modify). */
  readonly mac: Uint8Array;
  readonly closed: boolean;
  /**
   * The permanent device error that ended this link (the device is gone), null while
   * it works. Optional for links written elsewhere: missing means "never fails".
   */
  readonly failure?: Error | null;

  /** Reads one pending frame into `slot`; returns its length, or 0 when none is pending. */
  receiveInto(slot: Uint8Array): number;
  /**
   * Reads up to `count` frames into slots[first], slots[first+1], ..., storing each length
   * in lengths[first + i]; returns how many were read (stops at the first empty read).
   * Defaults: first = 0, count = slots.length - first.
   */
  receiveBatch(slots: readonly Uint8Array[], lengths: Uint32Array, first?: number, count?: number): number;
  /** Sends one frame; true when the link took it. */
  send(frame: Uint8Array): boolean;
  /** Sends frames[0..count) in order; returns how many the link took (stops at the first refusal). */
  sendBatch(frames: readonly Uint8Array[], count?: number): number;
  /** Resolves true when a frame is pending, false on timeout/interrupt/close. */
  waitReadable(timeoutMs: number): Promise<boolean>;
  /** Ends a pending waitReadable early (it resolves false). No effect when none is pending. */
  interrupt(): void;
  /** A snapshot of the counters. */
  stats(): LinkStats;
  /** Releases the device; resolves once nothing of it is in use any more. */
  close(): Promise<void>;
}

/**
 * Shared batch logic and bookkeeping for drivers: a driver implements readFrame() and
 * writeFrame() and gets receiveInto/receiveBatch/send/sendBatch with the counters kept.
 */
export abstract class LinkBase implements Link {
  abstract readonly kind: string;
  abstract readonly name: string;
  abstract readonly mtu: number;
  abstract readonly mac: Uint8Array;
  protected readonly counters: LinkStats = newLinkStats();
  protected isClosed = false;
  private failed: Error | null = null;

  get maxFrameLen(): number {
    return this.mtu + ETH_HLEN + VLAN_HLEN;
  }
  get closed(): boolean {
    return this.isClosed;
  }
  get failure(): Error | null {
    return this.failed;
  }

  /**
   * Records a permanent device error (the first one wins) and ends a pending wait: the
   * link carries no more frames. Drivers call it; see the contract above.
   */
  protected fail(err: Error): void {
    if (this.failed || this.isClosed) return;
    this.failed = err;
    this.interrupt();
  }

  /** Reads one frame into slot; returns its length, 0 when none is pending. Counts drops itself. */
  protected abstract readFrame(slot: Uint8Array): number;
  /** Writes one frame (size already checked); returns true when the device took it. */
  protected abstract writeFrame(frame: Uint8Array): boolean;
  abstract waitReadable(timeoutMs: number): Promise<boolean>;
  abstract interrupt(): void;
  abstract close(): Promise<void>;

  receiveInto(slot: Uint8Array): number {
    if (slot.byteLength < this.maxFrameLen) {
      throw new RangeError(`${this.kind} link ${this.name}: receive slot of ${slot.byteLength} bytes is smaller than maxFrameLen ${this.maxFrameLen}`);
    }
    if (this.isClosed || this.failed) return 0;
    const n = this.readFrame(slot);
    if (n > 0) {
      this.counters.rxFrames++;
      this.counters.rxBytes += n;
    }
    return n;
  }

  receiveBatch(slots: readonly Uint8Array[], lengths: Uint32Array, first = 0, count = slots.length - first): number {
    const end = Math.min(first + count, slots.length, lengths.length);
    let i = first;
    for (; i < end; i++) {
      const n = this.receiveInto(slots[i]);
      if (n === 0) break;
      lengths[i] = n;
    }
    return i - first;
  }

  send(frame: Uint8Array): boolean {
    const len = frame.byteLength;
    if (this.isClosed || this.failed || len < ETH_HLEN || len > this.maxFrameLen || !this.writeFrame(frame)) {
      this.counters.txDropped++;
      return false;
    }
    this.counters.txFrames++;
    this.counters.txBytes += len;
    return true;
  }

  sendBatch(frames: readonly Uint8Array[], count = frames.length): number {
    const end = Math.min(count, frames.length);
    let i = 0;
    while (i < end && this.send(frames[i])) i++;
    return i;
  }

  stats(): LinkStats {
    return { ...this.counters };
  }
}

/** Parses "02:00:5e:10:00:01" (or "-" separated) into 6 bytes; throws on anything else. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new TypeError(`invalid MAC address "${text}" (expected six hex bytes like 02:00:5e:10:00:01)`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Checks a MAC option: 6 bytes, unicast (bit 0 of the first byte clear). Returns a copy. */
export function checkMac(mac: Uint8Array | string, what = "mac"): Uint8Array {
  const m = typeof mac === "string" ? parseMac(mac) : mac;
  if (!(m instanceof Uint8Array) || m.byteLength !== 6) throw new TypeError(`${what} must be 6 bytes`);
  if (m[0] & 1) throw new TypeError(`${what} ${formatMac(m)} is a multicast address; a station MAC must be unicast`);
  return Uint8Array.from(m);
}

/** A random locally administered unicast MAC (02:xx:xx:xx:xx:xx style) from `entropy`. */
export function localMac(entropy: Uint8Array): Uint8Array {
  const m = Uint8Array.from(entropy.subarray(0, 6));
  m[0] = (m[0] & 0xfc) | 0x02;
  return m;
}

/** Checks an MTU option: 68 (RFC 791's minimum) to 65535. */
export function checkMtu(mtu: number, what = "mtu"): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`${what} must be an integer from 68 to 65535 (got ${mtu})`);
  return mtu;
}
