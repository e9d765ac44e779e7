// `ustack bench`: the CPS benchmark (docs/benchmarks.md). Parses its own options and
// runs one of: a pair run (default), --compare kernel (alternating runs, ratio),
// --sweep (concurrency 10..500 with the ±5 % stability verdict), --soak (1 000 000
// connections, RSS/pool/timer samples, leak check). Modes tap-server / tap-client:
// host/bench/tap.ts.

import { writeFile, access, stat, constants as fsConstants } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { runPair, type PairOptions, type PairResult, type Progress } from "../bench/pair.ts";
import { runKernel, type KernelResult } from "../bench/kernel.ts";
import { runReport, formatTable, machineFacts, median, targets, type RunReport } from "../bench/report.ts";
import { renderChart, type ChartSeries } from "../bench/chart.ts";
import { runTap } from "../bench/tap.ts";

export const BENCH_HELP = `ustack bench — connections per second: connect, B-byte request, B-byte reply, close (FIN)

Usage: ustack bench [options]

  --mode pair|tap-server|tap-client
                      pair (default): two stacks in this process over the memory link, one thread;
                      tap-server: the stack serves on a TAP device in a test namespace, kernel clients
                      in several processes; tap-client: stack clients against a kernel server (root)
  --connections N     stop after N completed connections (default: run for --duration)
  --concurrency C     connections in flight (default 100)
  --duration S        measured seconds (default 10)
  --warmup S          seconds run before measuring (default 1)
  --payload B         request and reply bytes (default 64)
  --timer wheel|list  timer queue: V2 wheel (default) or V1 sorted list
  --shards N          connection-table shards, a power of two from 1 to 256 (default 256)
  --time-wait-ms MS   TIME-WAIT duration in pair mode (default 250; TCP's own is 60000)
  --tw-reuse          pair: connect with twReuse (Linux tcp_tw_reuse: a 4-tuple in TIME-WAIT may be
                      taken ≥ 1 s after its last segment); one client address, so about 64 k new
                      connections per second per server port at most (docs/benchmarks.md)
  --rate R            pair: at most R connects per second (default: unpaced)
  --closer client|server
                      pair: who closes first (default client; server: the server sends FIN
                      with its reply and holds TIME-WAIT, new SYNs reuse it per RFC 6191)
  --server-ports N    pair: the server listens on N consecutive ports, connects round-robin (default 1)
  --compare kernel    also run the workload through Node's net over 127.0.0.1, alternating
  --runs R            runs per side with --compare (default 3; medians are reported)
  --sweep             concurrency 10, 50, 100, 250, 500 with the ±5 % stability verdict (every
                      per-second sample within ±5 % of its level's mean; needs --duration 3 or more)
  --soak              1 000 000 connections, RSS/pools/timers sampled each second, leak = failure
  --json              print one JSON object instead of the table
  --out FILE          also write the JSON object to FILE
  --chart FILE.svg    write CPS over time and the latency CDFs as SVG
                      (both paths are checked before the run; the table is printed first)

Figures: CPS mean and per-second min/max; handshake latency from histograms kept in the module
(server: SYN RX stamp → final ACK RX stamp; client: connect → ESTABLISHED); request latency
(request sent → whole reply read); timer share of CPU; memory per connection; TIME-WAIT count and
bytes; peak RSS; errors, retransmissions and drops. docs/benchmarks.md explains each one.

Exit status: 0 when the run completed (with --sweep or --soak: and the verdict is PASS); 1 when
the sweep or soak verdict is FAIL or "too short to judge", or a result file could not be
written; 2 for a usage error (nothing was run).
`;

export interface BenchArgs {
  mode: "pair" | "tap-server" | "tap-client";
  connections: number;
  concurrency: number;
  durationS: number;
  warmupS: number;
  payload: number;
  timer: "wheel" | "list";
  shards: number;
  timeWaitMs: number;
  twReuse: boolean;
  rate: number;
  closer: "client" | "server";
  serverPorts: number;
  compare: "kernel" | null;
  runs: number;
  sweep: boolean;
  soak: boolean;
  json: boolean;
  out: string | null;
  chart: string | null;
}

export class BenchUsageError extends Error {}

