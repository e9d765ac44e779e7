// pcap recorder: wraps any Link and writes every frame it receives or sends to a classic
// pcap stream (LINKTYPE_ETHERNET, microsecond timestamps from the given clock), readable
// with `tshark -r FILE`, `tcpdump -r FILE` or Wireshark.
//
// Classic pcap layout (all fields little-endian, as written by this recorder):
//
//   global header, 24 bytes
//   ┌────────────┬────────┬────────┬──────────┬──────────┬──────────┬──────────┐
//   │ magic      │ major  │ minor  │ thiszone │ sigfigs  │ snaplen  │ network  │
//   │ a1b2c3d4   │ 2      │ 4      │ 0        │ 0        │ 65535    │ 1        │
//   │ u32 @0     │ u16 @4 │ u16 @6 │ i32 @8   │ u32 @12  │ u32 @16  │ u32 @20  │
//   └────────────┴────────┴────────┴──────────┴──────────┴──────────┴──────────┘
//   then per frame, a 16-byte record header and incl_len bytes of frame:
//   ┌──────────┬──────────┬──────────┬──────────┬──────────────────────────┐
//   │ ts_sec   │ ts_usec  │ incl_len │ orig_len │ frame bytes (incl_len)   │
//   │ u32 @0   │ u32 @4   │ u32 @8   │ u32 @12  │ @16                      │
//   └──────────┴──────────┴──────────┴──────────┴──────────────────────────┘
//
// incl_len = min(orig_len, snaplen). The magic a1b2c3d4 means microsecond timestamps
// (a1b23c4d would mean nanoseconds). network 1 = LINKTYPE_ETHERNET.
//
// Frames are buffered (64 KiB) and handed to the sink when the buffer fills, on flush()
// and on close(). Received frames are recorded after the inner link wrote them into the
// caller's slot (no extra copy besides the one into the pcap buffer); sent frames are
// recorded when the inner link took them.

import { type Clock } from "./clock.ts";
import { type Link, type LinkStats } from "./link.ts";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HDR_LEN = 24;
export const PCAP_RECORD_HDR_LEN = 16;

/** Where pcap bytes go. write() may keep no reference to `chunk` after it returns. */
export interface PcapSink {
  write(chunk: Uint8Array): void;
  close(): void;
}

/** Collects the pcap stream in memory (tests, or to save it later). */
export class MemoryPcapSink implements PcapSink {
  private chunks: Uint8Array[] = [];
  closed = false;
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
  }
  close(): void {
    this.closed = true;
  }
  bytes(): Uint8Array {
    const len = this.chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(len);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}

/**
 * Writes to a file (created or truncated). Uses node:fs, which Node and Deno 2 both
 * provide (Deno needs --allow-write).
 */
export async function pcapFileSink(path: string): Promise<PcapSink> {
  const fs = await import("node:fs");
  const fd = fs.openSync(path, "w", 0o644);
  let open = true;
  return {
    write(chunk) {
      let off = 0;
      while (off < chunk.byteLength) off += fs.writeSync(fd, chunk, off, chunk.byteLength - off);
    },
    close() {
      if (open) {
        open = false;
        fs.closeSync(fd);
      }
    },
  };
}

export interface PcapOptions {
  /** Largest number of bytes kept per frame (default 65535). */
  snaplen?: number;
  /** Record received frames (default true). */
  rx?: boolean;
  /** Record sent frames (default true). */
  tx?: boolean;
  /** Close the sink when the link closes (default true). */
  closeSink?: boolean;
}

/** A Link that records every frame passing through it. */
export class PcapLink implements Link {
  readonly kind = "pcap";
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  private readonly snaplen: number;
  private readonly recordRx: boolean;
  private readonly recordTx: boolean;
  private readonly closeSink: boolean;
  private sinkClosed = false;
  /** Frames written to the pcap stream. */
  recorded = 0;

