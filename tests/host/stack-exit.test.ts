// stack.close() releases the link, the tick loop and every timer: a process that
// ran two loop-mode stacks (real time, memory link), echoed through them and closed
// them exits by itself. Run in a child process; bounded by a 30 s kill timer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { coreSkipReason } from "./stack-kit.ts";

const stackJs = fileURLToPath(new URL("../../host/stack.js", import.meta.url));
const memoryJs = fileURLToPath(new URL("../../host/link/memory.js", import.meta.url));
const clockJs = fileURLToPath(new URL("../../host/link/clock.js", import.meta.url));

const CHILD = `
import { readFileSync } from "node:fs";
import { Stack } from ${JSON.stringify(stackJs)};
import { createMemoryPair } from ${JSON.stringify(memoryJs)};
import { realClock } from ${JSON.stringify(clockJs)};
const wasm = process.env.USTACK_WASM ? new Uint8Array(readFileSync(process.env.USTACK_WASM)) : undefined;
const pair = createMemoryPair({ clock: realClock });
const a = await Stack.create({ link: pair.a, ipv4: "198.18.0.1/24", clock: realClock, wasm });
const b = await Stack.create({ link: pair.b, ipv4: "198.18.0.2/24", clock: realClock, wasm });
b.net.createServer((s) => s.pipe(s)).listen(7);
const c = a.net.connect(7, "198.18.0.2", () => c.end("ping"));
let got = "";
c.on("data", (d) => { got += d; });
c.on("close", async () => {
  await a.close();
  await b.close();
  console.log("echo:" + got);
  // no process.exit(): the event loop must drain by itself
});
`;

test("a process exits by itself after stack.close()", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("exit", (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, `the child had to be killed: it did not exit by itself (stderr: ${err})`);
  assert.equal(code, 0, err);
  assert.match(out, /echo:ping/);
});
