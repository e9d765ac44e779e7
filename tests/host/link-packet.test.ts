// AF_PACKET link on a veth pair inside a namespace this file creates and removes
// (SPEC §7): the stack's raw socket is bound to one end (no address), the kernel owns
// the other end with 198.18.1.1/24; the test plays the stack at 198.18.1.2. The veth
// keeps its offloads on, so the kernel's frames arrive with checksums left undone and,
// for bulk TCP, as super-frames: the link completes and cuts them (packet.ts).
// Needs root: skipped with a message otherwise.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { PacketLink } from "../../host/link/packet.ts";
import { formatMac, type Link } from "../../host/link/link.ts";
import { createVethNamespace, ip, netnsDelete, type TestNamespace, withinNetns } from "../../host/netns.ts";
import {
  AF_PACKET, check, type Libc, loadLibc, PACKET_VNET_HDR, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOCKADDR_LL_SIZE, SOL_PACKET,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_LEN,
} from "../../host/runtime/ffi.ts";
import { arpRequest, awaitFrame, icmpEchoRequest, inetChecksum, netnsSkipReason, parseArp, parseIcmpEcho, sameBytes, uniqueName } from "../helpers/netns.ts";

const skip = await netnsSkipReason();
const NS = `ustest-${process.pid}`;
const STACK_END = uniqueName("usa");
const KERNEL_END = uniqueName("usb");
const KERNEL_IP = "198.18.1.1";
const STACK_IP = "198.18.1.2";

if (!skip) process.on("exit", () => spawnSync("ip", ["netns", "delete", NS], { stdio: "ignore" }));

