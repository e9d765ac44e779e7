// Test network namespaces (SPEC §7): create a namespace, put a TAP device or a veth pair
// in it, give the kernel side an address from the benchmarking range 198.18.0.0/15
// (RFC 2544; nothing else is accepted), and remove it all afterwards.
//
// The stack's end of the link is opened from this process *inside* the namespace:
// withinNetns() switches the calling thread (the JS thread) into the namespace with
// setns(2), runs a synchronous function (TapLink.openSync, PacketLink.openSync), and
// switches back before returning. A TAP device or packet socket stays in the namespace
// it was created in, so the stack's traffic never reaches the host's namespace.
//
// The kernel side is configured with iproute2 (`ip -n NS ...`), run as a child process.
// Everything here needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); used by the tests and by
// the CLI (`ustack netns up|down`).

import { spawnSync } from "node:child_process";
import { CLONE_NEWNET, check, cString, type Libc, loadLibc, O_CLOEXEC, O_RDWR, SysError } from "./runtime/ffi.ts";
import { PacketLink, type PacketOptions } from "./link/packet.ts";
import { TapLink, type TapOptions } from "./link/tap.ts";

const O_RDONLY = 0;

/** The only addresses test namespaces may use: 198.18.0.0/15 (RFC 2544 benchmarking). */
export const TEST_NET_BASE = 0xc6120000; // 198.18.0.0
export const TEST_NET_PREFIX = 15;

export interface Cidr {
  /** The address as a u32. */
  addr: number;
  prefix: number;
  text: string;
}

export function parseIpv4(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) throw new TypeError(`invalid IPv4 address "${text}"`);
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) throw new TypeError(`invalid IPv4 address "${text}"`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function formatIpv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join(".");
}

export function parseCidr(text: string): Cidr {
  const [a, p, extra] = text.split("/");
  const prefix = Number(p);
  if (extra !== undefined || p === undefined || !/^\d{1,2}$/.test(p) || prefix > 32) {
    throw new TypeError(`invalid address/prefix "${text}" (expected a.b.c.d/len)`);
  }
  return { addr: parseIpv4(a), prefix, text };
}

/** True when every address of `cidr` lies in 198.18.0.0/15. */
export function inTestNet(cidr: Cidr): boolean {
  return cidr.prefix >= TEST_NET_PREFIX && (cidr.addr & 0xfffe0000) >>> 0 === TEST_NET_BASE;
}

/** Throws unless `text` is an address/prefix inside 198.18.0.0/15. */
export function checkTestCidr(text: string): Cidr {
  const c = parseCidr(text);
  if (!inTestNet(c)) throw new RangeError(`${text} is outside 198.18.0.0/15: test namespaces use only the benchmarking range`);
  return c;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
function checkName(name: string, what: string): string {
  if (!NAME_RE.test(name)) throw new TypeError(`${what} "${name}" must be 1 to 15 characters of [A-Za-z0-9_.-]`);
  return name;
}

/** Runs `ip ARGS...`; returns stdout, throws with ip's message on failure. */
export function ip(args: string[]): string {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.error) throw new Error(`ip ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed (exit ${r.status ?? r.signal}): ${(r.stderr || "").trim()}`);
  return r.stdout;
}

/** True when `ip` (iproute2) can be run. */
export function haveIp(): boolean {
  const r = spawnSync("ip", ["-V"], { encoding: "utf8", timeout: 5000 });
  return !r.error && r.status === 0;
}

export function netnsExists(name: string): boolean {
  return ip(["netns", "list"]).split("\n").some((l) => l.split(" ")[0] === name);
}

/** Creates namespace `name` with its loopback up. Throws if it already exists. */
export function netnsAdd(name: string): void {
  checkName(name, "namespace");
  ip(["netns", "add", name]);
  try {
    ip(["-n", name, "link", "set", "lo", "up"]);
  } catch (e) {
    netnsDelete(name);
    throw e;
  }
}

/**
 * Removes namespace `name` (its veth devices go with it). Missing namespace: no-op.
 * Close the TAP/packet links opened inside it first.
 */
export function netnsDelete(name: string): void {
  checkName(name, "namespace");
  if (netnsExists(name)) ip(["netns", "delete", name]);
}

/**
 * Runs `fn` with the calling thread inside network namespace `name`, then returns to the
 * original namespace, also when `fn` throws. `fn` must be synchronous: nothing else may
 * run on this thread while it sits in the other namespace.
 */
export function withinNetns<T>(libc: Libc, name: string, fn: () => T): T {
  checkName(name, "namespace");
  const target = check(libc.open(`/run/netns/${name}`, O_RDONLY | O_CLOEXEC), "open", `/run/netns/${name}`);
  let home = -1;
  try {
    home = check(libc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), "open", "/proc/thread-self/ns/net");
    check(libc.setns(target, CLONE_NEWNET), "setns", name);
    try {
      return fn();
    } finally {
      const r = libc.setns(home, CLONE_NEWNET);
      if (r < 0) {
        // Cannot happen with the privileges that allowed the first setns; if it does, the
        // JS thread is stranded in the test namespace and nothing after this is safe.
        throw new SysError("setns (back to the original namespace)", -r);
      }
    }
  } finally {
    libc.close(target);
    if (home >= 0) libc.close(home);
  }
}

