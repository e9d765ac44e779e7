// Connection-table micro-benchmark (issue 3): insert, lookup and remove in ns per
// operation at 10k, 100k and 1M connections, 256 shards against 1 shard, median of
// RUNS runs; plus the memory per connection the stack reports.
//
//   node build/bench/table.bench.js [runs]
//
// Each configuration gets a fresh build/bench.wasm instance (release flags, stub
// runtime). One run = fill the empty table with n tuples (insert), n·k scattered
// lookups of present tuples (lookup), remove all n by entry handle in scattered
// order (remove). The loops run inside the module; the host times each loop.

import os from "node:os";
import { instantiate } from "../host/loader.ts";
import { MEMSTAT_NAMES, writeConfig } from "../host/abi.ts";

const RUNS = Math.max(5, Number(process.argv[2] ?? 5));
const SIZES = [10_000, 100_000, 1_000_000];
const SHARDS = [256, 1];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeIt(f: () => number): [number, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [Number(process.hrtime.bigint() - t0), r];
}

interface Row { n: number; shards: number; insert: number; lookup: number; remove: number }

async function measure(n: number, shards: number): Promise<Row> {
  const { exports: ex } = await instantiate("bench");
  ex.benchTableInit(n, shards, 0x243f6a8885a308d3n, 0x13198a2e03707344n);
  const lookups = Math.max(n, 1_000_000);
  const ins: number[] = [], look: number[] = [], rem: number[] = [];
  // One warm-up run, then RUNS measured runs.
  for (let r = 0; r <= RUNS; r++) {
    const [ti, filled] = timeIt(() => ex.benchTableFill(n));
    if (filled !== n) throw new Error(`fill: ${filled} of ${n}`);
    const [tl, hits] = timeIt(() => ex.benchTableLookup(n, lookups));
    if (hits !== lookups) throw new Error(`lookup: ${hits} hits of ${lookups}`);
    const [tr, removed] = timeIt(() => ex.benchTableRemoveByHandle(n));
    if (removed !== n || ex.benchTableSize() !== 0) throw new Error(`remove: ${removed} of ${n}`);
    if (r === 0) continue;
    ins.push(ti / n);
    look.push(tl / lookups);
    rem.push(tr / n);
  }
  return { n, shards, insert: median(ins), lookup: median(look), remove: median(rem) };
}

async function memoryPerConnection(): Promise<Record<string, number>> {
  const { exports: ex } = await instantiate("bench");
  writeConfig(ex.memory, ex.benchConfigAddr(), { maxConnections: 100_000, maxListeners: 64, syncacheEntries: 4096, maxTimeWait: 16_384, chunkCount: 4096, shards: 256 }, () => new Uint8Array(16));
  const rc = ex.benchStackInit(0n);
  if (rc !== 0) throw new Error(`init: ${rc}`);
  const m: Record<string, number> = {};
  MEMSTAT_NAMES.forEach((name, i) => { m[name] = Number(ex.benchMemstat(i)); });
  return m;
}

const rows: Row[] = [];
for (const n of SIZES) for (const s of SHARDS) rows.push(await measure(n, s));

const cpu = os.cpus()[0]?.model ?? "unknown";
console.log(`# connection table, median of ${RUNS} runs (ns per operation)`);
console.log(`date: ${new Date().toISOString().slice(0, 10)}  nproc: ${os.availableParallelism()}  node: ${process.version}  cpu: ${cpu}`);
console.log("");
console.log("| connections | shards | insert ns | lookup ns | remove ns |");
console.log("|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.n.toLocaleString("en-US")} | ${r.shards} | ${r.insert.toFixed(1)} | ${r.lookup.toFixed(1)} | ${r.remove.toFixed(1)} |`);
}
console.log("");
console.log("| connections | lookup ns, 256 shards / 1 shard |");
console.log("|---:|---:|");
for (const n of SIZES) {
  const a = rows.find((r) => r.n === n && r.shards === 256)!, b = rows.find((r) => r.n === n && r.shards === 1)!;
  console.log(`| ${n.toLocaleString("en-US")} | ${(a.lookup / b.lookup).toFixed(2)} |`);
}
const m = await memoryPerConnection();
console.log("");
console.log(`memory per connection: ${m.bytesPerConnection} B (control block ${m.endpointRecord} B incl. 4 timer nodes, table entry ${m.tableEntry} B incl. slab word)`);
console.log(`regions at 100k connections (bytes): ${JSON.stringify(m)}`);
