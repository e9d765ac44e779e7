// Stack.create rejects invalid options with a message naming the option, before it
// instantiates anything; and stats()/close() on a running stack.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Stack, checkStackOptions, type StackOptions } from "../../host/stack.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { VirtualClock } from "../../host/link/clock.ts";
import { coreSkipReason, duo } from "./stack-kit.ts";

const vclock = new VirtualClock();
const pair = createMemoryPair({ clock: vclock });
const base: StackOptions = { link: pair.a, ipv4: "198.18.0.1/24", clock: vclock };

const bad: Array<[string, Partial<StackOptions> & Record<string, unknown>, RegExp]> = [
  ["missing ipv4", { ipv4: undefined }, /ipv4 must be a string "a\.b\.c\.d\/len"/],
  ["ipv4 without prefix", { ipv4: "198.18.0.1" }, /ipv4 must be "a\.b\.c\.d\/len"/],
  ["ipv4 octet > 255", { ipv4: "198.18.0.256/24" }, /ipv4/],
  ["prefix 33", { ipv4: "198.18.0.1/33" }, /len 1\.\.32/],
  ["loopback address", { ipv4: "127.0.0.1/8" }, /not a unicast host address/],
  ["network address", { ipv4: "198.18.0.0/24" }, /network or broadcast/],
  ["broadcast address", { ipv4: "198.18.0.255/24" }, /network or broadcast/],
  ["gateway off subnet", { gateway: "198.18.1.1" }, /gateway 198\.18\.1\.1 is not on our subnet 198\.18\.0\.0\/24/],
  ["gateway is us", { gateway: "198.18.0.1" }, /our own address/],
  ["gateway not an address", { gateway: "router" }, /gateway must be an IPv4 address/],
  ["multicast mac", { mac: "01:00:5e:00:00:01" }, /multicast/],
  ["zero mac", { mac: "00:00:00:00:00:00" }, /must not be 00:00:00:00:00:00/],
  ["maxConnections 0", { maxConnections: 0 }, /maxConnections must be an integer from 1/],
  ["maxConnections 1.5", { maxConnections: 1.5 }, /maxConnections must be an integer/],
  ["shards not a power of two", { shards: 3 }, /shards must be a power of two/],
  ["shards 512", { shards: 512 }, /shards must be an integer from 1 to 256/],
  ["timeWaitMs negative", { timeWaitMs: -1 }, /timeWaitMs must be an integer from 0/],
  ["mtu above the link's", { mtu: 9000 }, /mtu 9000 exceeds the link's MTU 1500/],
  ["slot too small for the link", { slotSize: 1024 }, /slotSize 1024 holds frames up to 1008 bytes; the link needs 1518/],
  ["unknown option", { maxConnection: 5 }, /unknown option maxConnection/],
  ["secret of 8 bytes", { secret: new Uint8Array(8) }, /secret must be a Uint8Array of 16 bytes/],
  ["bad mode", { mode: "turbo" as never }, /mode must be "loop" or "manual"/],
  ["unknown congestion control", { congestionControl: "bbr" as never }, /congestionControl must be "cubic" or "newreno"/],
];

for (const [what, patch, re] of bad) {
  test(`Stack.create rejects ${what}`, async () => {
    const o = { ...base, ...patch } as StackOptions;
    assert.throws(() => checkStackOptions(o), re);
    await assert.rejects(Stack.create(o), re);
  });
}

test("Stack.create rejects a missing or closed link", async () => {
  await assert.rejects(Stack.create({ ipv4: "198.18.0.1/24" } as StackOptions), /option link must be a Link/);
  const p = createMemoryPair();
  await p.b.close();
  await assert.rejects(Stack.create({ link: p.b, ipv4: "198.18.0.1/24" }), /link is already closed/);
});

test("valid options pass and keep their values", () => {
  const c = checkStackOptions({ ...base, gateway: "198.18.0.254", maxConnections: 2000, shards: 64, timeWaitMs: 5, congestionControl: "newreno" });
  assert.equal(c.config.congestionControl, 1);
  assert.equal(c.gateway, 0xc61200fe);
  assert.equal(c.prefixLen, 24);
  assert.equal(c.config.maxConnections, 2000);
  assert.equal(c.config.shards, 64);
  assert.equal(c.timeWaitMs, 5);
  assert.equal(c.mode, "manual", "a VirtualClock selects manual mode");
});

test("stats() reports every counter section; close() is idempotent", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo();
  const s = d.a.stats();
  for (const k of ["core", "memory", "iface", "tcp", "link", "driver"] as const) assert.ok(k in s, k);
  assert.ok(Object.keys(s.core).length >= 20, "core counters by name");
  assert.ok(s.memory.bytesPerConnection > 0);
  assert.equal(s.link.kind, "memory");
  assert.ok(s.core.txFrames >= 1, "the gratuitous ARP went out");
  assert.equal(s.iface.arp_tx_gratuitous, 1);
  await d.close();
  await d.close();
  assert.equal(d.pair.a.closed, true, "close() released the link");
});
