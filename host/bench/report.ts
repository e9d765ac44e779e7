// The report of `ustack bench`: one JSON object (--json, --out) and the results
// table printed at the end. Key names are a stable contract (cps, cpsSamples,
// handshakeUs, connectUs, memoryPerConnectionBytes, timerSharePct, peakRssBytes,
// errors; kernel and ratio with --compare kernel).

import os from "node:os";
import type { Percentiles, LogLinearHistogram } from "./histogram.ts";
import type { ModuleSnapshot } from "./module-stats.ts";
import { timerShare, type TimerShare } from "./timer-share.ts";

export interface LatencyUs {
  p50: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  mean: number;
  count: number;
}

export interface RunReport {
  mode: string;
  cps: number;
  cpsSamples: number[];
  cpsMin: number;
  cpsMax: number;
  completed: number;
  elapsedS: number;
  handshakeUs: LatencyUs | null;
  connectUs: LatencyUs;
  requestUs: LatencyUs;
  memoryPerConnectionBytes: number | null;
  timerSharePct: number | null;
  timerShare: TimerShare | null;
  timeWait: { count: number; bytes: number } | null;
  peakRssBytes: number;
  cpuS: number;
  errors: number;
  errorCodes: Record<string, number>;
  retransmits: number | null;
  drops: number | null;
  /** The drops by counter name (both stacks summed), only the non-zero ones. */
  dropsByReason: Record<string, number> | null;
}

const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

export function latency(h: LogLinearHistogram): LatencyUs {
  const p: Percentiles = h.percentiles();
  return { p50: round(p.p50), p99: round(p.p99), p999: round(p.p999), min: round(p.min), max: round(p.max), mean: round(p.mean), count: p.count };
}

/** Retransmissions and drops (TCP, interface, both stacks) from module snapshots. */
export function retransmitsAndDrops(...snaps: ModuleSnapshot[]): { retransmits: number; drops: number; dropsByReason: Record<string, number> } {
  let retransmits = 0;
  let drops = 0;
  const dropsByReason: Record<string, number> = {};
  for (const s of snaps) {
    for (const [k, v] of Object.entries(s.stats)) {
      if (k === "tcp_retransmits" || k === "tcp_fastRetransmits") retransmits += v;
      else if (/^tcp_drop|^tcp_pawsDropped|^tcp_oooDropped|_drop_/.test(k)) {
        drops += v;
        if (v) dropsByReason[k] = (dropsByReason[k] ?? 0) + v;
      }
    }
  }
  return { retransmits, drops, dropsByReason };
}

export interface StackRunLike {
  completed: number;
  elapsedS: number;
  cps: number;
  cpsSamples: number[];
  handshake: LogLinearHistogram | null;
  connect: LogLinearHistogram;
  request: LogLinearHistogram;
  errors: number;
  errorCodes: Record<string, number>;
  cpuS: number;
  peakRssBytes: number;
  memoryPerConnectionBytes?: number;
  timerExpiries?: number;
  timerOps?: number;
  timerProbeNsPerPair?: number;
  fifoOps?: number;
  fifoExpiries?: number;
  fifoProbeNsPerPair?: number;
  timeWaitCount?: number;
  timeWaitBytes?: number;
  snapshots?: ModuleSnapshot[];
}

export function runReport(mode: string, r: StackRunLike): RunReport {
  const ts = r.timerExpiries !== undefined && r.timerProbeNsPerPair !== undefined
    ? timerShare(r.completed, r.cpuS, r.timerExpiries, r.timerProbeNsPerPair, r.timerOps,
      r.fifoOps !== undefined && r.fifoProbeNsPerPair !== undefined
        ? { ops: r.fifoOps, expiries: r.fifoExpiries ?? 0, nsPerPair: r.fifoProbeNsPerPair } : undefined) : null;
  const rd = r.snapshots ? retransmitsAndDrops(...r.snapshots) : null;
  const samples = r.cpsSamples.map((c) => round(c));
  return {
    mode,
    cps: round(r.cps),
    cpsSamples: samples,
    cpsMin: samples.length ? Math.min(...samples) : round(r.cps),
    cpsMax: samples.length ? Math.max(...samples) : round(r.cps),
    completed: r.completed,
    elapsedS: round(r.elapsedS, 3),
    handshakeUs: r.handshake ? latency(r.handshake) : null,
    connectUs: latency(r.connect),
    requestUs: latency(r.request),
    memoryPerConnectionBytes: r.memoryPerConnectionBytes ?? null,
    timerSharePct: ts ? round(ts.pct, 2) : null,
    timerShare: ts,
    timeWait: r.timeWaitCount !== undefined ? { count: r.timeWaitCount, bytes: r.timeWaitBytes ?? 0 } : null,
    peakRssBytes: r.peakRssBytes,
    cpuS: round(r.cpuS, 3),
    errors: r.errors,
    errorCodes: r.errorCodes,
    retransmits: rd?.retransmits ?? null,
    drops: rd?.drops ?? null,
    dropsByReason: rd?.dropsByReason ?? null,
  };
}