const VALUED = ["--mode", "--connections", "--concurrency", "--duration", "--warmup", "--payload", "--timer", "--shards", "--time-wait-ms", "--rate", "--closer", "--server-ports", "--compare", "--runs", "--out", "--chart"];
const FLAGS = ["--sweep", "--soak", "--json", "--help", "--tw-reuse"];

export function parseBenchArgs(argv: string[]): BenchArgs {
  const v = new Map<string, string>();
  const f = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    if (a === "-h") a = "--help";
    if (VALUED.includes(a)) {
      if (val === undefined) {
        val = argv[++i];
        if (val === undefined || val.startsWith("--")) throw new BenchUsageError(`${a} needs a value`);
      }
      v.set(a, val);
    } else if (FLAGS.includes(a) && val === undefined) f.add(a);
    else throw new BenchUsageError(`unknown option ${argv[i]}`);
  }
  const int = (name: string, def: number, lo: number, hi: number): number => {
    const s = v.get(name);
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new BenchUsageError(`${name} must be an integer from ${lo} to ${hi} (got ${s})`);
    return n;
  };
  const num = (name: string, def: number, lo: number, hi: number): number => {
    const s = v.get(name);
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new BenchUsageError(`${name} must be a number from ${lo} to ${hi} (got ${s})`);
    return n;
  };
  const mode = (v.get("--mode") ?? "pair") as BenchArgs["mode"];
  if (!["pair", "tap-server", "tap-client"].includes(mode)) throw new BenchUsageError(`--mode must be pair, tap-server or tap-client (got ${mode})`);
  const timer = (v.get("--timer") ?? "wheel") as BenchArgs["timer"];
  if (timer !== "wheel" && timer !== "list") throw new BenchUsageError(`--timer must be wheel or list (got ${timer})`);
  const shards = int("--shards", 256, 1, 256);
  if ((shards & (shards - 1)) !== 0) throw new BenchUsageError(`--shards must be a power of two (got ${shards})`);
  const compare = v.get("--compare") ?? null;
  if (compare !== null && compare !== "kernel") throw new BenchUsageError(`--compare takes "kernel" (got ${compare})`);
  const closer = (v.get("--closer") ?? "client") as BenchArgs["closer"];
  if (closer !== "client" && closer !== "server") throw new BenchUsageError(`--closer must be client or server (got ${closer})`);
  const sweep = f.has("--sweep");
  const soak = f.has("--soak");
  if (sweep && soak) throw new BenchUsageError("--sweep and --soak exclude each other");
  // ±5 % per level needs SWEEP_MIN_SAMPLES per-second samples: refuse before running (a
  // level can still come out short if the machine stalls; the verdict then says so).
  if (sweep && v.has("--duration") && num("--duration", 10, 0.1, 86_400) < SWEEP_MIN_SAMPLES) {
    throw new BenchUsageError(`--sweep needs --duration ${SWEEP_MIN_SAMPLES} or more (${SWEEP_MIN_SAMPLES} per-second samples per level for the ±5 % verdict)`);
  }
  return {
    mode,
    connections: int("--connections", soak ? 1_000_000 : 0, 0, 1e9),
    concurrency: int("--concurrency", 100, 1, 20_000),
    durationS: num("--duration", 10, 0.1, 86_400),
    warmupS: num("--warmup", 1, 0, 600),
    payload: int("--payload", 64, 1, 65_536),
    timer,
    shards,
    timeWaitMs: int("--time-wait-ms", 250, 1, 600_000),
    twReuse: f.has("--tw-reuse"),
    rate: int("--rate", 0, 0, 10_000_000),
    closer,
    serverPorts: int("--server-ports", 1, 1, 64),
    compare: compare as BenchArgs["compare"],
    runs: int("--runs", 3, 1, 100),
    sweep,
    soak,
    json: f.has("--json"),
    out: v.get("--out") ?? null,
    chart: v.get("--chart") ?? null,
  };
}

/** A one-line progress bar on a TTY (stderr), nothing otherwise. */
class ProgressBar {
  private readonly tty = Boolean(process.stderr.isTTY);
  private last = "";
  show(label: string, fraction: number, extra: string): void {
    if (!this.tty) return;
    const w = 28;
    const k = Math.max(0, Math.min(w, Math.round(fraction * w)));
    const line = `\r${label.padEnd(16)} [${"#".repeat(k)}${"-".repeat(w - k)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${extra}`;
    if (line !== this.last) process.stderr.write(line.padEnd(this.last.length));
    this.last = line;
  }
  done(): void {
    if (this.tty && this.last) process.stderr.write("\r" + " ".repeat(this.last.length) + "\r");
    this.last = "";
  }
}

