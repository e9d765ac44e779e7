// `ustack bench --compare kernel`: the same ping-pong workload (connect, B-byte
// request, B-byte reply, client closes with FIN, server closes on EOF) through
// Node's own `net` module over 127.0.0.1, in the same process and thread as the
// pair-mode stacks run, so the ratio compares two TCP stacks under one Node event
// loop. The kernel does the TCP work; Node adds its libuv/stream layers — this is
// what an application using node:net pays.

import net from "node:net";
import { LogLinearHistogram } from "./histogram.ts";

export interface KernelOptions {
  concurrency: number;
  durationS: number;
  warmupS: number;
  payload: number;
  onProgress?: (completed: number, elapsedS: number, fraction: number) => void;
}

export interface KernelResult {
  completed: number;
  elapsedS: number;
  cps: number;
  cpsSamples: number[];
  connect: LogLinearHistogram;
  request: LogLinearHistogram;
  errors: number;
  errorCodes: Record<string, number>;
  cpuS: number;
}

const nowUs = (): number => performance.now() * 1000;

/** Runs the workload against a node:net server on 127.0.0.1 (ephemeral port). */
export async function runKernel(o: KernelOptions): Promise<KernelResult> {
  const request = Buffer.alloc(o.payload, 0x41);
  const reply = Buffer.alloc(o.payload, 0x61);
  const server = net.createServer((s) => {
    let got = 0;
    s.on("data", (d) => {
      got += d.length;
      if (got >= o.payload && got - d.length < o.payload) s.write(reply);
    });
    s.on("end", () => s.end());
    s.on("error", () => undefined);
  });
  server.maxConnections = 1 << 20;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const connect$ = new LogLinearHistogram();
  const request$ = new LogLinearHistogram();
  let measuring = false;
  let stopping = false;
  let completed = 0;
  let inFlight = 0;
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  let idle: (() => void) | null = null;

  const launch = (): void => {
    while (!stopping && inFlight < o.concurrency) {
      inFlight++;
      const t0 = nowUs();
      let tReq = 0;
      let got = 0;
      let ok = false;
      const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
      s.on("connect", () => {
        const t = nowUs();
        if (measuring) connect$.record(t - t0);
        tReq = t;
        s.write(request);
      });
      s.on("data", (d) => {
        got += d.length;
        if (got >= o.payload && !ok) {
          ok = true;
          if (measuring) {
            request$.record(nowUs() - tReq);
            completed++;
          }
          s.end();
        }
      });
      s.on("error", (e: NodeJS.ErrnoException) => {
        errors++;
        const k = e.code ?? "error";
        errorCodes[k] = (errorCodes[k] ?? 0) + 1;
      });
      s.on("close", () => {
        inFlight--;
        if (!stopping) setImmediate(launch);
        else if (inFlight === 0) idle?.();
      });
    }
  };

  const warm = new Promise<void>((r) => setTimeout(r, o.warmupS * 1000));
  launch();
  await warm;
  measuring = true;
  const cpu0 = process.cpuUsage();
  const start = nowUs();
  const samples: number[] = [];
  let base = 0;
  let sampleAt = start;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = nowUs();
      if (t - sampleAt >= 1e6) {
        samples.push(((completed - base) * 1e6) / (t - sampleAt));
        base = completed;
        sampleAt = t;
      }
      o.onProgress?.(completed, (t - start) / 1e6, Math.min(1, (t - start) / (o.durationS * 1e6)));
      if (t - start >= o.durationS * 1e6) {
        clearInterval(tick);
        resolve();
      }
    }, 100);
  });
  const elapsedS = (nowUs() - start) / 1e6;
  const done = completed;
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  stopping = true;
  if (inFlight > 0) {
    await Promise.race([new Promise<void>((r) => { idle = r; }), new Promise<void>((r) => setTimeout(r, 5000))]);
  }
  await new Promise<void>((r) => server.close(() => r()));
  return {
    completed: done,
    elapsedS,
    cps: done / elapsedS,
    cpsSamples: samples,
    connect: connect$,
    request: request$,
    errors,
    errorCodes,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}
