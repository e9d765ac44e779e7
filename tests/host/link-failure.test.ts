// Link drivers on a device that fails (no root: a scripted fake libc). A TAP whose
// device was deleted answers EBADFD on read and write (and POLLERR for ever); an
// AF_PACKET socket whose interface is gone answers ENETDOWN once, then ENXIO on send;
// a descriptor that is not open POLLNVAL. Those fail the link for good (link.failure,
// a SysError with code, errno and syscall) and the link stops touching the device;
// EAGAIN, EINTR, ENOBUFS and a device that is merely down (EIO, ENETDOWN with the
// interface still there) are only counted. driver-deadlink.test.ts covers what the
// stack does with a failed link.

import { test } from "node:test";
import assert from "node:assert/strict";
import { TapLink } from "../../host/link/tap.ts";
import { PacketLink } from "../../host/link/packet.ts";
import { EAGAIN, EBADFD, EINTR, EIO, ENETDOWN, ENOBUFS, ENODEV, ENXIO, POLLERR, POLLNVAL } from "../../host/runtime/ffi.ts";
import { fakeLibc, frame, slot, type Script } from "../helpers/fake-libc.ts";
import { ImpairLink } from "../../host/link/impair.ts";
import { MemoryPcapSink, PcapLink } from "../../host/link/pcap.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { VirtualClock } from "../../host/link/clock.ts";

test("link-failure: TAP: EAGAIN, EINTR and EIO (device down) on read, ENOBUFS and EIO on write pass; EBADFD (device deleted) fails the link for good", async () => {
  const script: Script = { read: -EAGAIN, write: null, revents: 0, ifname: 0 };
  const calls: Record<string, number> = {};
  const link = TapLink.openSync(fakeLibc(script, calls), { name: "fake0", mtu: 1500 });
  for (const errno of [EAGAIN, EINTR, EIO]) {
    script.read = -errno;
    assert.equal(link.receiveInto(slot()), 0);
    assert.equal(link.failure, null, `read -${errno} is transient`);
  }
  for (const errno of [ENOBUFS, EAGAIN, EIO]) {
    script.write = -errno;
    assert.equal(link.send(frame()), false);
    assert.equal(link.failure, null, `write -${errno} is transient`);
  }
  script.write = null;
  assert.equal(link.send(frame()), true, "a transient error leaves the link working");
  assert.deepEqual({ rx: link.stats().rxErrors, tx: link.stats().txErrors }, { rx: 2, tx: 1 }, "EINTR, EIO counted on read; EIO on write");

  script.read = -EBADFD; // what tun(4) answers once `ip link del` removed the device
  script.revents = POLLERR;
  assert.equal(link.receiveInto(slot()), 0);
  const f = link.failure as Error & { code: string; syscall: string; errno: number };
  assert.ok(f, "EBADFD fails the link");
  assert.deepEqual([f.code, f.syscall, f.errno], ["EBADFD", "read", EBADFD]);
  const before = { ...calls };
  assert.equal(link.receiveInto(slot()), 0);
  assert.equal(link.send(frame()), false);
  assert.equal(await link.waitReadable(1000), false, "a failed link's wait returns at once");
  assert.deepEqual(calls, before, "a failed link does not touch the device any more");
  assert.equal(link.closed, false, "failed, but the fd is still the app's (the stack's) to close");
  await link.close();
  assert.equal(calls.close, 2, "the device fd and the eventfd are closed");
});

test("link-failure: TAP: EBADFD on write and POLLNVAL from poll fail the link", async () => {
  {
    const script: Script = { read: -EAGAIN, write: -EBADFD, revents: 0, ifname: 0 };
    const link = TapLink.openSync(fakeLibc(script, {}), { name: "fake1", mtu: 1500 });
    assert.equal(link.send(frame()), false);
    assert.equal((link.failure as Error & { code: string } | null)?.code, "EBADFD");
    await link.close();
  }
  {
    const script: Script = { read: -EAGAIN, write: null, revents: POLLNVAL, ifname: 0 };
    const link = TapLink.openSync(fakeLibc(script, {}), { name: "fake2", mtu: 1500 });
    assert.equal(await link.waitReadable(50), false, "POLLNVAL is no frame");
    const f = link.failure as Error & { code: string; syscall: string } | null;
    assert.deepEqual([f?.code, f?.syscall], ["EBADF", "poll"]);
    await link.close();
  }
});

test("link-failure: AF_PACKET: ENETDOWN with the interface still there passes; with it gone (SIOCGIFNAME: ENODEV) or ENXIO on send, the link fails", async () => {
  const script: Script = { read: -ENETDOWN, write: null, revents: 0, ifname: 0 };
  const link = PacketLink.openSync(fakeLibc(script, {}), { ifname: "fakev0", mtu: 1500 });
  assert.equal(link.receiveInto(slot()), 0);
  script.write = -ENETDOWN;
  assert.equal(link.send(frame()), false);
  assert.equal(link.failure, null, "a down interface comes back: ENETDOWN alone is transient");
  script.ifname = -ENODEV; // the bound interface index is gone
  assert.equal(link.receiveInto(slot()), 0);
  const f = link.failure as Error & { code: string; syscall: string } | null;
  assert.deepEqual([f?.code, f?.syscall], ["ENODEV", "recvfrom"]);
  assert.match(f!.message, /interface index 7 is gone/);
  await link.close();

  const script2: Script = { read: -EAGAIN, write: -ENXIO, revents: 0, ifname: 0 };
  const link2 = PacketLink.openSync(fakeLibc(script2, {}), { ifname: "fakev1", mtu: 1500 });
  assert.equal(link2.send(frame()), false);
  assert.equal((link2.failure as Error & { code: string } | null)?.code, "ENXIO", "sendto ENXIO: no such interface index");
  await link2.close();
});


test("link-failure: the pcap recorder and the impairment wrapper report the device's failure, and a wrapped link closed behind their back", async () => {
  const script: Script = { read: -EAGAIN, write: null, revents: 0, ifname: 0 };
  const tap = TapLink.openSync(fakeLibc(script, {}), { name: "fake4", mtu: 1500 });
  const clock = new VirtualClock();
  const pcap = new PcapLink(tap, new MemoryPcapSink(), clock);
  const impair = new ImpairLink(pcap, { clock });
  assert.equal(pcap.failure, null);
  assert.equal(impair.failure, null);
  script.read = -EBADFD;
  assert.equal(impair.receiveInto(slot()), 0);
  assert.equal((pcap.failure as Error & { code?: string } | null)?.code, "EBADFD");
  assert.equal(impair.failure, tap.failure);
  await impair.close();
  assert.equal(tap.closed, true);

  const pair = createMemoryPair({ clock });
  const wrapped = new ImpairLink(pair.a, { clock });
  await pair.a.close();
  assert.equal(wrapped.closed, true, "closed with the link it wraps");
  await wrapped.close();
});
