// The `ustack` CLI: help and usage errors (anyone), and the README's TAP demo as root —
// `ustack netns up`, `ustack serve --http` in it, the kernel's ping and curl, the
// counters printed on exit, `ustack netns down` (also when something fails).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { netnsSkipReason } from "../helpers/netns.ts";
import { coreSkipReason } from "./stack-kit.ts";
import { patternSha256 } from "../../host/cli/http-demo.ts";

const bin = fileURLToPath(new URL("../../../bin/ustack.js", import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 30_000 });

test("ustack --help on every command; usage errors exit 2 with the reason", () => {
  for (const args of [["--help"], ["serve", "--help"], ["netns", "--help"], ["bench", "--help"], ["help", "serve"]]) {
    const r = cli(...args);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^ustack/);
  }
  assert.match(cli("serve", "--help").stdout, /--tap NAME/);
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage:/],
    [["serve"], /--ip A\.B\.C\.D\/LEN is required/],
    [["serve", "--ip", "198.18.0.2/24"], /exactly one of --tap NAME or --packet IFACE/],
    [["serve", "--tap", "x", "--ip", "198.18.0.2/24", "--echo", "--http"], /exclude each other/],
    [["serve", "--tap", "x", "--ip", "198.18.0.2/24", "--port", "70000"], /--port must be 1\.\.65535/],
    [["serve", "--bogus"], /unknown option --bogus/],
    [["netns", "sideways"], /expected "up" or "down"/],
    [["netns", "up", "--kernel-ip", "10.0.0.1/24"], /outside 198\.18\.0\.0\/15/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["bench", "--bogus"], /unknown option --bogus/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.notEqual(r.status, 0, `${args.join(" ")} should fail`);
    assert.match(r.stdout, re, `${args.join(" ")}: ${r.stdout}`);
  }
});

test("README TAP demo: netns up, serve --http, ping + curl from the namespace, netns down", async (t) => {
  const skip = (await netnsSkipReason()) || (await coreSkipReason()) ||
    (spawnSync("sh", ["-c", "command -v curl && command -v ping"]).status !== 0 ? "needs curl and ping" : null);
  if (skip) return t.skip(skip);
  const ns = `uc${process.pid % 100000}`;
  const tap = `${ns}t`;
  const up = cli("netns", "up", "--ns", ns, "--tap", tap, "--kernel-ip", "198.18.44.1/24");
  assert.equal(up.status, 0, up.stdout + up.stderr);
  try {
    assert.match(up.stdout, new RegExp(`ustack serve --netns ${ns} --tap ${tap} --ip 198\\.18\\.44\\.2/24 --http`));
    const server = spawn(process.execPath, [bin, "serve", "--netns", ns, "--tap", tap, "--ip", "198.18.44.2/24", "--http", "--max-seconds", "20"], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let out = "";
    server.stdout.on("data", (d) => { out += d; });
    server.stderr.on("data", (d) => { out += d; });
    const exited = new Promise<number | null>((r) => server.on("exit", (c) => r(c)));
    try {
      for (let i = 0; i < 100 && !/http server on/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /http server on 198\.18\.44\.2:80 \(tap /);
      const exec = (cmd: string[]) => new Promise<{ code: number | null; stdout: Buffer }>((resolve) => {
        const c = spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["ignore", "pipe", "ignore"] });
        const parts: Buffer[] = [];
        c.stdout.on("data", (b: Buffer) => parts.push(b));
        const timer = setTimeout(() => c.kill("SIGKILL"), 15_000);
        c.on("close", (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(parts) }); });
      });
      const ping = await exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.44.2"]);
      assert.match(ping.stdout.toString(), /3 received, 0% packet loss/);
      const hello = await exec(["curl", "-sS", "-m", "10", "http://198.18.44.2/"]);
      assert.match(hello.stdout.toString(), /hello from a userspace TCP\/IP stack/);
      const bytes = await exec(["curl", "-sS", "-m", "10", "http://198.18.44.2/bytes/1000000"]);
      assert.equal(createHash("sha256").update(bytes.stdout).digest("hex"), patternSha256(1_000_000));
    } finally {
      server.kill("SIGINT");
      const code = await exited;
      assert.equal(code, 0, out);
    }
    assert.match(out, /ustack: stopped\.[\s\S]*icmp_echo_request=3/, "counters printed on exit");
  } finally {
    const down = cli("netns", "down", "--ns", ns);
    assert.equal(down.status, 0, down.stdout);
  }
});
