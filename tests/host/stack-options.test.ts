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
  ["maxConnections as a string", { maxConnections: "10" as never }, /maxConnections must be a number/],
  ["shards not a power of two", { shards: 3 }, /shards must be a power of two/],
  ["shards 512", { shards: 512 }, /shards must be an integer from 1 to 256/],
  ["timeWaitMs negative", { timeWaitMs: -1 }, /timeWaitMs must be an integer from 0/],
  ["mtu above the link's", { mtu: 9000 }, /mtu 9000 exceeds the link's MTU 1500/],
  ["slot too small for the link", { slotSize: 1024 }, /slotSize 1024 holds frames up to 1008 bytes; the link needs 1518/],
  ["unknown option", { maxConnection: 5 }, /unknown option maxConnection/],
  ["secret of 8 bytes", { secret: new Uint8Array(8) }, /secret must be a Uint8Array of 16 bytes/],
  ["bad mode", { mode: "turbo" as never }, /mode must be "loop" or "manual"/],
  ["unknown congestion control", { congestionControl: "bbr" as never }, /congestionControl must be "cubic" or "newreno"/],
  // Not host addresses (RFC 1122 §3.2.1.3, RFC 6890): the core's own check lets 0/8 and 240/4 through.
  ["a \"this network\" address", { ipv4: "0.0.0.1/8" }, /ipv4 0\.0\.0\.1\/8 is not a unicast host address \(0\.0\.0\.0\/8 is "this network"/],
  ["a reserved (class E) address", { ipv4: "240.0.0.1/8" }, /ipv4 240\.0\.0\.1\/8 is not a unicast host address \(240\.0\.0\.0\/4 is reserved/],
  ["a multicast address", { ipv4: "224.0.0.1/24" }, /ipv4 224\.0\.0\.1\/24 is not a unicast host address$/],
  ["the limited broadcast address", { ipv4: "255.255.255.255/32" }, /ipv4 255\.255\.255\.255\/32 is not a unicast host address$/],
  ["gateway = the subnet's broadcast address", { gateway: "198.18.0.255" }, /gateway 198\.18\.0\.255 is the broadcast address of our subnet 198\.18\.0\.0\/24/],
  ["gateway = the subnet's network address", { gateway: "198.18.0.0" }, /gateway 198\.18\.0\.0 is the network address of our subnet 198\.18\.0\.0\/24/],
  ["a multicast gateway on a /1", { ipv4: "198.18.0.1/1", gateway: "224.0.0.1" }, /gateway 224\.0\.0\.1 is not a unicast host address/],
  ["a reserved gateway on a /1", { ipv4: "198.18.0.1/1", gateway: "240.0.0.1" }, /gateway 240\.0\.0\.1 is not a unicast host address \(240\.0\.0\.0\/4 is reserved/],
  ["a loopback gateway on a /1", { ipv4: "100.64.0.1/1", gateway: "127.0.0.1" }, /gateway 127\.0\.0\.1 is not a unicast host address/],
  ["gateway 255.255.255.255", { gateway: "255.255.255.255" }, /gateway 255\.255\.255\.255 is not a unicast host address/],
  // A clock that cannot tell the time (it used to fail with "The number NaN cannot be converted to a BigInt").
  ["a clock whose nowUs() returns NaN", { clock: { nowUs: () => NaN } }, /option clock: nowUs\(\) returned NaN; it must return a finite, non-negative number of microseconds/],
  ["a clock whose nowUs() is negative", { clock: { nowUs: () => -5 } }, /option clock: nowUs\(\) returned -5/],
  ["a clock whose nowUs() is Infinity", { clock: { nowUs: () => Infinity } }, /option clock: nowUs\(\) returned Infinity/],
  ["a clock whose nowUs() returns a bigint", { clock: { nowUs: () => 5n as never } }, /option clock: nowUs\(\) must return a number of microseconds \(got 5n, a bigint\)/],
  ["a clock whose nowUs() throws", { clock: { nowUs: () => { throw new Error("no time"); } } }, /option clock: nowUs\(\) threw \(no time\)/],
  ["a clock without nowUs", { clock: {} as never }, /option clock must have nowUs\(\)/],
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

test("host addresses and gateways that are valid pass: /31 and /32 (RFC 3021), the last host as gateway", () => {
  assert.equal(checkStackOptions({ ...base, ipv4: "198.18.0.1/31", gateway: "198.18.0.0" }).gateway, 0xc6120000, "a /31 has no network or broadcast address");
  assert.equal(checkStackOptions({ ...base, ipv4: "198.18.0.0/31" }).addr, 0xc6120000);
  assert.equal(checkStackOptions({ ...base, ipv4: "198.18.0.1/32" }).prefixLen, 32);
  assert.equal(checkStackOptions({ ...base, gateway: "198.18.0.254" }).gateway, 0xc61200fe);
  assert.equal(checkStackOptions({ ...base, ipv4: "198.18.0.1/1", gateway: "223.255.255.254" }).gateway, 0xdffffffe);
  assert.equal(checkStackOptions({ ...base, clock: { nowUs: () => 0 } }).mode, "loop", "0 µs is a valid time");
});

test("a clock that goes bad while the stack runs: step() throws a RangeError naming the clock", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  let now = 1_000_000;
  const clock = { nowUs: () => now };
  const p = createMemoryPair({ clock: new VirtualClock() });
  const s = await Stack.create({ link: p.a, ipv4: "198.18.0.1/24", clock, mode: "manual" });
  try {
    s.driver.step();
    for (const bad of [NaN, -1, Infinity]) {
      now = bad;
      assert.throws(() => s.driver.step(), (e: Error) => e instanceof RangeError && e.message === `ustack: the clock's nowUs() returned ${bad}; it must return a finite, non-negative number of microseconds`);
    }
    now = 2_000_000;
    assert.doesNotThrow(() => s.driver.step(), "a good reading works again");
  } finally {
    await s.close();
  }
});

test("stats() reports every counter section; close() is idempotent", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo();
  const s = d.a.stats();
  for (const k of ["core", "memory", "iface", "tcp", "link", "driver", "gauges"] as const) assert.ok(k in s, k);
  assert.equal(s.gauges.connections, 0, "occupancy gauges: no connection yet");
  assert.ok(s.gauges.arpEntries >= 0 && "timersActive" in s.gauges && "timeWait" in s.gauges);
  assert.ok(Object.keys(s.core).length >= 20, "core counters by name");
  assert.ok(s.memory.bytesPerConnection > 0);
  assert.equal(s.link.kind, "memory");
  assert.ok(s.core.txFrames >= 1, "the gratuitous ARP went out");
  assert.equal(s.iface.arp_tx_gratuitous, 1);
  await d.close();
  await d.close();
  assert.equal(d.pair.a.closed, true, "close() released the link");
});
