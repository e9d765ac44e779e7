// Messages of `ustack serve` and `ustack netns` that must say what happened: `netns down`
// on a namespace that is not there, address errors before any device is opened, one
// "ustack" prefix on errors from the library.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { haveIp, netnsExists } from "../../host/netns.ts";
import { netnsSkipReason, uniqueName } from "../helpers/netns.ts";
import { coreSkipReason } from "./stack-kit.ts";

const bin = fileURLToPath(new URL("../../../bin/ustack.js", import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 30_000 });

test("netns down on a namespace that is not there says so (exit 0), as --help describes", { skip: haveIp() ? false : "needs iproute2 (`ip`)" }, () => {
  const ns = uniqueName("ucm");
  assert.equal(netnsExists(ns), false);
  const r = cli("netns", "down", "--ns", ns);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, `ustack: no namespace ${ns}; nothing to remove\n`);
  assert.match(cli("netns", "--help").stdout, /when there is no such namespace it says so and does nothing \(exit 0\)/);
});

test("serve: a malformed --ip or --gateway is a usage error before any device is opened", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--ip", "300.0.0.2/24"], /^ustack serve: --ip must be "a\.b\.c\.d\/len"/],
    [["--ip", "198.18.0.2"], /^ustack serve: --ip must be/],
    [["--ip", "198.18.0.2/24", "--gateway", "198.18.0"], /^ustack serve: --gateway must be an IPv4 address/],
  ];
  for (const [args, re] of cases) {
    // --tap with a name no device has: the usage error must come first.
    const r = cli("serve", "--tap", "ucm-none", ...args);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stdout, re);
  }
});

// An address the form accepts but the stack refuses (loopback) is reported by Stack.create
// after the link is open: AF_PACKET on lo (root), closed again at once.
test("serve: an error from Stack.create carries one prefix, not 'ustack serve: ustack:'", { skip: (await netnsSkipReason()) || (await coreSkipReason()) }, () => {
  const r = cli("serve", "--packet", "lo", "--ip", "127.0.0.2/8");
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ustack serve: option ipv4 127\.0\.0\.2\/8 is not a unicast host address\n$/);
});