export function machineFacts(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryBytes: os.totalmem(),
    loadavg: os.loadavg().map((v) => round(v, 2)),
  };
}

/** Median of a list (NaN for none). */
export function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const n0 = (v: number): string => Math.round(v).toLocaleString("en-US");
const us = (l: LatencyUs | null): string => (l && l.count ? `${l.p50} / ${l.p99} / ${l.p999}` : "—");
const mark = (ok: boolean | null): string => (ok === null ? "" : ok ? "  ✓" : "  ✗");

export interface TargetCheck {
  name: string;
  value: string;
  target: string;
  ok: boolean | null;
  /** Why a target with a value is not scored on this run (ok is null then). */
  notScored?: string;
}

/**
 * The project's performance targets for this benchmark against one report. `concurrency`:
 * the run's; the handshake target is defined at c=100 and not scored at another one.
 */
export function targets(r: RunReport, ratio: number | null, concurrency = 100): TargetCheck[] {
  const hsScored = concurrency === 100;
  const t: TargetCheck[] = [
    { name: "CPS (pair, one thread)", value: n0(r.cps), target: "≥ 100,000", ok: r.mode === "pair" ? r.cps >= 100_000 : null },
    {
      name: "server handshake P99", value: r.handshakeUs ? `${r.handshakeUs.p99} µs` : "—", target: "< 50 µs at c=100",
      ok: r.handshakeUs && hsScored ? r.handshakeUs.p99 < 50 : null,
      ...(r.handshakeUs && !hsScored ? { notScored: `n/a: this run is at c=${concurrency}` } : {}),
    },
    { name: "memory per connection", value: r.memoryPerConnectionBytes !== null ? `${r.memoryPerConnectionBytes} B` : "—", target: "< 1024 B", ok: r.memoryPerConnectionBytes !== null ? r.memoryPerConnectionBytes < 1024 : null },
    { name: "timer share", value: r.timerSharePct !== null ? `${r.timerSharePct} %` : "—", target: "< 1 %", ok: r.timerSharePct !== null ? r.timerSharePct < 1 : null },
  ];
  if (ratio !== null) t.push({ name: "vs Node net (loopback)", value: `${ratio.toFixed(2)}×`, target: "≥ 5×", ok: ratio >= 5 });
  return t;
}

/** The results table printed at the end of a run. */
export function formatTable(r: RunReport, opts: { concurrency: number; payload: number; timer: string; shards: number }, kernel: RunReport | null, ratio: number | null): string {
  const rows: Array<[string, string]> = [
    ["mode", `${r.mode}  (concurrency ${opts.concurrency}, payload ${opts.payload} B, timer ${opts.timer}, shards ${opts.shards})`],
    ["connections/s (mean)", `${n0(r.cps)}   (${n0(r.completed)} in ${r.elapsedS.toFixed(1)} s)`],
    ["per-second min / max", `${n0(r.cpsMin)} / ${n0(r.cpsMax)}   (${r.cpsSamples.length} sample${r.cpsSamples.length === 1 ? "" : "s"})`],
    ["server handshake µs p50/p99/p99.9", us(r.handshakeUs)],
    ["client connect µs p50/p99/p99.9", us(r.connectUs)],
    ["request µs p50/p99/p99.9", us(r.requestUs)],
    ["timer share of CPU", r.timerShare ? `${r.timerSharePct} %  (${r.timerShare.nsPerConnection.toFixed(0)} ns of ${r.timerShare.cpuNsPerConnection.toFixed(0)} ns per connection)` : "—"],
    ["memory per connection", r.memoryPerConnectionBytes !== null ? `${r.memoryPerConnectionBytes} B` : "—"],
    ["TIME-WAIT now", r.timeWait ? `${n0(r.timeWait.count)} connections, ${n0(r.timeWait.bytes)} B` : "—"],
    ["peak RSS", `${(r.peakRssBytes / 2 ** 20).toFixed(1)} MiB`],
    ["CPU", `${r.cpuS.toFixed(2)} s (${((100 * r.cpuS) / Math.max(1e-9, r.elapsedS)).toFixed(0)} % of one core)`],
    ["errors / retransmits / drops", `${r.errors} / ${r.retransmits ?? "—"} / ${r.drops ?? "—"}`],
  ];
  if (kernel) {
    rows.push(["Node net over 127.0.0.1", `${n0(kernel.cps)} CPS, connect µs ${us(kernel.connectUs)}, errors ${kernel.errors}`]);
    rows.push(["ratio ustack / Node net", ratio !== null ? `${ratio.toFixed(2)}×` : "—"]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const tg = targets(r, ratio, opts.concurrency).filter((t) => t.ok !== null || t.notScored);
  if (tg.length) {
    lines.push("", "  targets (the project's performance goals for this benchmark; not tests):");
    for (const t of tg) lines.push(`    ${t.name.padEnd(26)} ${t.value.padStart(12)}   target ${t.target}${t.notScored ? `  (${t.notScored})` : mark(t.ok)}`);
  }
  return lines.join("\n") + "\n";
}
