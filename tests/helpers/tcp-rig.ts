// The raw-frame rig for TCP tests through the REAL module: the test plays A
// (198.18.0.1, MAC 02:00:00:00:00:0a) against one module as B (198.18.0.2,
// 02:00:00:00:00:0b). Crafted frames go straight into B's RX ring, every frame B sends
// is parsed back from its TX ring, and B's ARP requests for A are answered.
// Shared by tests/host/tcp-fixes2.test.ts and tcp-persist.test.ts (break-tcp.test.ts
// keeps its own, older copy).

import assert from "node:assert/strict";
import { StackCore, type CoreEvent } from "../../host/stack-core.ts";
import { parseIpv4, type StackConfig } from "../../host/abi.ts";

export const A_IP = parseIpv4("198.18.0.1");
export const B_IP = parseIpv4("198.18.0.2");
export const A_MAC = [0x02, 0, 0, 0, 0, 0x0a];
export const B_MAC = [0x02, 0, 0, 0, 0, 0x0b];
export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;
export const u32 = (x: number): number => x >>> 0;

/** RFC 1071 sum of `len` bytes at `off` (big-endian words, odd byte padded), added to `acc`. */
export function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  for (let i = 0; i + 1 < len; i += 2) acc += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) acc += b[off + len - 1] << 8;
  return acc;
}

/** Folds a sum to 16 bits and complements it. */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return (~acc) & 0xffff;
}

export interface SegSpec { sport: number; dport: number; seq: number; ack?: number; flags: number; win?: number; opts?: number[]; data?: Uint8Array }

/** Ethernet + IPv4 + TCP from A to B with correct checksums. */
export function tcpFrame(s: SegSpec): Uint8Array {
  const opts = s.opts ?? [];
  const tcpHdr = 20 + ((opts.length + 3) & ~3);
  const data = s.data ?? new Uint8Array(0);
  const tcpLen = tcpHdr + data.length;
  const f = new Uint8Array(14 + 20 + tcpLen);
  const v = new DataView(f.buffer);
  f.set(B_MAC, 0); f.set(A_MAC, 6); v.setUint16(12, 0x0800);
  f[14] = 0x45; v.setUint16(16, 20 + tcpLen); v.setUint16(18, 0x1234); f[22] = 64; f[23] = 6;
  v.setUint32(26, A_IP); v.setUint32(30, B_IP);
  v.setUint16(24, fold(sum16(f, 14, 20)));
  const t = 34;
  v.setUint16(t, s.sport); v.setUint16(t + 2, s.dport);
  v.setUint32(t + 4, u32(s.seq)); v.setUint32(t + 8, u32(s.ack ?? 0));
  f[t + 12] = (tcpHdr / 4) << 4; f[t + 13] = s.flags; v.setUint16(t + 14, s.win ?? 65535);
  f.set(opts, t + 20); f.set(data, t + tcpHdr);
  v.setUint16(t + 16, fold(sum16(f, 26, 8, sum16(f, t, tcpLen) + 6 + tcpLen)));
  return f;
}

/** A's ARP reply to B's request for 198.18.0.1. */
export function arpReplyFrame(): Uint8Array {
  const f = new Uint8Array(42);
  const v = new DataView(f.buffer);
  f.set(B_MAC, 0); f.set(A_MAC, 6); v.setUint16(12, 0x0806);
  v.setUint16(14, 1); v.setUint16(16, 0x0800); f[18] = 6; f[19] = 4; v.setUint16(20, 2);
  f.set(A_MAC, 22); v.setUint32(28, A_IP); f.set(B_MAC, 32); v.setUint32(38, B_IP);
  return f;
}

/** A TCP segment B sent. */
export interface Seg { sport: number; dport: number; seq: number; ack: number; flags: number; win: number; len: number; data: Uint8Array }

/** A frame from B's TX ring: a TCP segment, B's ARP request for A, or null (anything else). */
export function parseTcp(f: Uint8Array): Seg | "arp-req" | null {
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const type = v.getUint16(12);
  if (type === 0x0806) return v.getUint16(20) === 1 && v.getUint32(38) === A_IP ? "arp-req" : null;
  if (type !== 0x0800 || f[23] !== 6) return null;
  const t = 14 + (f[14] & 15) * 4;
  const total = v.getUint16(16);
  const doff = (f[t + 12] >> 4) * 4;
  const tcpLen = total - (t - 14);
  return {
    sport: v.getUint16(t), dport: v.getUint16(t + 2), seq: v.getUint32(t + 4), ack: v.getUint32(t + 8),
    flags: f[t + 13], win: v.getUint16(t + 14), len: tcpLen - doff, data: f.slice(t + doff, t + tcpLen),
  };
}

/** One real module; the test plays A (198.18.0.1) and answers B's ARP requests. */
export class Rig {
  segs: Seg[] = [];
  events: CoreEvent[] = [];
  private pending: Uint8Array[] = [];
  private constructor(readonly core: StackCore, public now: bigint) {}

  static async make(cfg: StackConfig = {}): Promise<Rig> {
    const core = await StackCore.create({
      maxConnections: 64, maxListeners: 8, syncacheEntries: 64, maxTimeWait: 32, chunkCount: 512,
      chunkSize: 2048, rxSlots: 64, txSlots: 128, slotSize: 2048, eventRingSize: 512, shards: 16,
      timeWaitMs: 2000, secret: new Uint8Array(16).fill(0x5c),
      ...cfg, mac: "02:00:00:00:00:0b", ipv4: "198.18.0.2/24",
    }, 1_000_000n);
    return new Rig(core, 1_000_000n);
  }
  seg(s: SegSpec): void { this.pending.push(tcpFrame(s)); this.pump(); }
  pump(): void {
    for (let round = 0; round < 10_000; round++) {
      while (this.pending.length && this.core.rxFree() > 0) assert.ok(this.core.rxWrite(this.pending.shift()!, this.now));
      const r = this.core.tick(this.now);
      this.drain();
      if (r !== 0 && this.pending.length === 0 && this.core.rx.used === 0) return;
    }
    assert.fail("stack never went idle");
  }
  drain(): void {
    this.core.txDrain((f) => {
      const p = parseTcp(f);
      if (p === "arp-req") this.pending.push(arpReplyFrame());
      else if (p) this.segs.push(p);
    });
    this.core.drainEvents((e) => { this.events.push(e); });
  }
  /** Moves virtual time by `ms`, running every timer on the way. */
  advance(ms: number): void {
    const end = this.now + BigInt(Math.round(ms * 1000));
    for (let i = 0; i < 1_000_000; i++) {
      const r = this.core.tick(this.now);
      this.drain();
      if (this.pending.length) { this.pump(); continue; }
      if (r === 0) continue;
      if (this.now >= end) return;
      const step = r < 0 ? end - this.now : BigInt(Math.max(1, r)) * 1000n;
      this.now = this.now + step > end ? end : this.now + step;
    }
    assert.fail("advance did not finish");
  }
  take(port?: number): Seg[] {
    const s = this.segs; this.segs = [];
    return port === undefined ? s : s.filter((x) => x.dport === port);
  }
  takeEvents(): CoreEvent[] { const e = this.events; this.events = []; return e; }
  gauges(): Record<string, number> { return this.core.gauges(); }
}
