// Timer queue micro-benchmark (issue 2): V2 wheel next to the V1 sorted list.
//
//   node build/bench/wheel.bench.js [--runs 5] [--sizes 1000,100000,1000000] [--json]
//
// For each queue and each number of active timers: ns per schedule, per cancel,
// per expiry (advancing with tickTo through a minute in which every timer is due),
// and the cost of one tickTo across an idle hour (all timers further away than an
// hour). Medians of --runs repeated runs; ratios V1/V2 from the same run.

import { instantiate } from "../host/loader.ts";
import { median, timeNs, machineFacts, fmt, argValue } from "./harness.ts";

const runs = Number(argValue("--runs", "5"));
const sizes = argValue("--sizes", "1000,100000,1000000").split(",").map(Number);
const json = process.argv.includes("--json");
const SPAN = 120_000; // background and probe delays spread over 2 minutes (RTO … TIME-WAIT range)
const HOUR = 3_600_000;

const { exports: m } = await instantiate("bench");

interface Row { queue: string; active: number; schedule: number; cancel: number; expiry: number; idleHour: number; ops: number }
const rows: Row[] = [];

function opsFor(wheel: boolean, n: number): number {
  if (wheel) return 100_000;
  return n <= 1000 ? 100_000 : n <= 100_000 ? 2_000 : 200;
}

for (const n of sizes) {
  for (const wheel of [true, false]) {
    const ops = opsFor(wheel, n);
    const sch: number[] = [], can: number[] = [], exp: number[] = [], idle: number[] = [];
    for (let r = 0; r < runs; r++) {
      const seed = BigInt(0x9e3779b9 + r);
      // schedule / cancel of `ops` probe timers among n active ones
      // (in batches of at most n/10, so the queue stays at about n active timers)
      const batch = Math.max(1, Math.min(ops, Math.floor(n / 10)));
      m.wheelSetup(wheel ? 1 : 0, n, batch, SPAN, 0, seed);
      let tS = 0, tC = 0, done = 0;
      while (done < ops) {
        tS += timeNs(() => m.wheelSchedule(batch, SPAN));
        tC += timeNs(() => m.wheelCancel(batch));
        done += batch;
      }
      sch.push(tS / done);
      can.push(tC / done);
      // expiry: n timers over 2 minutes, advanced in 1-second tickTo jumps
      m.wheelSetup(wheel ? 1 : 0, n, 0, SPAN, 0, seed);
      let fired = 0;
      const t = timeNs(() => { fired = m.wheelJumps(SPAN / 1000 + 1, 1000); });
      if (fired !== n) throw new Error(`expected ${n} expiries, got ${fired}`);
      exp.push(t / n);
      // idle hour: n timers all beyond the hour (up to ~46 days away)
      m.wheelSetup(wheel ? 1 : 0, n, 0, 4_000_000_000, HOUR + 1, seed);
      idle.push(timeNs(() => { if (m.wheelJump(BigInt(HOUR)) !== 0) throw new Error("idle hour fired"); }));
    }
    rows.push({ queue: wheel ? "V2 wheel" : "V1 list", active: n, ops, schedule: median(sch), cancel: median(can), expiry: median(exp), idleHour: median(idle) });
  }
}

// Baseline for "proportional to occupied slots, not elapsed ticks": the same idle
// hour advanced one tick at a time (what a wheel without bitmask jumps must do).
m.wheelSetup(1, 1000, 0, 4_000_000_000, HOUR + 1, 7n);
const stepHour = timeNs(() => m.wheelStep(HOUR));
m.wheelSetup(1, 0, 0, 1, 0, 7n);
const emptyJump = median(Array.from({ length: runs }, () => timeNs(() => m.wheelJump(BigInt(HOUR)))));

if (json) {
  console.log(JSON.stringify({ machine: machineFacts(), runs, rows, stepHourNs: stepHour, emptyJumpHourNs: emptyJump }, null, 2));
} else {
  console.log(`Timer queue micro-benchmark — ${machineFacts()} — median of ${runs} runs\n`);
  console.log("| queue | active timers | schedule | cancel | schedule+cancel | expiry (per timer) | tickTo idle hour |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.queue} | ${r.active.toLocaleString("en")} | ${fmt(r.schedule)} | ${fmt(r.cancel)} | ${fmt(r.schedule + r.cancel)} | ${fmt(r.expiry)} | ${fmt(r.idleHour)} |`);
  }
  console.log("\n| active timers | V1/V2 schedule+cancel | V1/V2 expiry |");
  console.log("|---:|---:|---:|");
  for (const n of sizes) {
    const w = rows.find((r) => r.active === n && r.queue === "V2 wheel")!;
    const l = rows.find((r) => r.active === n && r.queue === "V1 list")!;
    console.log(`| ${n.toLocaleString("en")} | ${((l.schedule + l.cancel) / (w.schedule + w.cancel)).toFixed(1)}× | ${(l.expiry / w.expiry).toFixed(2)}× |`);
  }
  console.log(`\nIdle hour, V2 with 1,000 far timers: tickTo jump ${fmt(rows.find((r) => r.queue === "V2 wheel")!.idleHour)} vs ${fmt(stepHour)} ticking 3,600,000 times; empty wheel jump ${fmt(emptyJump)}.`);
}