const k = (v: number): string => Math.round(v).toLocaleString("en-US");

function pairOptions(a: BenchArgs, bar: ProgressBar, label: string): PairOptions {
  return {
    connections: a.connections,
    concurrency: a.concurrency,
    durationS: a.durationS,
    warmupS: a.warmupS,
    payload: a.payload,
    useTimerWheel: a.timer === "wheel",
    shards: a.shards,
    timeWaitMs: a.timeWaitMs,
    twReuse: a.twReuse,
    rate: a.rate,
    closer: a.closer,
    serverPorts: a.serverPorts,
    onProgress: (p: Progress) => bar.show(p.phase === "warmup" ? `${label} warm-up` : label, p.fraction, p.phase === "warmup" ? "" : `${k(p.completed)} conns, ${k(p.cps)} CPS`),
  };
}

function pairReport(r: PairResult): RunReport {
  return runReport("pair", { ...r, snapshots: [r.a, r.b] });
}

function kernelReport(r: KernelResult): RunReport {
  return runReport("node-net-loopback", { ...r, handshake: null, peakRssBytes: Math.max(process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024) });
}

/**
 * Why `path` cannot be written by `option` (null when it can): checked before the run so that
 * a bad --out or --chart fails at once instead of after the whole measurement.
 */
export async function unwritableReason(option: string, path: string): Promise<string | null> {
  const abs = resolve(path);
  const why = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  try {
    const s = await stat(abs);
    if (s.isDirectory()) return `${option} ${path} is a directory`;
    await access(abs, fsConstants.W_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") return `${option} ${path} is not writable (${why(e)})`;
  }
  const dir = dirname(abs);
  try {
    if (!(await stat(dir)).isDirectory()) return `${option} ${path}: ${dir} is not a directory`;
    await access(dir, fsConstants.W_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${option} ${path}: directory ${dir} does not exist` : `${option} ${path}: cannot create a file in ${dir} (${why(e)})`;
  }
}

/** A sweep level needs this many per-second samples before ±5 % means anything. */
export const SWEEP_MIN_SAMPLES = 3;

export type SweepVerdict = "stable" | "unstable" | "too short";

/** The ±5 % verdict of one sweep level from its per-second CPS samples and mean. */
export function sweepLevelVerdict(samples: number[], mean: number): { verdict: SweepVerdict; maxDeviationPct: number } {
  const dev = samples.length && mean > 0 ? Math.max(...samples.map((s) => Math.abs(s - mean) / mean)) * 100 : 0;
  const verdict: SweepVerdict = samples.length < SWEEP_MIN_SAMPLES ? "too short" : dev <= 5 ? "stable" : "unstable";
  return { verdict, maxDeviationPct: Math.round(dev * 10) / 10 };
}

/** The sweep's overall verdict: FAIL if a judged level is unstable, else not judged if a level was too short. */
export function sweepVerdict(levels: SweepVerdict[]): "PASS" | "FAIL" | "too short to judge" {
  if (levels.length === 0) return "too short to judge";
  if (levels.includes("unstable")) return "FAIL";
  if (levels.includes("too short")) return "too short to judge";
  return "PASS";
}

/** Runs `ustack bench`; returns the exit code. */
export async function benchMain(argv: string[], out: (s: string) => void): Promise<number> {
  let a: BenchArgs;
  try {
    if (argv.includes("--help") || argv.includes("-h")) { out(BENCH_HELP); return 0; }
    a = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof BenchUsageError) { out(`ustack bench: ${e.message}\n(see: ustack bench --help)\n`); return 2; }
    throw e;
  }
  for (const [option, path] of [["--out", a.out], ["--chart", a.chart]] as const) {
    const why = path === null ? null : await unwritableReason(option, path);
    if (why) { out(`ustack bench: ${why}; nothing was run\n`); return 2; }
  }
  const bar = new ProgressBar();
  let stop = false;
  const onSig = () => { stop = true; };
  process.once("SIGINT", onSig);
  try {
    let result: Record<string, unknown>;
    let text: string;
    let ok = true;
    const chart: { cps: ChartSeries[]; cdf: ChartSeries[] } = { cps: [], cdf: [] };
    const opts = { concurrency: a.concurrency, payload: a.payload, timer: a.timer, shards: a.shards };

    if (a.mode !== "pair") {
      if (a.compare || a.sweep || a.soak) throw new BenchUsageError("--compare, --sweep and --soak run in pair mode");
      const r = await runTap(a, (label, f, extra) => bar.show(label, f, extra));
      bar.done();
      result = { ...r.report, config: r.config };
      text = formatTable(r.report, opts, null, null) + (r.note ? `\n  ${r.note}\n` : "");
      chart.cps.push({ label: a.mode, color: "#1f77b4", points: r.report.cpsSamples.map((c, i) => [i + 1, c]) });
      for (const [label, color, h] of r.histograms) chart.cdf.push({ label, color, points: h.cdf() });
      ok = r.report.completed > 0;
    } else if (a.sweep) {
      const levels = [10, 50, 100, 250, 500];
      const rows: Array<RunReport & { concurrency: number; stable: boolean; verdict: SweepVerdict; maxDeviationPct: number }> = [];
      const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
      for (const [i, c] of levels.entries()) {
        if (stop) break;
        const r = await runPair({ ...pairOptions({ ...a, concurrency: c }, bar, `sweep c=${c}`), shouldStop: () => stop });
        const rep = pairReport(r);
        const v = sweepLevelVerdict(rep.cpsSamples, rep.cps);
        rows.push({ ...rep, concurrency: c, stable: v.verdict === "stable", verdict: v.verdict, maxDeviationPct: v.maxDeviationPct });
        chart.cps.push({ label: `c=${c}`, color: colors[i], points: rep.cpsSamples.map((s, j) => [j + 1, s]) });
        chart.cdf.push({ label: `handshake c=${c}`, color: colors[i], points: r.handshake.cdf() });
      }
      bar.done();
      const verdict = sweepVerdict(rows.map((r) => r.verdict));
      const stable = verdict === "PASS";
      ok = stable && rows.every((r) => r.errors === 0);
      result = { mode: "pair", sweep: rows, stable, verdict, machine: machineFacts(), options: a };
      const lines = ["  concurrency      CPS   min/s   max/s  max dev   handshake p99 µs  connect p99 µs  errors  verdict"];
      for (const r of rows) {
        lines.push(`  ${String(r.concurrency).padStart(11)} ${k(r.cps).padStart(8)} ${k(r.cpsMin).padStart(7)} ${k(r.cpsMax).padStart(7)} ${(r.maxDeviationPct + " %").padStart(8)}   ${String(r.handshakeUs?.p99 ?? "—").padStart(16)}  ${String(r.connectUs.p99).padStart(14)}  ${String(r.errors).padStart(6)}  ${r.verdict === "unstable" ? "UNSTABLE" : r.verdict === "too short" ? `too short (${r.cpsSamples.length} sample${r.cpsSamples.length === 1 ? "" : "s"})` : "stable"}`);
      }
      lines.push("", `  stability (every per-second sample within ±5 % of its level's mean): ${verdict}` +
        (verdict === "too short to judge" ? ` — a level needs at least ${SWEEP_MIN_SAMPLES} per-second samples (--duration ${SWEEP_MIN_SAMPLES} or more)` : ""));
      text = lines.join("\n") + "\n";
    } else if (a.soak) {
      const samples: Array<Record<string, number>> = [];
      const r = await runPair({
        ...pairOptions(a, bar, "soak"),
        checkResidual: true,
        shouldStop: () => stop,
        onSample: (s) => samples.push({ t: s.t, cps: Math.round(s.cps), rssBytes: s.rssBytes, endpoints: s.endpointsA + s.endpointsB, chunksInUse: s.chunksInUse, timersActive: s.timersActive, timeWait: s.timeWait }),
      });
      bar.done();
      const rep = pairReport(r);
      // Growth: median of the last quarter of the samples against the second quarter.
      const q = Math.max(1, Math.floor(samples.length / 4));
      const grow = (key: string) => {
        const mid = median(samples.slice(q, 2 * q).map((s) => s[key]));
        const end = median(samples.slice(-q).map((s) => s[key]));
        return { second: mid, last: end, growthPct: mid > 0 ? Math.round(((end - mid) / mid) * 1000) / 10 : 0 };
      };
      const growth = { rssBytes: grow("rssBytes"), endpoints: grow("endpoints"), timersActive: grow("timersActive"), chunksInUse: grow("chunksInUse") };
      const res = r.residual!;
      const leaks: string[] = [];
      if (res.endpointsA || res.endpointsB) leaks.push(`${res.endpointsA + res.endpointsB} endpoints still held after TIME-WAIT`);
      if (res.chunksInUse) leaks.push(`${res.chunksInUse} chunks still in use`);
      if (res.timersActive) leaks.push(`${res.timersActive} timers still active`);
      if (res.heapMovedA || res.heapMovedB) leaks.push("the module heap top moved (allocation after init)");
      if (growth.rssBytes.growthPct > 10) leaks.push(`RSS grew ${growth.rssBytes.growthPct} % between the second and the last quarter`);
      if (growth.endpoints.growthPct > 10) leaks.push(`endpoints grew ${growth.endpoints.growthPct} %`);
      ok = leaks.length === 0 && (a.connections === 0 || r.completed >= a.connections);
      result = { ...rep, soak: { samples, growth, residual: res, leaks, passed: ok }, machine: machineFacts(), options: a };
      chart.cps.push({ label: "soak", color: "#1f77b4", points: rep.cpsSamples.map((c, i) => [i + 1, c]) });
      chart.cdf.push({ label: "server handshake", color: "#d62728", points: r.handshake.cdf() });
      text = formatTable(rep, opts, null, null) +
        `\n  soak: ${k(r.completed)} connections; RSS ${(growth.rssBytes.second / 2 ** 20).toFixed(1)} → ${(growth.rssBytes.last / 2 ** 20).toFixed(1)} MiB (${growth.rssBytes.growthPct} %), ` +
        `endpoints ${k(growth.endpoints.second)} → ${k(growth.endpoints.last)}, timers ${k(growth.timersActive.second)} → ${k(growth.timersActive.last)}\n` +
        `  after TIME-WAIT: endpoints ${res.endpointsA + res.endpointsB}, chunks ${res.chunksInUse}, timers ${res.timersActive}, heap moved ${res.heapMovedA || res.heapMovedB}\n` +
        `  verdict: ${ok ? "PASS (no growth, nothing left behind)" : "FAIL — " + leaks.join("; ")}\n`;
    } else if (a.compare === "kernel") {
      const ours: PairResult[] = [];
      const theirs: KernelResult[] = [];
      for (let i = 0; i < a.runs && !stop; i++) {
        ours.push(await runPair({ ...pairOptions(a, bar, `ustack ${i + 1}/${a.runs}`), shouldStop: () => stop }));
        if (stop) break;
        theirs.push(await runKernel({
          concurrency: a.concurrency, durationS: a.durationS, warmupS: a.warmupS, payload: a.payload,
          onProgress: (n, t, f) => bar.show(`node net ${i + 1}/${a.runs}`, f, `${k(n)} conns, ${k(n / Math.max(t, 1e-3))} CPS`),
        }));
      }
      bar.done();
      // Report the median ustack run (by CPS) and the median kernel run.
      const mid = <T extends { cps: number }>(v: T[]): T => [...v].sort((x, y) => x.cps - y.cps)[(v.length - 1) >> 1];
      const rOurs = mid(ours);
      const rTheirs = mid(theirs);
      const rep = pairReport(rOurs);
      const krep = kernelReport(rTheirs);
      const ratio = median(ours.map((r) => r.cps)) / median(theirs.map((r) => r.cps));
      result = {
        ...rep, kernel: krep, ratio: Math.round(ratio * 100) / 100,
        runs: { ustack: ours.map((r) => Math.round(r.cps)), kernel: theirs.map((r) => Math.round(r.cps)) },
        targets: targets(rep, ratio, a.concurrency), machine: machineFacts(), options: a,
      };
      text = formatTable(rep, opts, krep, ratio) + `\n  runs (alternating): ustack ${ours.map((r) => k(r.cps)).join(", ")}; node net ${theirs.map((r) => k(r.cps)).join(", ")}\n`;
      chart.cps.push({ label: "ustack pair", color: "#1f77b4", points: rOurs.cpsSamples.map((c, i) => [i + 1, c]) });
      chart.cps.push({ label: "node net 127.0.0.1", color: "#ff7f0e", points: rTheirs.cpsSamples.map((c, i) => [i + 1, c]) });
      chart.cdf.push({ label: "ustack server handshake", color: "#1f77b4", points: rOurs.handshake.cdf() });
      chart.cdf.push({ label: "ustack connect", color: "#2ca02c", points: rOurs.connect.cdf() });
      chart.cdf.push({ label: "node net connect", color: "#ff7f0e", points: rTheirs.connect.cdf() });
    } else {
      const r = await runPair({ ...pairOptions(a, bar, "ustack pair"), shouldStop: () => stop });
      bar.done();
      const rep = pairReport(r);
      result = {
        ...rep, targets: targets(rep, null, a.concurrency), machine: machineFacts(), options: a, sizing: r.config,
        portExhausted: r.portExhausted,
        // Per-second samples: CPS, RSS, TIME-WAIT records/bytes, reuse activity, E_NO_PORT.
        samples: r.samples.map((s) => ({ ...s, t: Math.round(s.t * 1000) / 1000, cps: Math.round(s.cps) })),
      };
      text = formatTable(rep, opts, null, null);
      if (a.twReuse || a.closer === "server" || a.serverPorts > 1 || a.timeWaitMs >= 10_000) {
        const tw = r.samples.map((s) => s.timeWait);
        const rss = r.samples.map((s) => s.rssBytes / 2 ** 20);
        text += `\n  TIME-WAIT (${a.timeWaitMs} ms, twReuse ${a.twReuse ? "on" : "off"}, closer ${a.closer}, ${a.serverPorts} server port(s)${a.rate ? `, rate ≤ ${k(a.rate)}/s` : ""}):\n` +
          `    records min/max over the samples ${k(tw.length ? Math.min(...tw) : 0)} / ${k(tw.length ? Math.max(...tw) : 0)}; at the end ${k(r.timeWaitCount)} (${k(r.timeWaitBytes)} B)\n` +
          `    taken over by connect (twReuse) ${k(r.samples.reduce((n, s) => n + s.twReused, 0))}; SYNs accepted in TIME-WAIT ${k(r.samples.reduce((n, s) => n + s.twSynAccepted, 0))}\n` +
          `    port exhaustion (E_NO_PORT) ${k(r.portExhausted)}; RSS min/max ${(rss.length ? Math.min(...rss) : 0).toFixed(1)} / ${(rss.length ? Math.max(...rss) : 0).toFixed(1)} MiB\n`;
      }
      chart.cps.push({ label: "ustack pair", color: "#1f77b4", points: rep.cpsSamples.map((c, i) => [i + 1, c]) });
      chart.cdf.push({ label: "server handshake", color: "#d62728", points: r.handshake.cdf() });
      chart.cdf.push({ label: "client connect", color: "#2ca02c", points: r.connect.cdf() });
      chart.cdf.push({ label: "request", color: "#9467bd", points: r.request.cdf() });
      ok = r.completed > 0;
    }

    const json = JSON.stringify(result, null, 2) + "\n";
    // The results first: a file that cannot be written (checked above, but the disk may
    // fill or the directory go away during the run) must not throw the run away.
    out(a.json ? json : text);
    const files: Array<[string, string, () => string]> = [];
    if (a.out) files.push(["--out", a.out, () => json]);
    if (a.chart) files.push(["--chart", a.chart, () => renderChart(`ustack bench — ${a.mode}${a.sweep ? " sweep" : a.soak ? " soak" : ""}`, chart.cps, chart.cdf)]);
    let written = true;
    for (const [option, path, content] of files) {
      try {
        await writeFile(path, content());
      } catch (e) {
        // stderr: with --json, stdout holds exactly one JSON object.
        process.stderr.write(`ustack bench: ${option} ${path} not written: ${(e as Error).message}\n`);
        written = false;
      }
    }
    return ok && written ? 0 : 1;
  } catch (e) {
    bar.done();
    if (e instanceof BenchUsageError) { out(`ustack bench: ${e.message}\n(see: ustack bench --help)\n`); return 2; }
    out(`ustack bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener("SIGINT", onSig);
  }
}
