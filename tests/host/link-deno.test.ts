// The links under Deno (the host runs there too): the same seeded in-memory wire gives
// the same deliveries under Node and Deno, and, as root, a TAP device opened through
// Deno.dlopen answers ARP from the kernel in a test namespace. Deno comes from the
// `deno` devDependency; skipped with a message when it is missing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { netnsSkipReason } from "../helpers/netns.ts";

// build/tests/host/ -> repository root
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const deno = join(root, "node_modules", ".bin", "deno");
const src = (p: string) => pathToFileURL(join(root, p)).href;
const built = (p: string) => pathToFileURL(join(root, "build", p.replace(/\.ts$/, ".js"))).href;

function runDeno(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(deno, ["eval", "--ext=ts", code], {
    encoding: "utf8", timeout: 60_000, cwd: root, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

/** A program that runs a faulty wire and prints its deliveries; `mod` is memory.ts's URL. */
const traceProgram = (memoryUrl: string, clockUrl: string) => `
import { createMemoryPair } from ${JSON.stringify(memoryUrl)};
import { VirtualClock } from ${JSON.stringify(clockUrl)};
const clock = new VirtualClock();
const pair = createMemoryPair({ clock, seed: 2024, faults: { loss: 0.1, duplicate: 0.05, reorder: 0.1, corrupt: 0.02, delayUs: 300, jitterUs: 200, bandwidthBps: 50_000_000 } });
const slot = new Uint8Array(new WebAssembly.Memory({ initial: 1 }).buffer, 0, 1518);
const out = [];
const drain = () => { for (let n = pair.b.receiveInto(slot); n > 0; n = pair.b.receiveInto(slot)) { let h = 0; for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + slot[i]) >>> 0; out.push(clock.nowUs() + ":" + n + ":" + h); } };
for (let i = 0; i < 300; i++) {
  const f = new Uint8Array(60 + (i % 200)); f[12] = 0x88; f[13] = 0xb5; f[14] = i >> 8; f[15] = i & 255;
  pair.a.send(f); drain(); clock.advanceUs(50); drain();
}
for (let g = 0; g < 10000 && pair.b.nextDeliveryAt() >= 0; g++) { clock.setUs(pair.b.nextDeliveryAt()); drain(); }
console.log(JSON.stringify({ out, wire: pair.a.txWireStats() }));
`;

test("link-deno: the seeded in-memory wire delivers the same frames under Node and Deno", async (t) => {
  if (!existsSync(deno)) {
    t.skip("deno not installed (npm install installs the deno devDependency)");
    return;
  }
  const program = traceProgram(built("host/link/memory.ts"), built("host/link/clock.ts"));
  const node = spawnSync(process.execPath, ["--input-type=module", "-e", program], { encoding: "utf8", timeout: 60_000 });
  assert.equal(node.status, 0, node.stderr);
  const d = runDeno(traceProgram(src("host/link/memory.ts"), src("host/link/clock.ts")));
  assert.equal(d.status, 0, d.stderr);
  const a = JSON.parse(node.stdout), b = JSON.parse(d.stdout);
  t.diagnostic(`seed 2024: ${a.out.length} deliveries, wire ${JSON.stringify(a.wire)}`);
  assert.ok(a.wire.lost > 0 && a.wire.duplicated > 0 && a.wire.reordered > 0 && a.wire.corrupted > 0, "every fault happened");
  assert.deepEqual(b, a);
});

test("link-deno: a TAP device opened through Deno.dlopen answers the kernel's ARP", async (t) => {
  if (!existsSync(deno)) {
    t.skip("deno not installed (npm install installs the deno devDependency)");
    return;
  }
  const reason = await netnsSkipReason();
  if (reason) {
    t.skip(reason);
    return;
  }
  const ns = `ustest-${process.pid}d`;
  const tap = `usd${process.pid}`;
  const program = `
import { createTapNamespace, netnsDelete } from ${JSON.stringify(src("host/netns.ts"))};
import { arpRequest, parseArp } from ${JSON.stringify(src("tests/helpers/netns.ts"))};
netnsDelete(${JSON.stringify(ns)});
const env = await createTapNamespace({ ns: ${JSON.stringify(ns)}, tap: ${JSON.stringify(tap)}, kernelCidr: "198.18.2.1/24" });
let result = "no reply";
try {
  const link = env.link;
  const mem = new WebAssembly.Memory({ initial: 1 });
  const slot = new Uint8Array(mem.buffer, 512, link.maxFrameLen);
  link.send(arpRequest(link.mac, "198.18.2.2", "198.18.2.1"));
  const deadline = Date.now() + 5000;
  for (let i = 0; i < 500 && Date.now() < deadline; i++) {
    const n = link.receiveInto(slot);
    if (n === 0) { await link.waitReadable(200); continue; }
    const a = parseArp(slot, n);
    if (a && a.op === 2 && a.senderIp === "198.18.2.1") { result = "reply from " + a.senderIp; break; }
  }
} finally {
  await env.teardown();
}
console.log(JSON.stringify({ result }));
`;
  try {
    const d = runDeno(program);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout.trim().split("\n").pop()!), { result: "reply from 198.18.2.1" });
  } finally {
    spawnSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  }
});

test("link-deno: AF_PACKET through Deno.dlopen (recvmsg/sendmsg with virtio_net_hdr and auxdata): ARP both ways, the kernel's offloaded UDP checksum completed", async (t) => {
  if (!existsSync(deno)) {
    t.skip("deno not installed (npm install installs the deno devDependency)");
    return;
  }
  const reason = await netnsSkipReason();
  if (reason) {
    t.skip(reason);
    return;
  }
  const ns = `ustest-${process.pid}p`;
  const a = `upd${process.pid}`;
  const b = `upk${process.pid}`;
  const program = `
import { createVethNamespace, netnsDelete, ip } from ${JSON.stringify(src("host/netns.ts"))};
import { formatMac } from ${JSON.stringify(src("host/link/link.ts"))};
import { arpRequest, parseArp, inetChecksum } from ${JSON.stringify(src("tests/helpers/netns.ts"))};
import { spawnSync } from "node:child_process";
netnsDelete(${JSON.stringify(ns)});
const env = await createVethNamespace({ ns: ${JSON.stringify(ns)}, stackEnd: ${JSON.stringify(a)}, kernelEnd: ${JSON.stringify(b)}, kernelCidr: "198.18.3.1/24" });
const result = { arp: "no reply", udp: "not seen", stats: null };
try {
  const link = env.link;
  const mem = new WebAssembly.Memory({ initial: 1 });
  const slot = new Uint8Array(mem.buffer, 512, link.maxFrameLen);
  link.send(arpRequest(link.mac, "198.18.3.2", "198.18.3.1"));
  ip(["-n", ${JSON.stringify(ns)}, "neigh", "replace", "198.18.3.2", "lladdr", formatMac(link.mac), "dev", ${JSON.stringify(b)}]);
  spawnSync("ip", ["netns", "exec", ${JSON.stringify(ns)}, "python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'deno' * 50, ('198.18.3.2', 9996))"], { timeout: 10000 });
  const deadline = Date.now() + 5000;
  for (let i = 0; i < 500 && Date.now() < deadline && (result.arp === "no reply" || result.udp === "not seen"); i++) {
    const n = link.receiveInto(slot);
    if (n === 0) { await link.waitReadable(200); continue; }
    const r = parseArp(slot, n);
    if (r && r.op === 2 && r.senderIp === "198.18.3.1") result.arp = "reply from " + r.senderIp;
    if (n > 42 && slot[12] === 8 && slot[13] === 0 && slot[23] === 17 && ((slot[36] << 8) | slot[37]) === 9996) {
      const l4len = ((slot[16] << 8) | slot[17]) - 20;
      const p = new Uint8Array(12 + l4len);
      p.set(slot.subarray(26, 34), 0); p[9] = 17; p[10] = l4len >> 8; p[11] = l4len & 255;
      p.set(slot.subarray(34, 34 + l4len), 12);
      result.udp = inetChecksum(p, 0, p.length) === 0 ? "checksum valid" : "checksum bad";
    }
  }
  const s = link.stats();
  result.stats = { auxdata: s.auxdata, vnetHdr: s.vnetHdr, completed: s.rxCsumCompleted > 0, txFrames: s.txFrames };
} finally {
  await env.teardown();
}
console.log(JSON.stringify(result));
`;
  try {
    const d = runDeno(program);
    assert.equal(d.status, 0, d.stderr);
    assert.deepEqual(JSON.parse(d.stdout.trim().split("\n").pop()!), {
      arp: "reply from 198.18.3.1", udp: "checksum valid",
      stats: { auxdata: true, vnetHdr: true, completed: true, txFrames: 1 },
    });
  } finally {
    spawnSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  }
});
