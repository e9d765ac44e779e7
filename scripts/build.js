#!/usr/bin/env node
// Builds the WebAssembly core (release + debug + bench harness) and compiles the
// TypeScript host into build/. Skips a step when its outputs are newer than every
// input, so `npm test` can call it cheaply. `--force` rebuilds everything.
//
//   node scripts/build.js            # everything that is stale
//   node scripts/build.js --wasm     # only the core
//   node scripts/build.js --host     # only the host
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const force = args.has("--force");
const onlyWasm = args.has("--wasm");
const onlyHost = args.has("--host");

function newest(paths) {
  let t = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== "build") visit(join(p, e));
    } else t = Math.max(t, s.mtimeMs);
  };
  for (const p of paths) visit(join(root, p));
  return t;
}
function oldest(paths) {
  let t = Infinity;
  for (const p of paths) {
    const f = join(root, p);
    if (!existsSync(f)) return 0;
    t = Math.min(t, statSync(f).mtimeMs);
  }
  return t;
}
function run(cmd, argv) {
  const bin = join(root, "node_modules", ".bin", cmd);
  console.log(`> ${cmd} ${argv.join(" ")}`);
  const r = spawnSync(bin, argv, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`build: ${cmd} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const wasmInputs = ["assembly", "asconfig.json", "package.json"];
const wasmOutputs = ["build/ustack.wasm", "build/ustack.debug.wasm", "build/bench.wasm"];
if (!onlyHost && (force || oldest(wasmOutputs) < newest(wasmInputs))) {
  run("asc", ["--config", "asconfig.json", "--target", "release"]);
  run("asc", ["--config", "asconfig.json", "--target", "debug"]);
  // The benchmark harness: the same core sources with loop drivers exported,
  // built with the release flags so the figures describe the release module.
  run("asc", ["assembly/bench/index.ts", "--config", "asconfig.json", "--target", "release",
    "--outFile", "build/bench.wasm"]);
}
const hostInputs = ["host", "tests/host", "tests/helpers", "bench", "tsconfig.json"];
const hostOutputs = ["build/host/index.js"];
if (!onlyWasm && (force || oldest(hostOutputs) < newest(hostInputs))) {
  run("tsc", ["-p", "tsconfig.json"]);
}
