// Hand-built frames for raw-frame TCP tests: the test plays A (198.18.0.1, MAC
// 02:00:00:00:00:0a) against one real module as B (198.18.0.2, 02:00:00:00:00:0b).
// Shared by tests/host/tcp-fixes2.test.ts and tcp-persist.test.ts.

import { parseIpv4 } from "../../host/abi.ts";

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
