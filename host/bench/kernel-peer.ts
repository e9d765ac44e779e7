// Kernel-side peer for the TAP modes of `ustack bench`, run inside the test
// namespace with `ip netns exec NS node build/host/bench/kernel-peer.js ...`:
//
//   server --port P --payload B                 node:net server: reply B bytes, close on EOF
//   client --host A --port P --concurrency C --duration S --payload B
//                                               C connections in flight for S seconds;
//                                               prints one JSON line {completed, errors, connect}
//
// Several client processes share the load so that Node's own net layer is not the
// bottleneck of a TAP-server run (each process has its own event loop).

import net from "node:net";
import { LogLinearHistogram } from "./histogram.ts";

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`kernel-peer: --${name} is required`);
  return v;
}

const role = process.argv[2];
const payload = Number(arg("payload", "64"));

if (role === "server") {
  const reply = Buffer.alloc(payload, 0x61);
  const server = net.createServer((s) => {
    let got = 0;
    s.on("data", (d) => {
      got += d.length;
      if (got >= payload && got - d.length < payload) s.write(reply);
    });
    s.on("end", () => s.end());
    s.on("error", () => undefined);
  });
  server.listen({ host: arg("host", "0.0.0.0"), port: Number(arg("port")), backlog: 4096 }, () => process.stdout.write("ready\n"));
  // Exit at once: server.close() would wait for connections whose stack side is gone
  // (the namespace is being removed), keeping this process and its pipes alive.
  process.on("SIGTERM", () => { server.close(); process.exit(0); });
} else if (role === "client") {
  const host = arg("host");
  const port = Number(arg("port"));
  const concurrency = Number(arg("concurrency", "10"));
  const durationMs = Number(arg("duration", "5")) * 1000;
  const request = Buffer.alloc(payload, 0x41);
  const connect$ = new LogLinearHistogram();
  let completed = 0;
  let errors = 0;
  let stopping = false;
  let inFlight = 0;
  const launch = (): void => {
    while (!stopping && inFlight < concurrency) {
      inFlight++;
      const t0 = performance.now();
      let got = 0;
      const s = net.connect({ host, port, noDelay: true });
      s.on("connect", () => {
        connect$.record((performance.now() - t0) * 1000);
        s.write(request);
      });
      s.on("data", (d) => {
        got += d.length;
        if (got >= payload && got - d.length < payload) {
          completed++;
          s.end();
        }
      });
      s.on("error", () => { errors++; });
      s.on("close", () => {
        inFlight--;
        if (!stopping) setImmediate(launch);
      });
    }
  };
  launch();
  setTimeout(() => {
    stopping = true;
    const counts: Array<[number, number]> = [];
    connect$.counts.forEach((c, b) => { if (c) counts.push([b, c]); });
    process.stdout.write(JSON.stringify({ completed, errors, connect: { counts, total: connect$.total, sum: connect$.sum, min: connect$.min, max: connect$.max } }) + "\n");
    setTimeout(() => process.exit(0), 200);
  }, durationMs);
} else {
  process.stderr.write("usage: kernel-peer server|client ...\n");
  process.exit(2);
}
