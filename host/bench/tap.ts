// TAP modes of `ustack bench` (root, iproute2; addresses in 198.18.0.0/15 only):
//
//   tap-server: namespace ubench<pid> with TAP ubench0 (kernel side 198.18.0.1/24);
//               the stack (198.18.0.2) serves the ping-pong on port 7000 in this process
//               (loop-mode driver: poll(2) off the JS thread when idle); K kernel client
//               processes (kernel-peer.js client, `ip netns exec`) share the concurrency.
//               Server handshake latency comes from the module's histogram.
//   tap-client: the same namespace; one kernel server process (kernel-peer.js server on
//               198.18.0.1:7000); the stack's clients keep C connections in flight.
//               Client connect latency comes from the module's histogram.
//
// The namespace and its TAP are removed afterwards, also on failure. Every run is
// bounded by --duration (plus a few seconds of start-up and drain).

import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { StackCore } from "../stack-core.ts";
import { ABI } from "../abi.ts";
import { Driver } from "../driver.ts";
import { realClock } from "../link/clock.ts";
import { createTapNamespace } from "../netns.ts";
import { LogLinearHistogram } from "./histogram.ts";
import { ModuleStats } from "./module-stats.ts";
import { runReport, type RunReport } from "./report.ts";

const INDEX_MASK = (1 << 22) - 1;
const KERNEL_IP = "198.18.0.1";
const STACK_IP = "198.18.0.2";
const PORT = 7000;

export interface TapArgs {
  mode: "pair" | "tap-server" | "tap-client";
  concurrency: number;
  durationS: number;
  warmupS: number;
  payload: number;
  timer: "wheel" | "list";
  shards: number;
  /** Namespace to create (default ubench<pid>); it is removed afterwards. */
  ns?: string;
}

export interface TapResult {
  report: RunReport;
  histograms: Array<[string, string, LogLinearHistogram]>;
  config: Record<string, unknown>;
  note?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const peerScript = (): string => fileURLToPath(new URL("./kernel-peer.js", import.meta.url));

function nsExec(ns: string, args: string[]): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, process.execPath, peerScript(), ...args], { stdio: ["ignore", "pipe", "inherit"] });
}

function collect(p: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let s = "";
    p.stdout!.on("data", (d) => { s += d; });
    p.on("close", () => resolve(s));
  });
}

