// AF_PACKET link on a veth pair inside a namespace this file creates and removes
// (SPEC §7): the stack's raw socket is bound to one end (no address), the kernel owns
// the other end with 198.18.1.1/24; the test plays the stack at 198.18.1.2.
// Needs root: skipped with a message otherwise.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { PacketLink } from "../../host/link/packet.ts";
import { formatMac } from "../../host/link/link.ts";
import { createVethNamespace, ip, netnsDelete, type TestNamespace, withinNetns } from "../../host/netns.ts";
import { loadLibc } from "../../host/runtime/ffi.ts";
import { arpRequest, awaitFrame, icmpEchoRequest, netnsSkipReason, parseArp, parseIcmpEcho, sameBytes, uniqueName } from "../helpers/netns.ts";

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

  test("packet: an unknown interface is a clear error", async () => {
    const libc = await loadLibc();
    assert.throws(() => withinNetns(libc, NS, () => PacketLink.openSync(libc, { ifname: "nosuchif0" })), /if_nametoindex nosuchif0 failed: ENODEV/);
  });
});