describe("packet: AF_PACKET socket on a veth pair in a test namespace", { skip: skip ?? false }, () => {
  let env: TestNamespace<PacketLink> | null = null;

  before(async () => {
    netnsDelete(NS);
    env = await createVethNamespace({ ns: NS, stackEnd: STACK_END, kernelEnd: KERNEL_END, kernelCidr: `${KERNEL_IP}/24` });
  });

  after(async () => {
    await env?.teardown();
  });

  test("packet: bound to the veth end, with that end's MAC and MTU", () => {
    const link = env!.link;
    assert.equal(link.kind, "packet");
    assert.equal(link.name, STACK_END);
    assert.equal(link.mtu, 1500);
    const shown = ip(["-n", NS, "link", "show", "dev", STACK_END]);
    assert.ok(shown.includes(formatMac(link.mac)), `${shown} has ${formatMac(link.mac)}`);
    assert.throws(() => ip(["link", "show", "dev", STACK_END]), /does not exist|failed/, "not in the host's namespace");
  });

  test("packet: ARP and ICMP echo with the kernel; our own frames never come back", async () => {
    const link = env!.link;
    link.send(arpRequest(link.mac, STACK_IP, KERNEL_IP));
    const arp = await awaitFrame(link, (f, n) => {
      const a = parseArp(f, n);
      return a && a.op === 2 && a.senderIp === KERNEL_IP ? a : null;
    });
    assert.ok(sameBytes(arp.value.targetMac, link.mac));
    const kernelMac = arp.value.senderMac;

    const payload = new TextEncoder().encode("ustack AF_PACKET echo");
    const seen: Uint8Array[] = [...arp.seen];
    for (let seq = 1; seq <= 3; seq++) {
      assert.equal(link.send(icmpEchoRequest(link.mac, kernelMac, STACK_IP, KERNEL_IP, 0xbeef, seq, payload)), true);
      const r = await awaitFrame(link, (f, n) => {
        const e = parseIcmpEcho(f, n);
        return e && e.type === 0 && e.id === 0xbeef && e.seq === seq ? e : null;
      }, { answerArp: { ip: STACK_IP, mac: link.mac } });
      assert.equal(r.value.srcIp, KERNEL_IP);
      assert.ok(r.value.ipChecksumOk && r.value.icmpChecksumOk);
      assert.ok(sameBytes(r.value.payload, payload));
      seen.push(...r.seen);
    }
    const own = seen.filter((f) => sameBytes(f.subarray(6, 12), link.mac));
    assert.equal(own.length, 0, "no frame we sent was read back (PACKET_OUTGOING ignored)");
    const s = link.stats();
    assert.equal(s.txFrames, 4);
    assert.equal(s.rxErrors + s.txErrors + s.txDropped + s.rxDropped, 0);
  });

  test("packet: a second socket with its own MAC in promiscuous mode gets the replies to that MAC", async () => {
    const libc = await loadLibc();
    const mac = Uint8Array.from([0x02, 0x55, 0x53, 0x54, 0x00, 0x42]);
    const link2 = withinNetns(libc, NS, () => PacketLink.openSync(libc, { ifname: STACK_END, mac }));
    try {
      assert.ok(sameBytes(link2.mac, mac));
      link2.send(arpRequest(mac, "198.18.1.3", KERNEL_IP));
      const r = await awaitFrame(link2, (f, n) => {
        const a = parseArp(f, n);
        return a && a.op === 2 && a.targetIp === "198.18.1.3" ? f.slice(0, 6) : null;
      });
      assert.ok(sameBytes(r.value, mac), "the reply is unicast to the second MAC and still read");
    } finally {
      await link2.close();
    }
  });

  test("packet: a frame longer than the slot is dropped and counted (MSG_TRUNC), never truncated", async (t) => {
    const ping = spawnSync("ping", ["-V"], { encoding: "utf8" });
    if (ping.error || ping.status !== 0) {
      t.skip("needs ping (iputils-ping; .ci/run installs it)");
      return;
    }
    const link = env!.link;
    const slot = new Uint8Array(link.maxFrameLen);
    while (link.receiveInto(slot) > 0);
    const before = link.stats();
    for (const dev of [STACK_END, KERNEL_END]) ip(["-n", NS, "link", "set", dev, "mtu", "9000"]);
    try {
      ip(["-n", NS, "neigh", "replace", STACK_IP, "lladdr", formatMac(link.mac), "dev", KERNEL_END]);
      spawnSync("ip", ["netns", "exec", NS, "ping", "-c", "1", "-s", "3000", "-W", "0.3", STACK_IP], { timeout: 5000 });
      link.send(arpRequest(link.mac, STACK_IP, KERNEL_IP));
      const r = await awaitFrame(link, (f, n) => {
        const a = parseArp(f, n);
        return a && a.op === 2 && a.senderIp === KERNEL_IP ? n : null;
      });
      assert.ok(r.seen.every((f) => f.length < link.maxFrameLen), "no oversized frame delivered");
      assert.equal(link.stats().rxDropped - before.rxDropped, 1, "the 3042-byte frame was dropped and counted");
    } finally {
      for (const dev of [STACK_END, KERNEL_END]) ip(["-n", NS, "link", "set", dev, "mtu", "1500"]);
    }
  });

  /** IPv4 TCP/UDP to STACK_IP on `port`: the frame's L4 checksum verdict; null for anything else. */
  const l4To = (proto: number, port: number) => (f: Uint8Array, n: number): { ok: boolean; len: number } | null => {
    if (n < 42 || f[12] !== 8 || f[13] !== 0 || f[23] !== proto) return null;
    const ihl = (f[14] & 15) * 4;
    const total = (f[16] << 8) | f[17];
    if (14 + total > n || ((f[14 + ihl + 2] << 8) | f[14 + ihl + 3]) !== port) return null;
    const l4len = total - ihl;
    const pseudo = new Uint8Array(12 + l4len);
    pseudo.set(f.subarray(26, 34), 0);
    pseudo[9] = proto;
    pseudo[10] = l4len >>> 8;
    pseudo[11] = l4len & 255;
    pseudo.set(f.subarray(14 + ihl, 14 + total), 12);
    return { ok: inetChecksum(pseudo, 0, pseudo.length) === 0, len: n };
  };

  test("packet: the kernel's own UDP and TCP frames come with checksums left to offload; the link completes them, a \"keep\" socket sees them partial", async () => {
    const link = env!.link;
    const libc = await loadLibc();
    const keep = withinNetns(libc, NS, () => PacketLink.openSync(libc, { ifname: STACK_END, checksumNotReady: "keep" }));
    try {
      const slot = new Uint8Array(link.maxFrameLen);
      for (const l of [link, keep] as Link[]) while (l.receiveInto(slot) > 0);
      const before = link.stats();
      ip(["-n", NS, "neigh", "replace", STACK_IP, "lladdr", formatMac(link.mac), "dev", KERNEL_END]);
      // The kernel's UDP and TCP (a SYN nobody answers) to the stack's address; veth keeps TX checksum offload on.
      const py = `import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"ustack offload " * 20, ("${STACK_IP}", 9997))
try: socket.create_connection(("${STACK_IP}", 9998), 0.2)
except OSError: pass`;
      const r = spawnSync("ip", ["netns", "exec", NS, "python3", "-c", py], { encoding: "utf8", timeout: 10_000 });
      assert.ok(r.status === 0 || r.error === undefined, r.stderr);
      for (const [proto, port] of [[17, 9997], [6, 9998]]) {
        const done = await awaitFrame(link, l4To(proto, port));
        assert.equal(done.value.ok, true, `proto ${proto}: the link hands the frame on with a valid checksum`);
        const raw = await awaitFrame(keep, l4To(proto, port));
        assert.equal(raw.value.ok, false, `proto ${proto}: as the kernel left it, the checksum is partial (offload is really on)`);
      }
      const s = link.stats();
      assert.equal(s.auxdata, true);
      assert.ok(s.rxCsumNotReady - before.rxCsumNotReady >= 2, "both were flagged TP_STATUS_CSUMNOTREADY");
      assert.equal(s.rxCsumCompleted - before.rxCsumCompleted, s.rxCsumNotReady - before.rxCsumNotReady, "and completed");
      const k = keep.stats();
      assert.ok(k.rxCsumNotReady >= 2);
      assert.equal(k.rxCsumCompleted, 0, "keep: flagged, not touched");
    } finally {
      await keep.close();
    }
  });

  test("packet: a TSO super-frame (GSO TCPv4 from a raw socket on the kernel end) arrives as MSS segments with valid checksums", async () => {
    const link = env!.link;
    const libc = await loadLibc();
    const slot = new Uint8Array(link.maxFrameLen);
    while (link.receiveInto(slot) > 0);
    const before = link.stats();
    // A raw socket on the kernel's end that writes one frame with a virtio_net_hdr saying
    // "TCPv4, cut at 1000 bytes, checksum not done": the kernel hands it to the veth as one
    // GSO skb, which reaches the stack's end uncut.
    const payload = Uint8Array.from({ length: 3500 }, (_, i) => (i * 7 + 3) & 255);
    const frame = tcpFrame(link.mac, payload, 0x10000000);
    const vnet = new Uint8Array(VIRTIO_NET_HDR_LEN);
    const vv = new DataView(vnet.buffer);
    vnet[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    vv.setUint16(2, 54, true); // hdr_len
    vv.setUint16(4, 1000, true); // gso_size
    vv.setUint16(6, 34, true); // csum_start: the TCP header
    vv.setUint16(8, 16, true); // csum_offset: TCP's checksum field
    const sent = withinNetns(libc, NS, () => sendRaw(libc, KERNEL_END, [vnet, frame]));
    assert.equal(sent, VIRTIO_NET_HDR_LEN + frame.length, "the kernel took the super-frame");
    const segs: Uint8Array[] = [];
    await awaitFrame(link, (f, n) => {
      const v = l4To(6, 8080)(f, n);
      if (!v) return null;
      assert.ok(v.ok, `segment ${segs.length}: valid TCP checksum`);
      assert.equal(inetChecksum(f, 14, 20), 0, "valid IPv4 header checksum");
      segs.push(f.slice(0, n));
      return segs.length === 4 ? true : null;
    });
    const seq = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).getUint32(38);
    assert.deepEqual(segs.map((f) => f.length - 54), [1000, 1000, 1000, 500]);
    assert.deepEqual(segs.map(seq), [0, 1, 2, 3].map((k) => 0x10000000 + k * 1000));
    assert.deepEqual(Uint8Array.from(segs.flatMap((f) => [...f.subarray(54)])), payload, "the payload, in order");
    const s = link.stats();
    assert.equal(s.vnetHdr, true);
    assert.equal(s.rxGsoFrames - before.rxGsoFrames, 1);
    assert.equal(s.rxGsoSegments - before.rxGsoSegments, 4);
    assert.equal(s.rxDropped - before.rxDropped, 0);
  });

  test("packet: an unknown interface is a clear error", async () => {
    const libc = await loadLibc();
    assert.throws(() => withinNetns(libc, NS, () => PacketLink.openSync(libc, { ifname: "nosuchif0" })), /if_nametoindex nosuchif0 failed: ENODEV/);
  });
});

