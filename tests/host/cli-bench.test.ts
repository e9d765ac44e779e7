// `ustack bench` as a user meets it: --out/--chart paths checked before the run, the
// results printed before any file is written, the sweep's ±5 % verdict only with enough
// samples, the handshake target scored at c=100 only, help text that stands on its own.
// Short runs, never a timing assertion.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchMain, BENCH_HELP, sweepLevelVerdict, sweepVerdict, unwritableReason } from "../../host/cli/bench.ts";
import { formatTable, targets, type RunReport } from "../../host/bench/report.ts";
import { coreSkipReason } from "./stack-kit.ts";

const bin = fileURLToPath(new URL("../../../bin/ustack.js", import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, [bin, "bench", ...args], { encoding: "utf8", timeout: 120_000 });
const skip = await coreSkipReason();

test("bench --help: no references a user cannot follow; --shards takes any power of two", () => {
  assert.doesNotMatch(BENCH_HELP, /SPEC|issue \d/);
  assert.match(BENCH_HELP, /--shards N .*power of two from 1 to 256/);
  const p = bench("--help");
  assert.equal(p.status, 0);
  assert.equal(p.stdout, BENCH_HELP);
});

test("bench: an unusable --out or --chart path fails before the run, exit 2, nothing measured", () => {
  const dir = mkdtempSync(join(tmpdir(), "ustack-cli-bench-"));
  try {
    const missing = join(dir, "no-such-dir", "r.json");
    const cases: Array<[string[], RegExp]> = [
      [["--out", missing], /--out .*no-such-dir.*does not exist; nothing was run/],
      [["--chart", dir], /--chart .* is a directory; nothing was run/],
      [["--out", join(dir, "ok.json"), "--chart", join(missing, "c.svg")], /--chart .*does not exist; nothing was run/],
    ];
    for (const [args, re] of cases) {
      // A 10-minute run if the check did not stop it: the timeout would fail the test.
      const p = bench(...args, "--duration", "600");
      assert.equal(p.status, 2, p.stdout + p.stderr);
      assert.match(p.stdout, re);
      assert.doesNotMatch(p.stdout, /connections\/s/);
    }
    assert.equal(existsSync(join(dir, "ok.json")), false, "nothing written when another path is bad");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unwritableReason: writable new file and existing file pass; a file as directory does not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ustack-cli-bench-"));
  try {
    assert.equal(await unwritableReason("--out", join(dir, "new.json")), null);
    assert.equal(await unwritableReason("--out", bin), null);
    assert.match((await unwritableReason("--out", join(bin, "x.json")))!, /is not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// /dev/full passes the up-front check (an existing, writable file) and fails on write
// (ENOSPC): the table must already be out, the failure reported, the exit code 1.
test("bench: a file that fails to write after the run does not lose the results", { skip: skip || (existsSync("/dev/full") ? false : "needs /dev/full") }, () => {
  const p = bench("--out", "/dev/full", "--connections", "2000", "--concurrency", "20", "--warmup", "0");
  assert.equal(p.status, 1, p.stdout + p.stderr);
  assert.match(p.stdout, /connections\/s \(mean\)/);
  assert.match(p.stderr, /--out \/dev\/full not written/);
});

test("sweep verdict: ±5 % needs at least 3 samples per level; too few is never PASS", () => {
  assert.equal(sweepLevelVerdict([100], 100).verdict, "too short");
  assert.equal(sweepLevelVerdict([100, 100], 100).verdict, "too short");
  assert.equal(sweepLevelVerdict([], 100).verdict, "too short");
  assert.equal(sweepLevelVerdict([100, 104, 96], 100).verdict, "stable");
  assert.deepEqual(sweepLevelVerdict([100, 110, 90], 100), { verdict: "unstable", maxDeviationPct: 10 });
  assert.equal(sweepVerdict(["stable", "stable"]), "PASS");
  assert.equal(sweepVerdict(["stable", "too short"]), "too short to judge");
  assert.equal(sweepVerdict(["unstable", "too short"]), "FAIL");
  assert.equal(sweepVerdict([]), "too short to judge");
});

test("bench --sweep --duration 1 is refused before anything runs (3 samples per level are needed)", async () => {
  let text = "";
  const code = await benchMain(["--sweep", "--duration", "1", "--warmup", "0"], (s) => { text += s; });
  assert.equal(code, 2, text);
  assert.doesNotMatch(text, /connections\/s|PASS/);
});

const fakeReport = (): RunReport => ({
  mode: "pair", cps: 120_000, cpsSamples: [120_000], cpsMin: 120_000, cpsMax: 120_000, completed: 120_000, elapsedS: 1,
  handshakeUs: { p50: 30, p99: 40, p999: 45, min: 1, max: 50, mean: 30, count: 10 },
  connectUs: { p50: 30, p99: 40, p999: 45, min: 1, max: 50, mean: 30, count: 10 },
  requestUs: { p50: 30, p99: 40, p999: 45, min: 1, max: 50, mean: 30, count: 10 },
  memoryPerConnectionBytes: 425, timerSharePct: null, timerShare: null, timeWait: null, peakRssBytes: 1 << 26,
  cpuS: 1, errors: 0, errorCodes: {}, retransmits: 0, drops: 0, dropsByReason: {},
});

test("targets: the handshake P99 target (< 50 µs at c=100) is not scored at another concurrency", () => {
  const r = fakeReport();
  const at = (c: number) => targets(r, null, c).find((t) => t.name === "server handshake P99")!;
  assert.equal(at(100).ok, true);
  assert.equal(at(10).ok, null);
  assert.match(at(10).notScored!, /c=10/);
  const opts = { payload: 64, timer: "wheel", shards: 256 };
  const t10 = formatTable(r, { ...opts, concurrency: 10 }, null, null);
  assert.match(t10, /server handshake P99 .*target < 50 µs at c=100 {2}\(n\/a: this run is at c=10\)/);
  assert.doesNotMatch(t10, /server handshake P99 .*✓/);
  assert.match(formatTable(r, { ...opts, concurrency: 100 }, null, null), /server handshake P99 .*c=100 {2}✓/);
  assert.doesNotMatch(t10, /issue|SPEC/);
  assert.match(t10, /targets \(the project's performance goals for this benchmark; not tests\)/);
});