  constructor(
    readonly inner: Link,
    private readonly sink: PcapSink,
    private readonly clock: Clock,
    options: PcapOptions = {},
  ) {
    const snaplen = options.snaplen ?? 65535;
    if (!Number.isInteger(snaplen) || snaplen < 14 || snaplen > 262144) throw new RangeError(`pcap snaplen must be an integer from 14 to 262144 (got ${snaplen})`);
    this.snaplen = snaplen;
    this.recordRx = options.rx ?? true;
    this.recordTx = options.tx ?? true;
    this.closeSink = options.closeSink ?? true;
    // Global header (see the diagram above).
    const h = new DataView(new ArrayBuffer(PCAP_GLOBAL_HDR_LEN));
    h.setUint32(0, PCAP_MAGIC_US, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setInt32(8, 0, true);
    h.setUint32(12, 0, true);
    h.setUint32(16, snaplen, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.append(new Uint8Array(h.buffer));
  }

  get name(): string {
    return this.inner.name;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get maxFrameLen(): number {
    return this.inner.maxFrameLen;
  }
  get mac(): Uint8Array {
    return this.inner.mac;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get failure(): Error | null {
    return this.inner.failure ?? null;
  }

  receiveInto(slot: Uint8Array): number {
    const n = this.inner.receiveInto(slot);
    if (n > 0 && this.recordRx) this.record(slot, n);
    return n;
  }

  receiveBatch(slots: readonly Uint8Array[], lengths: Uint32Array, first = 0, count = slots.length - first): number {
    const n = this.inner.receiveBatch(slots, lengths, first, count);
    if (this.recordRx) for (let i = first; i < first + n; i++) this.record(slots[i], lengths[i]);
    return n;
  }

  send(frame: Uint8Array): boolean {
    const ok = this.inner.send(frame);
    if (ok && this.recordTx) this.record(frame, frame.byteLength);
    return ok;
  }

  sendBatch(frames: readonly Uint8Array[], count = frames.length): number {
    const n = this.inner.sendBatch(frames, count);
    if (this.recordTx) for (let i = 0; i < n; i++) this.record(frames[i], frames[i].byteLength);
    return n;
  }

  waitReadable(timeoutMs: number): Promise<boolean> {
    return this.inner.waitReadable(timeoutMs);
  }
  interrupt(): void {
    this.inner.interrupt();
  }
  stats(): LinkStats {
    return this.inner.stats();
  }

  /** Hands buffered records to the sink. */
  flush(): void {
    if (this.used > 0 && !this.sinkClosed) this.sink.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.flush();
    if (this.closeSink && !this.sinkClosed) {
      this.sinkClosed = true;
      this.sink.close();
    }
  }

  private record(frame: Uint8Array, len: number): void {
    if (this.sinkClosed) return;
    const incl = Math.min(len, this.snaplen);
    const need = PCAP_RECORD_HDR_LEN + incl;
    if (this.used + need > this.buf.byteLength) {
      this.flush();
      if (need > this.buf.byteLength) {
        this.buf = new Uint8Array(need);
        this.view = new DataView(this.buf.buffer);
      }
    }
    const us = Math.max(0, Math.floor(this.clock.nowUs()));
    const v = this.view;
    const o = this.used;
    v.setUint32(o, Math.floor(us / 1e6) >>> 0, true);
    v.setUint32(o + 4, us % 1e6, true);
    v.setUint32(o + 8, incl, true);
    v.setUint32(o + 12, len, true);
    this.buf.set(frame.subarray(0, incl), o + PCAP_RECORD_HDR_LEN);
    this.used = o + need;
    this.recorded++;
  }

  private append(bytes: Uint8Array): void {
    this.buf.set(bytes, this.used);
    this.used += bytes.byteLength;
  }
}

export interface PcapRecord {
  /** Timestamp, µs. */
  tsUs: number;
  /** Length of the frame on the wire. */
  origLen: number;
  /** The bytes kept (a view into the input). */
  data: Uint8Array;
}

/**
 * Parses a classic pcap stream (either byte order, µs or ns timestamps). Throws a
 * RangeError on a malformed stream; never reads out of bounds.
 */
export function readPcap(bytes: Uint8Array): { linktype: number; snaplen: number; records: PcapRecord[] } {
  if (bytes.byteLength < PCAP_GLOBAL_HDR_LEN) throw new RangeError("pcap: shorter than the 24-byte global header");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = v.getUint32(0, true);
  let le: boolean;
  let nanos = false;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) le = true;
  else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) le = false;
  else throw new RangeError(`pcap: bad magic 0x${m.toString(16)}`);
  if (m === 0xa1b23c4d || m === 0x4d3cb2a1) nanos = true;
  const snaplen = v.getUint32(16, le);
  const linktype = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let o = PCAP_GLOBAL_HDR_LEN;
  while (o < bytes.byteLength) {
    if (o + PCAP_RECORD_HDR_LEN > bytes.byteLength) throw new RangeError(`pcap: truncated record header at offset ${o}`);
    const sec = v.getUint32(o, le);
    const frac = v.getUint32(o + 4, le);
    const incl = v.getUint32(o + 8, le);
    const orig = v.getUint32(o + 12, le);
    if (o + PCAP_RECORD_HDR_LEN + incl > bytes.byteLength) throw new RangeError(`pcap: record at offset ${o} claims ${incl} bytes past the end`);
    records.push({
      tsUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      origLen: orig,
      data: bytes.subarray(o + PCAP_RECORD_HDR_LEN, o + PCAP_RECORD_HDR_LEN + incl),
    });
    o += PCAP_RECORD_HDR_LEN + incl;
  }
  return { linktype, snaplen, records };
}