/** Ethernet/IPv4/TCP 198.18.1.1:40000 -> 198.18.1.2:8080 (ACK|PSH) to `dst`, IP checksum set, TCP checksum 0. */
function tcpFrame(dst: Uint8Array, payload: Uint8Array, seq: number): Uint8Array {
  const total = 40 + payload.length;
  const f = new Uint8Array(14 + total);
  f.set(dst, 0);
  f.set([0x02, 0x00, 0x5e, 0x00, 0x01, 0x01, 0x08, 0x00], 6);
  const v = new DataView(f.buffer);
  f[14] = 0x45;
  v.setUint16(16, total);
  v.setUint16(18, 0x4242);
  f[20] = 0x40; // DF
  f[22] = 64;
  f[23] = 6;
  f.set([198, 18, 1, 1, 198, 18, 1, 2], 26);
  v.setUint16(24, inetChecksum(f, 14, 20));
  v.setUint16(34, 40000);
  v.setUint16(36, 8080);
  v.setUint32(38, seq);
  v.setUint32(42, 1);
  f[46] = 5 << 4;
  f[47] = 0x18;
  v.setUint16(48, 65535);
  f.set(payload, 54);
  return f;
}

/** Sends `parts` as one frame on `ifname` through a raw socket with PACKET_VNET_HDR; returns sendmsg's result. */
function sendRaw(libc: Libc, ifname: string, parts: Uint8Array[]): number {
  const fd = check(libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket(AF_PACKET)");
  try {
    const one = new Uint8Array(4);
    one[0] = 1;
    check(libc.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one), "setsockopt(PACKET_VNET_HDR)");
    const sll = new Uint8Array(SOCKADDR_LL_SIZE);
    const sv = new DataView(sll.buffer);
    sv.setUint16(0, AF_PACKET, true);
    sv.setInt32(4, libc.ifNameToIndex(ifname), true);
    sv.setUint8(11, 6);
    return libc.sendmsg(fd, parts, 0, sll);
  } finally {
    libc.close(fd);
  }
}