export async function runTap(a: TapArgs, progress: (label: string, f: number, extra: string) => void): Promise<TapResult> {
  if (process.getuid?.() !== 0) throw new Error(`--mode ${a.mode} needs root (a network namespace and a TAP device); pair mode needs nothing`);
  const ns = a.ns ?? `ubench${process.pid % 100000}`;
  const tns = await createTapNamespace({ ns, tap: "ubench0", kernelCidr: `${KERNEL_IP}/24`, link: { mac: "02:00:5e:00:00:02" } });
  const children: ChildProcess[] = [];
  try {
    const core = await StackCore.create({
      ipv4: `${STACK_IP}/24`, mac: "02:00:5e:00:00:02", maxConnections: 65536, syncacheEntries: 4096, synCacheMax: 4096,
      chunkCount: 8192, rxSlots: 1024, txSlots: 1024, eventRingSize: 4096, rxBudget: 1024,
      useTimerWheel: a.timer === "wheel", shards: a.shards, timeWaitMs: 1000, ephemeralLow: 1024, ephemeralHigh: 65535,
    }, BigInt(Math.floor(realClock.nowUs())));
    const x = core.exports;
    const stats = new ModuleStats(core);
    const io = new Uint8Array(core.memory.buffer, core.ioAddr, core.ioSize);
    const data = new Uint8Array(a.payload).fill(a.mode === "tap-server" ? 0x61 : 0x41);
    const got = new Uint32Array(65536 + 1);
    const live = new Uint32Array(65536 + 1);
    const sentAt = new Float64Array(65536 + 1);
    const request$ = new LogLinearHistogram();
    let measuring = false;
    let completed = 0;
    let inFlight = 0;
    let errors = 0;
    let stopping = false;
    const errorCodes: Record<string, number> = {};
    const err = (k: string) => { errors++; errorCodes[k] = (errorCodes[k] ?? 0) + 1; };
    const kernelAddr = KERNEL_IP.split(".").reduce((s, b) => (s << 8) | Number(b), 0) >>> 0;

    // connect() outside a driver step (the first launch, the 100 ms top-ups) leaves the
    // ARP request / SYN in the TX ring; an idle loop-mode driver sits in poll(2) on the
    // TAP with no core timer due, so nothing would send it: wake() flushes TX and ends
    // the wait (inside a step it only marks the step busy).
    let driver: Driver | null = null;
    // One connection first: its SYN waits for ARP (the interface queues only a few frames
    // per unresolved neighbour and drops the rest), then the full concurrency.
    let cap = 1;
    const launch = (): void => {
      let issued = 0;
      while (!stopping && inFlight < cap) {
        const h = x.connect(0, 0, kernelAddr, PORT) >>> 0;
        if (h === 0) { err(`connect:${x.lastError()}`); break; }
        got[h & INDEX_MASK] = 0;
        live[h & INDEX_MASK] = h;
        inFlight++;
        issued++;
      }
      if (issued > 0) driver?.wake();
    };
    const finish = (h: number, ok: boolean) => {
      live[h & INDEX_MASK] = 0;
      x.close(h);
      inFlight--;
      if (ok && measuring) completed++;
    };

    const onEvent = (type: number, h: number, arg0: number): void => {
      const i = h & INDEX_MASK;
      if (a.mode === "tap-server") {
        if (type === ABI.EVENT_ACCEPTED) { const c = x.accept(h) >>> 0; if (c) got[c & INDEX_MASK] = 0; }
        else if (type === ABI.EVENT_READABLE) {
          for (;;) { const n = x.recv(h, a.payload) | 0; if (n <= 0) break; got[i] += n; }
          if (got[i] >= a.payload && got[i] < 0x80000000) { got[i] = 0x80000000; io.set(data); x.send(h, a.payload); }
        } else if (type === ABI.EVENT_PEER_CLOSED || type === ABI.EVENT_CLOSED) {
          if (type === ABI.EVENT_PEER_CLOSED && measuring) completed++;
          x.close(h);
        } else if (type === ABI.EVENT_ERROR) err(`error:${arg0}`);
        return;
      }
      if (live[i] !== h) return;
      if (type === ABI.EVENT_CONNECTED) { cap = a.concurrency; io.set(data); x.send(h, a.payload); sentAt[i] = realClock.nowUs(); }
      else if (type === ABI.EVENT_READABLE) {
        for (;;) { const n = x.recv(h, a.payload) | 0; if (n <= 0) break; got[i] += n; }
        if (got[i] >= a.payload) { if (measuring) request$.record(realClock.nowUs() - sentAt[i]); finish(h, true); launch(); }
      } else if (type === ABI.EVENT_ERROR) err(`error:${arg0}`);
      else if (type === ABI.EVENT_CLOSED || type === ABI.EVENT_PEER_CLOSED) { finish(h, false); launch(); }
    };

    driver = new Driver(core, tns.link, realClock, onEvent, "loop");
    core.linkUp();
    driver.flushTx();
    driver.start();
    const clients = Math.max(1, Math.min(os.cpus().length * 2, Math.ceil(a.concurrency / 25)));
    let outputs: Promise<string>[] = [];
    if (a.mode === "tap-server") {
      if (core.listen(PORT, 0, 4096) === 0) throw new Error(`listen failed: ${core.lastError()}`);
      const per = Math.ceil(a.concurrency / clients);
      for (let c = 0; c < clients; c++) {
        const p = nsExec(ns, ["client", "--host", STACK_IP, "--port", String(PORT), "--concurrency", String(per), "--duration", String(a.warmupS + a.durationS), "--payload", String(a.payload)]);
        children.push(p);
        outputs.push(collect(p));
      }
    } else {
      const p = nsExec(ns, ["server", "--host", KERNEL_IP, "--port", String(PORT), "--payload", String(a.payload)]);
      children.push(p);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("kernel server did not start")), 5000);
        p.stdout!.once("data", () => { clearTimeout(t); resolve(); });
      });
      launch();
    }
    const label = a.mode;
    const warmEnd = Date.now() + a.warmupS * 1000;
    while (Date.now() < warmEnd) { progress(`${label} warm-up`, 1 - (warmEnd - Date.now()) / (a.warmupS * 1000 || 1), ""); await sleep(100); if (a.mode === "tap-client") launch(); }
    x.benchHistReset(0xff);
    measuring = true;
    const cpu0 = process.cpuUsage();
    const start = Date.now();
    const samples: number[] = [];
    let base = 0;
    let at = start;
    while (Date.now() - start < a.durationS * 1000) {
      await sleep(100);
      if (a.mode === "tap-client") launch();
      const t = Date.now();
      if (t - at >= 1000) { samples.push(((completed - base) * 1000) / (t - at)); base = completed; at = t; }
      progress(label, (t - start) / (a.durationS * 1000), `${completed.toLocaleString("en-US")} conns`);
    }
    const elapsedS = (Date.now() - start) / 1000;
    const done = completed;
    const cpu = process.cpuUsage(cpu0);
    measuring = false;
    stopping = true;
    const handshake = stats.histogram(0);
    const connect = stats.histogram(1);
    const snap = stats.snapshot();
    let kernelConnect = new LogLinearHistogram();
    let kernelErrors = 0;
    if (a.mode === "tap-server") {
      for (const s of await Promise.all(outputs)) {
        try {
          const j = JSON.parse(s.trim().split("\n").pop() ?? "{}");
          kernelErrors += j.errors ?? 0;
          for (const [b, c] of j.connect?.counts ?? []) kernelConnect.counts[b] += c;
          kernelConnect.total += j.connect?.total ?? 0;
          kernelConnect.sum += j.connect?.sum ?? 0;
          kernelConnect.min = Math.min(kernelConnect.min, j.connect?.min ?? Infinity);
          kernelConnect.max = Math.max(kernelConnect.max, j.connect?.max ?? 0);
        } catch { kernelErrors++; }
      }
    }
    outputs = [];
    await driver.close();
    const report = runReport(a.mode, {
      completed: done, elapsedS, cps: done / elapsedS, cpsSamples: samples,
      handshake: a.mode === "tap-server" ? handshake : null,
      connect: a.mode === "tap-server" ? kernelConnect : connect,
      request: request$, errors: errors + kernelErrors, errorCodes, cpuS: (cpu.user + cpu.system) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      memoryPerConnectionBytes: snap.memory.bytesPerConnection, snapshots: [snap],
    });
    if (process.env.USTACK_BENCH_DEBUG) console.error(Object.entries(snap.stats).filter(([, v]) => v !== 0), snap.gauges);
    const histograms: TapResult["histograms"] = a.mode === "tap-server"
      ? [["server handshake (module)", "#d62728", handshake], ["kernel client connect", "#2ca02c", kernelConnect]]
      : [["client connect (module)", "#2ca02c", connect], ["request", "#9467bd", request$]];
    return {
      report, histograms,
      config: { namespace: ns, stack: STACK_IP, kernel: KERNEL_IP, port: PORT, kernelProcesses: a.mode === "tap-server" ? clients : 1 },
      note: a.mode === "tap-server"
        ? `load: ${clients} kernel client processes (node:net) in ${ns}; CPS counts connections the stack saw closed by the client`
        : `kernel server: one node:net process in ${ns}; CPU figure is this process only (the stack)`,
    };
  } finally {
    // SIGTERM, then SIGKILL whatever is still there after a second: a kernel peer left
    // behind would keep the namespace (and the caller's stdio pipes) alive.
    const alive = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of alive()) c.kill("SIGTERM");
    for (let i = 0; i < 10 && alive().length > 0; i++) await sleep(100);
    for (const c of alive()) c.kill("SIGKILL");
    await tns.teardown();
  }
}