/** Writes `value` to a /proc/sys path as seen from namespace `ns`. */
export function sysctlIn(libc: Libc, ns: string, key: string, value: string): void {
  if (!/^[A-Za-z0-9_./-]+$/.test(key) || key.includes("..")) throw new TypeError(`bad sysctl key "${key}"`);
  withinNetns(libc, ns, () => {
    const path = `/proc/sys/${key.replace(/\./g, "/")}`;
    const fd = check(libc.open(path, O_RDWR | O_CLOEXEC), "open", path);
    try {
      const bytes = cString(value + "\n");
      check(libc.write(fd, bytes.subarray(0, bytes.length - 1)), "write", path);
    } finally {
      libc.close(fd);
    }
  });
}

export interface TapNamespaceOptions {
  /** Namespace to create. */
  ns: string;
  /** TAP device name (<= 15 bytes). */
  tap: string;
  /** Kernel-side address of the TAP, inside 198.18.0.0/15, e.g. "198.18.0.1/24". */
  kernelCidr: string;
  /** Options for the stack's side (mac, mtu). */
  link?: Omit<TapOptions, "name" | "libc">;
  /** Turn IPv6 off on the device so the kernel sends no router solicitations (default true). */
  noIpv6?: boolean;
  libc?: Libc;
}

export interface TestNamespace<L> {
  ns: string;
  link: L;
  /** Removes everything (closes the link, deletes the namespace); safe to call twice. */
  teardown(): Promise<void>;
}

/**
 * Creates namespace `ns` with a TAP device in it whose kernel side has `kernelCidr`, and
 * returns the stack's end of the TAP. On any failure everything made so far is removed.
 */
export async function createTapNamespace(o: TapNamespaceOptions): Promise<TestNamespace<TapLink>> {
  checkTestCidr(o.kernelCidr);
  checkName(o.tap, "TAP name");
  const libc = o.libc ?? (await loadLibc());
  netnsAdd(o.ns);
  let link: TapLink | null = null;
  const teardown = async () => {
    try {
      if (link) await link.close();
    } finally {
      netnsDelete(o.ns);
    }
  };
  try {
    link = withinNetns(libc, o.ns, () => TapLink.openSync(libc, { ...o.link, name: o.tap }));
    if (o.noIpv6 ?? true) sysctlIn(libc, o.ns, `net.ipv6.conf.${o.tap}.disable_ipv6`, "1");
    ip(["-n", o.ns, "addr", "add", o.kernelCidr, "dev", o.tap]);
    ip(["-n", o.ns, "link", "set", o.tap, "up"]);
    return { ns: o.ns, link, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}

export interface VethNamespaceOptions {
  ns: string;
  /** The end the stack's AF_PACKET socket binds to. */
  stackEnd: string;
  /** The end the kernel uses, with `kernelCidr`. */
  kernelEnd: string;
  kernelCidr: string;
  link?: Omit<PacketOptions, "ifname" | "libc">;
  noIpv6?: boolean;
  libc?: Libc;
}

/**
 * Creates namespace `ns` with a veth pair in it: `kernelEnd` gets `kernelCidr`, and the
 * stack gets an AF_PACKET link on `stackEnd` (which has no address).
 */
export async function createVethNamespace(o: VethNamespaceOptions): Promise<TestNamespace<PacketLink>> {
  checkTestCidr(o.kernelCidr);
  checkName(o.stackEnd, "veth name");
  checkName(o.kernelEnd, "veth name");
  const libc = o.libc ?? (await loadLibc());
  netnsAdd(o.ns);
  let link: PacketLink | null = null;
  const teardown = async () => {
    try {
      if (link) await link.close();
    } finally {
      netnsDelete(o.ns);
    }
  };
  try {
    ip(["-n", o.ns, "link", "add", o.stackEnd, "type", "veth", "peer", "name", o.kernelEnd]);
    if (o.noIpv6 ?? true) {
      sysctlIn(libc, o.ns, `net.ipv6.conf.${o.stackEnd}.disable_ipv6`, "1");
      sysctlIn(libc, o.ns, `net.ipv6.conf.${o.kernelEnd}.disable_ipv6`, "1");
    }
    ip(["-n", o.ns, "addr", "add", o.kernelCidr, "dev", o.kernelEnd]);
    ip(["-n", o.ns, "link", "set", o.kernelEnd, "up"]);
    ip(["-n", o.ns, "link", "set", o.stackEnd, "up"]);
    link = withinNetns(libc, o.ns, () => PacketLink.openSync(libc, { ...o.link, ifname: o.stackEnd }));
    return { ns: o.ns, link, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}
