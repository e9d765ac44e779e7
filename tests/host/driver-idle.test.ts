// Idle cost of the tick loop (issue 7 item 1): 1 000 established, idle connections
// between two loop-mode stacks on a real-time memory link. The CPU time over an idle
// window is measured with process.cpuUsage and PRINTED (a figure for
// docs/architecture.md, never asserted: machines are shared). What is asserted is
// structural: while idle, the loops step a handful of times (they sleep on the link
// with no timer pending) instead of polling.
//
//   USTACK_IDLE_MS=10000 node --test build/tests/host/driver-idle.test.js   (the 10 s figure)

import { test } from "node:test";
import assert from "node:assert/strict";
import { coreSkipReason, realStack, ADDR_A, ADDR_B } from "./stack-kit.ts";
import { createMemoryPair } from "../../host/link/memory.ts";
import { realClock } from "../../host/link/clock.ts";
import type { Socket } from "../../host/net/socket.ts";

const CONNECTIONS = 1000;

test(`${CONNECTIONS} idle connections: the loops sleep; CPU use over the idle window is reported`, async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const idleMs = Number(process.env.USTACK_IDLE_MS ?? 2000);
  const pair = createMemoryPair({ clock: realClock, seed: 1 });
  const opts = { maxConnections: 2 * CONNECTIONS + 16, syncacheEntries: 1024, eventRingSize: 4096 };
  const a = await realStack(pair.a, `${ADDR_A}/24`, opts, realClock);
  const b = await realStack(pair.b, `${ADDR_B}/24`, opts, realClock);
  const accepted: Socket[] = [];
  b.net.createServer((s) => accepted.push(s)).listen(7000, undefined, 1024);
  const clients: Socket[] = [];
  let connected = 0;
  for (let i = 0; i < CONNECTIONS; i++) {
    const c = a.net.connect(7000, ADDR_B, () => { connected++; });
    c.on("error", (e) => { throw e; });
    clients.push(c);
  }
  // Bounded wait (count and time) for every handshake.
  for (let i = 0; i < 600 && (connected < CONNECTIONS || accepted.length < CONNECTIONS); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(connected, CONNECTIONS);
  assert.equal(accepted.length, CONNECTIONS);
  // Let delayed ACKs and other one-shot timers run out before measuring.
  await new Promise((r) => setTimeout(r, 500));
  const stepsBefore = a.driver.stats().steps + b.driver.stats().steps;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, idleMs));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const steps = a.driver.stats().steps + b.driver.stats().steps - stepsBefore;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`idle ${CONNECTIONS} connections (two stacks, one process) for ${wallMs.toFixed(0)} ms: ` +
    `CPU ${cpuMs.toFixed(1)} ms = ${((100 * cpuMs) / wallMs).toFixed(2)}% of one core; ${steps} loop steps`);
  assert.ok(steps <= 20, `idle loops stepped ${steps} times in ${idleMs} ms (sleeping loops step only for timers)`);
  await a.close();
  await b.close();
});
