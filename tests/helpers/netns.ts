// Helpers for link tests that talk to the Linux kernel inside a test namespace:
// skip conditions, unique names, and a few hand-built frames (ARP, ICMP echo) with
// their parsers. Addresses used with these come from 198.18.0.0/15 only (SPEC §7).

import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { haveIp, parseIpv4 } from "../../host/netns.ts";
import { ffiUnavailableReason } from "../../host/runtime/ffi.ts";
import { type Link } from "../../host/link/link.ts";

/** Why namespace tests cannot run here, or null when they can. */
export async function netnsSkipReason(): Promise<string | null> {
  if (process.platform !== "linux") return "needs Linux";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "needs root (network namespaces, TAP, AF_PACKET); CI runs as root";
  if (!haveIp()) return "needs iproute2 (`ip`); .ci/run installs it";
  if (!existsSync("/dev/net/tun")) return "needs /dev/net/tun";
  const ffi = await ffiUnavailableReason();
  if (ffi) return `FFI unavailable: ${ffi}`;
  return null;
}

/** A name unique to this process, at most 15 characters (interface name limit). */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${process.pid}`;
  if (name.length > 15) throw new RangeError(`name ${name} is longer than 15 characters`);
  return name;
}

const ipBytes = (ip: string): number[] => {
  const a = parseIpv4(ip);
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255];
};
const ipText = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** RFC 1071 ones'-complement checksum of bytes[off, off+len). */
export function inetChecksum(bytes: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += (bytes[off + i] << 8) | bytes[off + i + 1];
  if (len & 1) sum += bytes[off + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethHeader(f: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = type >>> 8;
  f[13] = type & 255;
}

const BROADCAST = new Uint8Array(6).fill(0xff);

/** ARP (RFC 826) request "who has targetIp? tell senderIp", broadcast. 42 bytes. */
export function arpRequest(senderMac: Uint8Array, senderIp: string, targetIp: string): Uint8Array {
  return arpFrame(1, BROADCAST, senderMac, senderIp, new Uint8Array(6), targetIp);
}

/** ARP reply "senderIp is at senderMac", unicast to targetMac. */
export function arpReply(senderMac: Uint8Array, senderIp: string, targetMac: Uint8Array, targetIp: string): Uint8Array {
  return arpFrame(2, targetMac, senderMac, senderIp, targetMac, targetIp);
}

function arpFrame(op: number, dst: Uint8Array, sha: Uint8Array, spa: string, tha: Uint8Array, tpa: string): Uint8Array {
  const f = new Uint8Array(42);
  ethHeader(f, dst, sha, 0x0806);
  f.set([0, 1, 0x08, 0x00, 6, 4, 0, op], 14); // htype Ethernet, ptype IPv4, hlen 6, plen 4, op
  f.set(sha.subarray(0, 6), 22);
  f.set(ipBytes(spa), 28);
  f.set(tha.subarray(0, 6), 32);
  f.set(ipBytes(tpa), 38);
  return f;
}

export interface ArpInfo {
  op: number;
  senderMac: Uint8Array;
  senderIp: string;
  targetMac: Uint8Array;
  targetIp: string;
}

export function parseArp(f: Uint8Array, len: number): ArpInfo | null {
  if (len < 42 || f[12] !== 0x08 || f[13] !== 0x06) return null;
  if (f[14] !== 0 || f[15] !== 1 || f[16] !== 8 || f[17] !== 0 || f[18] !== 6 || f[19] !== 4) return null;
  return {
    op: (f[20] << 8) | f[21],
    senderMac: f.slice(22, 28), senderIp: ipText(f, 28),
    targetMac: f.slice(32, 38), targetIp: ipText(f, 38),
  };
}

/** IPv4 + ICMP echo request (RFC 792), TTL 64, DF clear, correct checksums. */
export function icmpEchoRequest(srcMac: Uint8Array, dstMac: Uint8Array, srcIp: string, dstIp: string, id: number, seq: number, payload: Uint8Array): Uint8Array {
  const ipLen = 20 + 8 + payload.length;
  const f = new Uint8Array(14 + ipLen);
  ethHeader(f, dstMac, srcMac, 0x0800);
  const ip = 14;
  f[ip] = 0x45;
  f[ip + 2] = ipLen >>> 8;
  f[ip + 3] = ipLen & 255;
  f[ip + 4] = (id >>> 8) & 255; // identification: reuse the echo id
  f[ip + 5] = id & 255;
  f[ip + 8] = 64; // TTL
  f[ip + 9] = 1; // ICMP
  f.set(ipBytes(srcIp), ip + 12);
  f.set(ipBytes(dstIp), ip + 16);
  const c = inetChecksum(f, ip, 20);
  f[ip + 10] = c >>> 8;
  f[ip + 11] = c & 255;
  const icmp = ip + 20;
  f[icmp] = 8; // echo request
  f[icmp + 4] = id >>> 8;
  f[icmp + 5] = id & 255;
  f[icmp + 6] = seq >>> 8;
  f[icmp + 7] = seq & 255;
  f.set(payload, icmp + 8);
  const ic = inetChecksum(f, icmp, 8 + payload.length);
  f[icmp + 2] = ic >>> 8;
  f[icmp + 3] = ic & 255;
  return f;
}

export interface IcmpEchoInfo {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: string;
  dstIp: string;
  type: number;
  id: number;
  seq: number;
  payload: Uint8Array;
  ipChecksumOk: boolean;
  icmpChecksumOk: boolean;
}

/** Parses an Ethernet/IPv4/ICMP echo (request or reply); null for anything else. */
export function parseIcmpEcho(f: Uint8Array, len: number): IcmpEchoInfo | null {
  if (len < 14 + 20 + 8 || f[12] !== 0x08 || f[13] !== 0x00) return null;
  const ip = 14;
  const ihl = (f[ip] & 0x0f) * 4;
  if (f[ip] >>> 4 !== 4 || ihl < 20 || f[ip + 9] !== 1) return null;
  const total = (f[ip + 2] << 8) | f[ip + 3];
  if (total < ihl + 8 || ip + total > len) return null;
  const icmp = ip + ihl;
  const type = f[icmp];
  if (type !== 0 && type !== 8) return null;
  const icmpLen = total - ihl;
  return {
    srcMac: f.slice(6, 12), dstMac: f.slice(0, 6),
    srcIp: ipText(f, ip + 12), dstIp: ipText(f, ip + 16),
    type,
    id: (f[icmp + 4] << 8) | f[icmp + 5],
    seq: (f[icmp + 6] << 8) | f[icmp + 7],
    payload: f.slice(icmp + 8, icmp + icmpLen),
    ipChecksumOk: inetChecksum(f, ip, ihl) === 0,
    icmpChecksumOk: inetChecksum(f, icmp, icmpLen) === 0,
  };
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export interface AwaitFrameOptions {
  /** Give up after this long (ms of host time). Default 5000. */
  timeoutMs?: number;
  /** Give up after this many frames. Default 500. */
  maxFrames?: number;
  /** Answer the kernel's ARP requests for this IP with `mac` (the stack's role). */
  answerArp?: { ip: string; mac: Uint8Array };
}

/**
 * Reads frames from `link` until `match` returns a value, answering ARP for our address
 * on the way. Bounded by time and frame count; throws with what it saw when it gives up.
 * Returns the match and every frame seen (copies).
 */
export async function awaitFrame<T>(link: Link, match: (f: Uint8Array, len: number) => T | null, o: AwaitFrameOptions = {}): Promise<{ value: T; seen: Uint8Array[] }> {
  const deadline = Date.now() + (o.timeoutMs ?? 5000);
  const maxFrames = o.maxFrames ?? 500;
  const slot = new Uint8Array(new WebAssembly.Memory({ initial: 1 }).buffer, 1024, link.maxFrameLen);
  const seen: Uint8Array[] = [];
  while (seen.length < maxFrames) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const n = link.receiveInto(slot);
    if (n === 0) {
      await link.waitReadable(Math.min(left, 200));
      continue;
    }
    seen.push(slot.slice(0, n));
    const arp = o.answerArp ? parseArp(slot, n) : null;
    if (arp && o.answerArp && arp.op === 1 && arp.targetIp === o.answerArp.ip) {
      link.send(arpReply(o.answerArp.mac, o.answerArp.ip, arp.senderMac, arp.senderIp));
    }
    const v = match(slot, n);
    if (v !== null) return { value: v, seen };
  }
  const summary = seen.map((f) => `${f.length}B type 0x${((f[12] << 8) | f[13]).toString(16)}`).join(", ");
  throw new Error(`no matching frame within bounds (${seen.length} frames seen: ${summary || "none"})`);
}

/**
 * Whether this kernel can run `tc qdisc ... netem` (CONFIG_NET_SCH_NETEM): tried on a
 * dummy device in a throw-away namespace (never on the host's interfaces). Returns null
 * when netem works, or the reason it does not (tc's message). Needs root and iproute2;
 * every command is time-limited and the namespace is deleted in all cases.
 */
export function netemUnavailableReason(): string | null {
  const ns = `unp${process.pid % 100000}`;
  const run = (args: string[]) => spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 10_000 });
  run(["ip", "netns", "delete", ns]);
  try {
    const add = run(["ip", "netns", "add", ns]);
    if (add.status !== 0) return `cannot create a probe namespace: ${(add.stderr || String(add.error)).trim()}`;
    const dummy = run(["ip", "-n", ns, "link", "add", "unp0", "type", "dummy"]);
    // No dummy driver: probe on a veth end instead.
    const dev = dummy.status === 0 ? "unp0" : "unpa";
    if (dummy.status !== 0) {
      const veth = run(["ip", "-n", ns, "link", "add", "unpa", "type", "veth", "peer", "name", "unpb"]);
      if (veth.status !== 0) return `cannot create a probe device: ${(veth.stderr || String(veth.error)).trim()}`;
    }
    const tc = run(["tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "netem", "delay", "1ms"]);
    if (tc.error) return `tc: ${tc.error.message}`;
    return tc.status === 0 ? null : (tc.stderr || `tc exit ${tc.status}`).trim();
  } finally {
    run(["ip", "netns", "delete", ns]);
  }
}
