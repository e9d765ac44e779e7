// TAP link against the Linux kernel, inside a namespace this file creates and removes
// (SPEC §7). The kernel side of the TAP has 198.18.0.1/24; the test plays the stack at
// 198.18.0.2 with crafted frames. Needs root: skipped with a message otherwise.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { TapLink } from "../../host/link/tap.ts";
import { createTapNamespace, ip, netnsDelete, type TestNamespace, withinNetns } from "../../host/netns.ts";
import { loadLibc } from "../../host/runtime/ffi.ts";
import { arpReply, arpRequest, awaitFrame, icmpEchoRequest, netnsSkipReason, parseArp, parseIcmpEcho, sameBytes, uniqueName } from "../helpers/netns.ts";

const skip = await netnsSkipReason();
const NS = `ustest-${process.pid}`;
const TAP = uniqueName("ust");
const KERNEL_IP = "198.18.0.1";
const STACK_IP = "198.18.0.2";

if (!skip) {
  // Last resort if the process dies before `after` runs.
  process.on("exit", () => spawnSync("ip", ["netns", "delete", NS], { stdio: "ignore" }));
}

describe("tap: TAP device talking to the kernel in a test namespace", { skip: skip ?? false }, () => {
  let env: TestNamespace<TapLink> | null = null;
  let kernelMac: Uint8Array | null = null;

  before(async () => {
    netnsDelete(NS); // a leftover of an earlier crashed run with the same pid
    env = await createTapNamespace({ ns: NS, tap: TAP, kernelCidr: `${KERNEL_IP}/24` });
  });

  after(async () => {
    await env?.teardown();
  });

  test("tap: the device exists inside the namespace only", () => {
    const link = env!.link;
    assert.equal(link.name, TAP);
    assert.equal(link.kind, "tap");
    assert.equal(link.mtu, 1500);
    assert.equal(link.maxFrameLen, 1518);
    assert.match(ip(["-n", NS, "link", "show", "dev", TAP]), /state UP|LOWER_UP/);
    assert.throws(() => ip(["link", "show", "dev", TAP]), /does not exist|failed/, "not in the host's namespace");
  });

  test("tap: the kernel answers an ARP request", async () => {
    const link = env!.link;
    assert.equal(link.send(arpRequest(link.mac, STACK_IP, KERNEL_IP)), true);
    const { value } = await awaitFrame(link, (f, n) => {
      const a = parseArp(f, n);
      return a && a.op === 2 && a.senderIp === KERNEL_IP && a.targetIp === STACK_IP ? { arp: a, dst: f.slice(0, 6) } : null;
    });
    assert.ok(sameBytes(value.arp.targetMac, link.mac), "reply names our MAC");
    assert.ok(sameBytes(value.dst, link.mac), "reply is unicast to us");
    kernelMac = value.arp.senderMac;
  });

  test("tap: the kernel answers ICMP echo requests, read in a batch into WebAssembly.Memory", async () => {
    const link = env!.link;
    assert.ok(kernelMac, "the ARP test ran first");
    const payload = Uint8Array.from({ length: 56 }, (_, i) => i);
    const requests = [1, 2, 3, 4, 5].map((seq) => icmpEchoRequest(link.mac, kernelMac!, STACK_IP, KERNEL_IP, 0x5157, seq, payload));
    assert.equal(link.sendBatch(requests), 5);

    const mem = new WebAssembly.Memory({ initial: 1 });
    const slots = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => new Uint8Array(mem.buffer, 2048 + i * 2048, link.maxFrameLen));
    const lengths = new Uint32Array(8);
    const replies = new Map<number, ReturnType<typeof parseIcmpEcho>>();
    const deadline = Date.now() + 5000;
    for (let round = 0; round < 200 && replies.size < 5 && Date.now() < deadline; round++) {
      const n = link.receiveBatch(slots, lengths);
      for (let i = 0; i < n; i++) {
        const e = parseIcmpEcho(slots[i], lengths[i]);
        if (e && e.type === 0 && e.id === 0x5157) replies.set(e.seq, e);
        const a = parseArp(slots[i], lengths[i]);
        if (a && a.op === 1 && a.targetIp === STACK_IP) {
          // The kernel may re-check our address: answer as the stack would.
          link.send(arpReply(link.mac, STACK_IP, a.senderMac, a.senderIp));
        }
      }
      if (n === 0) await link.waitReadable(Math.max(1, Math.min(200, deadline - Date.now())));
    }
    assert.deepEqual([...replies.keys()].sort(), [1, 2, 3, 4, 5]);
    for (const e of replies.values()) {
      assert.equal(e!.srcIp, KERNEL_IP);
      assert.equal(e!.dstIp, STACK_IP);
      assert.ok(e!.ipChecksumOk && e!.icmpChecksumOk, "checksums verify");
      assert.ok(sameBytes(e!.payload, payload), "payload echoed");
      assert.ok(sameBytes(e!.dstMac, link.mac));
    }
    const s = link.stats();
    assert.ok(s.rxFrames >= 6 && s.txFrames >= 6, JSON.stringify(s));
    assert.equal(s.rxErrors + s.txErrors + s.txDropped, 0);
  });

  test("tap: waitReadable polls on a worker; the event loop keeps running", async () => {
    const link = env!.link;
    while (link.receiveInto(new Uint8Array(link.maxFrameLen)) > 0); // start from an empty queue
    const wait = link.waitReadable(5000);
    // 50 event-loop turns must complete while the wait is pending; only then do we make
    // the kernel send something. A wait that blocked the JS thread would never let them run.
    let turns = 0;
    await new Promise<void>((resolve) => {
      const spin = () => (++turns < 50 ? setImmediate(spin) : resolve());
      setImmediate(spin);
    });
    assert.equal(turns, 50);
    link.send(arpRequest(link.mac, STACK_IP, KERNEL_IP));
    assert.equal(await wait, true, "the kernel's reply ends the wait");
  });

  test("tap: interrupt ends a pending wait, and so does close", async () => {
    const link = env!.link;
    while (link.receiveInto(new Uint8Array(link.maxFrameLen)) > 0);
    const t0 = Date.now();
    const w = link.waitReadable(Infinity);
    setImmediate(() => link.interrupt());
    assert.equal(await w, false);
    assert.ok(Date.now() - t0 < 2000, "interrupt returns promptly");

    // A second device in the same namespace, closed while a wait is pending.
    const libc = await loadLibc();
    const other = uniqueName("usu");
    const link2 = withinNetns(libc, NS, () => TapLink.openSync(libc, { name: other }));
    assert.match(ip(["-n", NS, "link", "show", "dev", other]), new RegExp(other));
    const w2 = link2.waitReadable(Infinity);
    await link2.close();
    assert.equal(await w2, false);
    assert.equal(link2.closed, true);
    assert.equal(link2.receiveInto(new Uint8Array(1518)), 0);
    assert.equal(link2.send(new Uint8Array(60)), false);
    assert.throws(() => ip(["-n", NS, "link", "show", "dev", other]), /does not exist|failed/, "the device went with its fd");
  });

  test("tap: a frame longer than the slot (kernel MTU raised) is dropped and counted, never truncated", async (t) => {
    const ping = spawnSync("ping", ["-V"], { encoding: "utf8" });
    if (ping.error || ping.status !== 0) {
      t.skip("needs ping (iputils-ping; .ci/run installs it)");
      return;
    }
    const link = env!.link;
    const slot = new Uint8Array(link.maxFrameLen);
    while (link.receiveInto(slot) > 0);
    const before = link.stats();
    ip(["-n", NS, "link", "set", TAP, "mtu", "9000"]);
    try {
      const mac = Array.from(link.mac, (b) => b.toString(16).padStart(2, "0")).join(":");
      ip(["-n", NS, "neigh", "replace", STACK_IP, "lladdr", mac, "dev", TAP]);
      // One 3042-byte frame from the kernel (the echo request; nobody answers it).
      spawnSync("ip", ["netns", "exec", NS, "ping", "-c", "1", "-s", "3000", "-W", "0.3", STACK_IP], { timeout: 5000 });
      // Then a normal-sized frame, which must still come through intact.
      link.send(arpRequest(link.mac, STACK_IP, KERNEL_IP));
      const lengths: number[] = [];
      let gotArpReply = false;
      const deadline = Date.now() + 5000;
      for (let i = 0; i < 100 && Date.now() < deadline && !gotArpReply; i++) {
        const n = link.receiveInto(slot);
        if (n === 0) {
          await link.waitReadable(200);
          continue;
        }
        lengths.push(n);
        const a = parseArp(slot, n);
        gotArpReply = a !== null && a.op === 2 && a.senderIp === KERNEL_IP;
      }
      assert.ok(gotArpReply, `the ARP reply arrived intact (frames seen: ${lengths.join(",")})`);
      assert.ok(lengths.every((n) => n < link.maxFrameLen), "no truncated frame was delivered");
      assert.equal(link.stats().rxDropped - before.rxDropped, 1, "the jumbo frame was dropped and counted");
    } finally {
      ip(["-n", NS, "link", "set", TAP, "mtu", "1500"]);
    }
  });

  test("tap: a persistent device outlives its link, can be attached again, and is removed on request", async () => {
    const libc = await loadLibc();
    const name = uniqueName("usp");
    const exists = () => {
      try {
        ip(["-n", NS, "link", "show", "dev", name]);
        return true;
      } catch {
        return false;
      }
    };
    try {
      const l1 = withinNetns(libc, NS, () => TapLink.openSync(libc, { name, persist: true }));
      await l1.close();
      assert.equal(exists(), true, "still there after close");
      const l2 = withinNetns(libc, NS, () => TapLink.openSync(libc, { name }));
      assert.equal(l2.name, name, "attached again by name");
      await l2.close();
      withinNetns(libc, NS, () => TapLink.removePersistent(libc, name));
      assert.equal(exists(), false, "removed");
    } finally {
      if (exists()) withinNetns(libc, NS, () => TapLink.removePersistent(libc, name));
    }
  });

  test("tap: bad options are rejected with a clear message", async () => {
    await assert.rejects(TapLink.open({ name: "a-name-longer-than-15" }), /1 to 15 bytes/);
    await assert.rejects(TapLink.open({ name: "x", mac: "ff:ff:ff:ff:ff:ff" }), /multicast/);
    await assert.rejects(TapLink.open({ name: "x", mtu: 20 }), /mtu/);
  });
});
