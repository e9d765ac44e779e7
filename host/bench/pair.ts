// Pair mode of `ustack bench` (issue 8, SPEC §6): two stacks in one process, joined
// by the in-memory link, both stepped by one thread. The workload is driven through
// the command/event ABI (connect/send/recv/close + the event ring), not through
// Duplex streams, so what is measured is the stack plus the thinnest possible host.
//
//   client stack A (198.18.0.1)                         server stack B (198.18.0.2)
//   ┌─────────────────────────────┐   memory link     ┌──────────────────────────────┐
//   │ keep C connections in flight│ ◄──────────────► │ listen :PORT                  │
//   │ CONNECTED → send B bytes     │                   │ ACCEPTED → accept            │
//   │ READABLE  → recv; all B in → │                   │ READABLE → recv; all B in →  │
//   │   close (FIN), next connect  │                   │   send B bytes               │
//   │                              │                   │ PEER_CLOSED → close (FIN)    │
//   └─────────────────────────────┘                   └──────────────────────────────┘
//
// One loop iteration: now = clock; A.step(now); B.step(now) (host/driver.ts: RX into
// the ring with the RX stamp `now`, tick, events → the handlers above, TX to the link).
// Every ~20 ms the loop yields to the event loop (progress bar, signals); every
// second it takes a CPS sample and the gauges.
//
// Per-connection state lives in typed arrays indexed by the handle's slot index
// (handle & INDEX_MASK), so the loop allocates nothing per connection.
//
// TIME-WAIT options (issue 6 item 5, the sustained-rate run):
//   twReuse      every connect() carries PORT_OPT.TW_REUSE (Linux tcp_tw_reuse): the client
//                may take a 4-tuple still in TIME-WAIT once ≥ 1 s has passed since its last
//                segment from the server (assembly/tcp/timewait.ts twTakeOver);
//   rate         at most this many connects per second (token bucket, ≤ 5 ms of burst):
//                with one client address and one server port, twReuse allows at most about
//                (ephemeral range) new connections per second, so an unpaced run above that
//                walks the whole range and fails with E_NO_PORT. A connect refused with E_NO_PORT
//                has just walked the whole range (~6 ms for 64,512 ports, tcp/isn.ts
//                choosePort); launch() then makes no connect for NO_PORT_RETRY_US. Retrying at
//                once, from every completion handler of the step, stacked one walk per handler
//                between the step's events and its TX flush: the FINs those handlers queued
//                left ~0.5 s late, their RTO (armed at close) fired before the peer's FIN,ACK
//                was read, and each spurious FIN retransmission met a server in LAST-ACK as a
//                duplicate (tcp_dropUnacceptable, RFC 9293 §3.10.7.4);
//   closer       "client" (default, SPEC §6: the client closes first after the reply, so
//                the client is the active closer and holds TIME-WAIT) or "server" (the server
//                closes right after its reply: the server holds TIME-WAIT and a new SYN on
//                the same 4-tuple is accepted from TIME-WAIT, RFC 6191);
//   serverPorts  the server listens on port .. port+N-1; connection k goes to port + (k mod N).

import { StackCore } from "../stack-core.ts";
import { ABI, ERRORS, PORT_OPT, type StackConfig } from "../abi.ts";
import { Driver } from "../driver.ts";
import { createMemoryPair } from "../link/memory.ts";
import { realClock, type Clock } from "../link/clock.ts";
import { LogLinearHistogram } from "./histogram.ts";
import { ModuleStats, type ModuleSnapshot } from "./module-stats.ts";

const INDEX_MASK = (1 << 22) - 1;
const CLIENT_IP = "198.18.0.1";
const SERVER_IP = "198.18.0.2";
const E_AGAIN = 208;
/**
 * After a connect refused with E_NO_PORT, no connect for this long (µs). Ports come back
 * only as TIME-WAIT records age past twReuse's 1 s, so an immediate retry walks the range
 * again for nothing; a few ms keeps every stall far below the 200 ms minimum RTO.
 */
export const NO_PORT_RETRY_US = 5_000;

export interface PairOptions {
  /** Stop after this many completed connections (0: run for durationS). */
  connections: number;
  concurrency: number;
  /** Measured seconds (after the warm-up) when connections is 0. */
  durationS: number;
  /** Seconds run before measuring (JIT tier-up, ARP, pools warm). */
  warmupS: number;
  /** Request and reply size, bytes. */
  payload: number;
  useTimerWheel: boolean;
  shards: number;
  timeWaitMs: number;
  port?: number;
  /** Connect with PORT_OPT.TW_REUSE (default false). */
  twReuse?: boolean;
  /** Connects per second at most (0/undefined: as fast as the loop goes). */
  rate?: number;
  /** Who closes first (default "client"). */
  closer?: "client" | "server";
  /** Server ports (default 1). */
  serverPorts?: number;
  /** The client's ephemeral port range (default 1024..65535). */
  ephemeralLow?: number;
  ephemeralHigh?: number;
  /** Called about every 100 ms with the progress so far. */
  onProgress?: (p: Progress) => void;
  /** Called once a second with the sample (soak: gauges). */
  onSample?: (s: Sample) => void;
  /** Stops early when this returns true (soak leak detection, SIGINT). */
  shouldStop?: () => boolean;
  /** After the run, wait out TIME-WAIT and report what is left (soak leak check). */
  checkResidual?: boolean;
  clock?: Clock;
}

/** What is still held after the run and TIME-WAIT (all 0/false when nothing leaked). */
export interface Residual {
  endpointsA: number;
  /** Server endpoints besides the listener. */
  endpointsB: number;
  chunksInUse: number;
  timersActive: number;
  /** The allocator top moved (an allocation after init). */
  heapMovedA: boolean;
  heapMovedB: boolean;
}

export interface Progress {
  phase: "warmup" | "measure";
  completed: number;
  elapsedS: number;
  /** Fraction done, 0..1. */
  fraction: number;
  cps: number;
}

export interface Sample {
  /** Seconds since the measurement started (end of this sample). */
  t: number;
  cps: number;
  rssBytes: number;
  /** Endpoints in use, client and server. */
  endpointsA: number;
  endpointsB: number;
  chunksInUse: number;
  timersActive: number;
  timeWait: number;
  /** TIME-WAIT bytes (records + table entries), both stacks. */
  timeWaitBytes: number;
  /** TIME-WAIT records now, per stack. */
  timeWaitA: number;
  timeWaitB: number;
  /** 4-tuples taken from TIME-WAIT by connect (twReuse) / SYNs accepted in TIME-WAIT (RFC 6191), this second. */
  twReused: number;
  twSynAccepted: number;
  /** connect() refused with E_NO_PORT this second. */
  portExhausted: number;
}

export interface PairResult {
  completed: number;
  elapsedS: number;
  cps: number;
  cpsSamples: number[];
  samples: Sample[];
  handshake: LogLinearHistogram;
  connect: LogLinearHistogram;
  request: LogLinearHistogram;
  errors: number;
  errorCodes: Record<string, number>;
  /** CPU seconds (user + system) of the process during the measurement. */
  cpuS: number;
  a: ModuleSnapshot;
  b: ModuleSnapshot;
  /** Timer expiries and ns per schedule+cancel measured on the live queues. */
  timerExpiries: number;
  /** Measured schedules + cancels (of active timers) of both stacks. */
  timerOps: number;
  timerProbeNsPerPair: number;
  /** Constant-delay queue appends + unlinks during the measurement, both stacks. */
  fifoOps: number;
  /** Constant-delay queue pops (expiries) during the measurement, both stacks. */
  fifoExpiries: number;
  /** Measured on the live 2 MSL queue: ns per append+unlink pair. */
  fifoProbeNsPerPair: number;
  peakRssBytes: number;
  memoryPerConnectionBytes: number;
  timeWaitCount: number;
  timeWaitBytes: number;
  /** connect() refused with E_NO_PORT (every ephemeral port of the destination taken). */
  portExhausted: number;
  endpointRecordBytes: number;
  residual: Residual | null;
  config: { clientMaxConnections: number; serverMaxConnections: number; port: number };
}

/** Stack config for one side of the pair (sizes follow concurrency and the TIME-WAIT load). */
function pairConfig(o: PairOptions, ip: string, mac: string, maxConnections: number, maxTimeWait: number): StackConfig {
  return {
    ipv4: `${ip}/24`,
    mac,
    maxConnections,
    maxListeners: 4,
    syncacheEntries: Math.max(1024, o.concurrency * 2),
    synCacheMax: Math.max(1024, o.concurrency * 2),
    maxTimeWait, // compact TIME-WAIT records (issue 6)
    chunkCount: Math.max(4096, o.concurrency * 4),
    chunkSize: 2048,
    rxSlots: 1024,
    txSlots: 1024,
    eventRingSize: 4096,
    rxBudget: 1024,
    shards: o.shards,
    useTimerWheel: o.useTimerWheel,
    timeWaitMs: o.timeWaitMs,
    ephemeralLow: o.ephemeralLow ?? 1024,
    ephemeralHigh: o.ephemeralHigh ?? 65535,
    arpEntries: 16,
    arpPending: 1024,
  };
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs the ping-pong workload between two stacks; resolves with the measurements. */
export async function runPair(o: PairOptions): Promise<PairResult> {
  if (!(o.concurrency >= 1) || !(o.payload >= 1)) throw new RangeError("concurrency and payload must be ≥ 1");
  const clock = o.clock ?? realClock;
  const port = o.port ?? 7000;
  const closer = o.closer ?? "client";
  const serverPorts = o.serverPorts ?? 1;
  if (!(serverPorts >= 1 && serverPorts <= 64 && port + serverPorts - 1 <= 65535)) throw new RangeError("serverPorts must be 1..64");
  const rate = o.rate ?? 0;
  const portOpt = o.twReuse ? PORT_OPT.TW_REUSE : 0;
  // Client: in-flight connections plus TIME-WAIT (timeWaitMs at up to 400 k CPS), within the port range.
  const RANGE = (o.ephemeralHigh ?? 65535) - (o.ephemeralLow ?? 1024) + 1;
  if (!(RANGE >= 1 && (o.ephemeralLow ?? 1024) >= 1)) throw new RangeError("ephemeralLow..ephemeralHigh must be a non-empty range");
  const clientMax = Math.max(o.concurrency + 64, Math.min(RANGE, o.concurrency + Math.ceil((o.timeWaitMs / 1000) * 400_000) + 1024));
  const serverMax = Math.max(4096, o.concurrency * 4);
  // TIME-WAIT records: the active closer holds at most one per 4-tuple, i.e. per
  // (client port, server port); the other side needs none (a few for safety).
  const twNeed = Math.min(serverPorts * RANGE, Math.ceil((o.timeWaitMs / 1000) * 400_000)) + o.concurrency + 1024;
  const clientTw = closer === "client" ? twNeed : 1024;
  const serverTw = closer === "server" ? twNeed : 1024;
  const pair = createMemoryPair({ clock, seed: 1, macA: "02:00:00:00:00:0a", macB: "02:00:00:00:00:0b", faults: { queueFrames: 1 << 16 } });
  const t0 = BigInt(Math.floor(clock.nowUs()));
  const A = await StackCore.create(pairConfig(o, CLIENT_IP, "02:00:00:00:00:0a", clientMax, clientTw), t0);
  const B = await StackCore.create(pairConfig(o, SERVER_IP, "02:00:00:00:00:0b", serverMax, serverTw), t0);
  const xa = A.exports;
  const xb = B.exports;
  const statsA = new ModuleStats(A);
  const statsB = new ModuleStats(B);

  const payload = o.payload;
  const ioA = new Uint8Array(A.memory.buffer, A.ioAddr, A.ioSize);
  const ioB = new Uint8Array(B.memory.buffer, B.ioAddr, B.ioSize);
  if (payload > A.ioSize) throw new RangeError(`payload ${payload} exceeds the I/O buffer (${A.ioSize})`);
  const request = new Uint8Array(payload).map((_, i) => 0x41 + (i % 26));
  const reply = new Uint8Array(payload).map((_, i) => 0x61 + (i % 26));

  // Per-slot state (client: bytes of reply received, request send time; server: request bytes).
  // Indexed by endpoint slot: the slab holds connections, listeners and syncache records.
  const slotsA = clientMax + 4 + Math.max(1024, o.concurrency * 2) + 1;
  const slotsB = serverMax + 4 + Math.max(1024, o.concurrency * 2) + 1;
  const gotA = new Uint32Array(slotsA);
  /** The live handle of each client slot (0: none): events for older handles are ignored. */
  const liveA = new Uint32Array(slotsA);
  const reqAt = new Float64Array(slotsA);
  const gotB = new Uint32Array(slotsB);
  /** The live handle of each server slot (server-close: events after our close are ignored). */
  const liveB = new Uint32Array(slotsB);
  const serverIp = SERVER_IP.split(".").reduce((a, b) => (a << 8) | Number(b), 0) >>> 0;

  let completed = 0;
  let started = 0;
  /** Connects issued since the pacing origin (rate > 0). */
  let launched = 0;
  let paceStart = clock.nowUs();
  let portExhausted = 0;
  let nextPort = 0;
  let inFlight = 0;
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  const countError = (what: string) => { errors++; errorCodes[what] = (errorCodes[what] ?? 0) + 1; };
  const request$ = new LogLinearHistogram();
  let measuring = false;
  let stopLaunching = false;
  let now = clock.nowUs();
  /** No connect before this time (µs): set by E_NO_PORT (NO_PORT_RETRY_US). */
  let noPortUntil = 0;

  const launch = (): void => {
    if (noPortUntil > 0 && clock.nowUs() < noPortUntil) return;
    if (rate > 0) {
      // Token bucket: `rate` per second since paceStart, at most 5 ms of it at once.
      const t = clock.nowUs();
      const floor = ((t - paceStart) / 1e6) * rate - rate * 0.005;
      if (launched < floor) launched = Math.floor(floor);
    }
    while (inFlight < o.concurrency && !stopLaunching) {
      if (o.connections > 0 && measuring && started >= o.connections) return;
      if (rate > 0 && launched >= ((clock.nowUs() - paceStart) / 1e6) * rate) return;
      const dport = port + (serverPorts > 1 ? nextPort++ % serverPorts : 0);
      const h = xa.connect(0, portOpt, serverIp, dport) >>> 0;
      if (h === 0) {
        const code = xa.lastError();
        if (code === ERRORS.E_NO_PORT) {
          portExhausted++;
          noPortUntil = clock.nowUs() + NO_PORT_RETRY_US; // the walk found nothing: back off
        }
        countError(`connect:${code}`);
        return; // retried on a later completion or loop iteration
      }
      launched++;
      const i = h & INDEX_MASK;
      gotA[i] = 0;
      reqAt[i] = 0;
      liveA[i] = h;
      inFlight++;
      if (measuring) started++;
    }
  };

  const finishClient = (h: number, ok: boolean): void => {
    liveA[h & INDEX_MASK] = 0;
    xa.close(h);
    inFlight--;
    if (ok && measuring) completed++;
  };

  // ── client events ─────────────────────────────────────────────────────────────
  const onA = (type: number, h: number, arg0: number): void => {
    if (liveA[h & INDEX_MASK] !== h) return; // a connection already given up (late event)
    switch (type) {
      case ABI.EVENT_CONNECTED: {
        ioA.set(request);
        const n = xa.send(h, payload) | 0;
        if (n !== payload) { countError(`send:${n}`); liveA[h & INDEX_MASK] = 0; xa.abort(h); inFlight--; break; }
        reqAt[h & INDEX_MASK] = now;
        break;
      }
      case ABI.EVENT_READABLE:
      case ABI.EVENT_PEER_CLOSED: {
        const i = h & INDEX_MASK;
        if (type === ABI.EVENT_PEER_CLOSED && closer === "client") {
          countError("server-closed-first");
          finishClient(h, false);
          launch();
          break;
        }
        for (;;) {
          const n = xa.recv(h, payload) | 0;
          if (n > 0) {
            if (gotA[i] === 0 && ioA[0] !== reply[0]) countError("reply-bytes");
            gotA[i] += n;
            continue;
          }
          if (n === -E_AGAIN) break;
          break; // 0 = EOF before the reply completed: handled by PEER_CLOSED/CLOSED
        }
        if (gotA[i] >= payload) {
          if (measuring && reqAt[i] > 0) request$.record(now - reqAt[i]);
          finishClient(h, true);
          launch();
        } else if (type === ABI.EVENT_PEER_CLOSED) {
          countError("reply-short");
          finishClient(h, false);
          launch();
        }
        break;
      }
      case ABI.EVENT_ERROR:
        countError(`error:${arg0}`);
        break;
      case ABI.EVENT_CLOSED:
        finishClient(h, false);
        launch();
        break;
      default:
        break;
    }
  };

  // ── server events ─────────────────────────────────────────────────────────────
  const onB = (type: number, h: number, arg0: number): void => {
    switch (type) {
      case ABI.EVENT_ACCEPTED: {
        const c = xb.accept(h) >>> 0;
        if (c !== 0) { gotB[c & INDEX_MASK] = 0; liveB[c & INDEX_MASK] = c; }
        void arg0;
        break;
      }
      case ABI.EVENT_READABLE: {
        const i = h & INDEX_MASK;
        if (liveB[i] !== h) break; // closed by us already (server-close)
        for (;;) {
          const n = xb.recv(h, payload) | 0;
          if (n > 0) { gotB[i] += n; continue; }
          break;
        }
        if (gotB[i] >= payload && gotB[i] < 0x80000000) {
          gotB[i] = 0x80000000; // replied
          ioB.set(reply);
          const n = xb.send(h, payload) | 0;
          if (n !== payload) countError(`server-send:${n}`);
          if (closer === "server") { liveB[i] = 0; xb.close(h); } // FIN right after the reply
        }
        break;
      }
      case ABI.EVENT_PEER_CLOSED:
      case ABI.EVENT_CLOSED:
        if (liveB[h & INDEX_MASK] !== h) break;
        liveB[h & INDEX_MASK] = 0;
        xb.close(h);
        break;
      case ABI.EVENT_ERROR:
        countError(`server-error:${arg0}`);
        break;
      default:
        break;
    }
  };

  const da = new Driver(A, pair.a, clock, onA, "manual");
  const db = new Driver(B, pair.b, clock, onB, "manual");
  A.linkUp();
  B.linkUp();
  const heapA0 = A.heapTop();
  const heapB0 = B.heapTop();
  for (let p = port; p < port + serverPorts; p++) {
    if (B.listen(p, 0, 4096) === 0) throw new Error(`bench: server listen on ${p} failed (code ${B.lastError()})`);
  }

  // Each stack steps at its own clock reading, so a stamp pair on one side never
  // collapses onto the other side's step time.
  const step = (): void => {
    now = clock.nowUs();
    da.step(now);
    now = clock.nowUs();
    db.step(now);
  };

  // ── warm-up: ARP, JIT tier-up, pools ──────────────────────────────────────────
  const warmEnd = clock.nowUs() + o.warmupS * 1e6;
  launch();
  let lastProgress = 0;
  let warmDone = 0;
  while (clock.nowUs() < warmEnd) {
    const sliceEnd = clock.nowUs() + 20_000;
    while (clock.nowUs() < sliceEnd) {
      step();
      if (inFlight < o.concurrency) launch();
    }
    warmDone++;
    if (o.onProgress && clock.nowUs() - lastProgress > 100_000) {
      lastProgress = clock.nowUs();
      o.onProgress({ phase: "warmup", completed: 0, elapsedS: 0, fraction: 1 - (warmEnd - clock.nowUs()) / (o.warmupS * 1e6 || 1), cps: 0 });
    }
    await yieldToLoop();
  }

  // ── measurement ───────────────────────────────────────────────────────────────
  xa.benchHistReset(0xff);
  xb.benchHistReset(0xff);
  const expiredA0 = Number(xa.benchTimersExpired());
  const expiredB0 = Number(xb.benchTimersExpired());
  const opsA0 = Number(xa.benchTimersScheduled()) + Number(xa.benchTimersCancelled());
  const opsB0 = Number(xb.benchTimersScheduled()) + Number(xb.benchTimersCancelled());
  const fifoOps0 = Number(xa.benchFifoOps()) + Number(xb.benchFifoOps());
  const fifoExp0 = Number(xa.benchFifoExpired()) + Number(xb.benchFifoExpired());
  measuring = true;
  paceStart = clock.nowUs();
  launched = 0;
  const exhausted0 = portExhausted;
  let twReusedBase = Number(xa.gauge(19));
  let twSynBase = Number(xb.gauge(16));
  let exhaustedBase = portExhausted;
  const cpu0 = process.cpuUsage();
  const start = clock.nowUs();
  const endAt = o.connections > 0 ? Infinity : start + o.durationS * 1e6;
  const samples: Sample[] = [];
  let sampleStart = start;
  let sampleBase = 0;
  let peakRss = process.memoryUsage.rss();
  // One per-second sample, on the whole-second grid from the start of the measurement
  // (slices are 20 ms, so a "≥ 1 s since the last sample" rule drifted and lost one).
  const takeSample = (t: number): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    const s: Sample = {
      t: (t - start) / 1e6,
      cps: ((completed - sampleBase) * 1e6) / (t - sampleStart),
      rssBytes: rss,
      endpointsA: Number(xa.gauge(0)),
      endpointsB: Number(xb.gauge(0)),
      chunksInUse: Number(xa.gauge(4)) + Number(xb.gauge(4)),
      timersActive: Number(xa.gauge(8)) + Number(xb.gauge(8)),
      timeWait: (xa.benchTimeWaitCount() >>> 0) + (xb.benchTimeWaitCount() >>> 0),
      timeWaitBytes: Number(xa.benchTimeWaitBytes()) + Number(xb.benchTimeWaitBytes()),
      timeWaitA: xa.benchTimeWaitCount() >>> 0,
      timeWaitB: xb.benchTimeWaitCount() >>> 0,
      twReused: Number(xa.gauge(19)) - twReusedBase,
      twSynAccepted: Number(xb.gauge(16)) - twSynBase,
      portExhausted: portExhausted - exhaustedBase,
    };
    twReusedBase = Number(xa.gauge(19));
    twSynBase = Number(xb.gauge(16));
    exhaustedBase = portExhausted;
    samples.push(s);
    o.onSample?.(s);
    sampleStart = t;
    sampleBase = completed;
  };

  const done = (): boolean => (o.connections > 0 ? completed >= o.connections : clock.nowUs() >= endAt) || (o.shouldStop?.() ?? false);
  while (!done()) {
    const sliceEnd = clock.nowUs() + 20_000;
    while (clock.nowUs() < sliceEnd && !(o.connections > 0 && completed >= o.connections)) {
      step();
      if (inFlight < o.concurrency) launch();
    }
    const t = clock.nowUs();
    if (t - start >= (samples.length + 1) * 1e6) takeSample(t);
    if (o.onProgress && t - lastProgress > 100_000) {
      lastProgress = t;
      const fraction = o.connections > 0 ? completed / o.connections : (t - start) / (o.durationS * 1e6);
      o.onProgress({ phase: "measure", completed, elapsedS: (t - start) / 1e6, fraction: Math.min(1, fraction), cps: (completed * 1e6) / Math.max(1, t - start) });
    }
    await yieldToLoop();
  }
  const end = clock.nowUs();
  if (end - sampleStart >= 0.5e6) takeSample(end); // the last (nearly) whole second
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  stopLaunching = true;
  const elapsedS = (end - start) / 1e6;
  const rssEnd = process.memoryUsage.rss();
  if (rssEnd > peakRss) peakRss = rssEnd;
  const maxRss = process.resourceUsage().maxRSS * 1024;

  // Timers: expiries during the measurement; ns per schedule+cancel on the live queues.
  const timerExpiries = Number(xa.benchTimersExpired()) - expiredA0 + Number(xb.benchTimersExpired()) - expiredB0;
  // Schedules + cancels of active timers during the measurement, both stacks (read
  // before the probe below, which would add its own).
  const timerOps = Number(xa.benchTimersScheduled()) + Number(xa.benchTimersCancelled()) - opsA0
    + Number(xb.benchTimersScheduled()) + Number(xb.benchTimersCancelled()) - opsB0;
  // Constant-delay queues (delayed ACK, 2 MSL): appends + unlinks, and pops.
  const fifoOps = Number(xa.benchFifoOps()) + Number(xb.benchFifoOps()) - fifoOps0;
  const fifoExpiries = Number(xa.benchFifoExpired()) + Number(xb.benchFifoExpired()) - fifoExp0;
  const probeN = 200_000;
  // Warm-up calls first: V8 compiles a wasm function with its baseline tier and tiers
  // it up after some use, so a probe's first call would time baseline code around the
  // (already optimised) queue operations. The timed calls run the optimised code, as
  // the stack's own hot paths do.
  xa.benchTimerProbe(probeN / 4, 120_000);
  xb.benchTimerProbe(probeN / 4, 120_000);
  xa.benchFifoProbe(probeN / 4);
  xb.benchFifoProbe(probeN / 4);
  // Five timed rounds each, interleaved, and the median: one round is ~3 ms, so a
  // single preemption on a shared machine would double a one-shot figure.
  const wheelRounds: number[] = [];
  const fifoRounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const p0 = performance.now();
    xa.benchTimerProbe(probeN, 120_000);
    xb.benchTimerProbe(probeN, 120_000);
    wheelRounds.push(((performance.now() - p0) * 1e6) / (2 * probeN));
    const p1 = performance.now();
    xa.benchFifoProbe(probeN);
    xb.benchFifoProbe(probeN);
    fifoRounds.push(((performance.now() - p1) * 1e6) / (2 * probeN));
  }
  const median = (v: number[]): number => v.slice().sort((x, y) => x - y)[v.length >> 1];
  const timerProbeNsPerPair = median(wheelRounds);
  const fifoProbeNsPerPair = median(fifoRounds);

  const handshake = statsB.histogram(0);
  const connect = statsA.histogram(1);
  const timeWaitCount = (xa.benchTimeWaitCount() >>> 0) + (xb.benchTimeWaitCount() >>> 0);
  const timeWaitBytes = Number(xa.benchTimeWaitBytes()) + Number(xb.benchTimeWaitBytes());
  const a = statsA.snapshot();
  const b = statsB.snapshot();

  // Drain: let the in-flight connections finish (bounded), then drop the stacks.
  const drainEnd = clock.nowUs() + 2e6;
  while (inFlight > 0 && clock.nowUs() < drainEnd) step();
  // Leak check: once TIME-WAIT has run out every record, chunk and timer is back.
  let residual: Residual | null = null;
  if (o.checkResidual) {
    const quietEnd = clock.nowUs() + o.timeWaitMs * 1000 + 1.5e6;
    while (clock.nowUs() < quietEnd) {
      step();
      // Timers left: one per ARP cache entry (the neighbour's), none per connection.
      if (xa.gauge(0) === 0n && xb.gauge(0) === 1n && xa.gauge(8) === xa.gauge(11) && xb.gauge(8) === xb.gauge(11)) break;
    }
    residual = {
      endpointsA: Number(xa.gauge(0)), endpointsB: Number(xb.gauge(0)) - 1,
      chunksInUse: Number(xa.gauge(4)) + Number(xb.gauge(4)),
      timersActive: Number(xa.gauge(8) - xa.gauge(11)) + Number(xb.gauge(8) - xb.gauge(11)),
      heapMovedA: A.heapTop() !== heapA0, heapMovedB: B.heapTop() !== heapB0,
    };
  }
  await da.close();
  await db.close();

  const endpointRecordBytes = a.memory.endpointRecord ?? 0;
  return {
    completed,
    elapsedS,
    cps: completed / elapsedS,
    cpsSamples: samples.map((s) => s.cps),
    samples,
    handshake,
    connect,
    request: request$,
    errors,
    errorCodes,
    cpuS: (cpu.user + cpu.system) / 1e6,
    a,
    b,
    timerExpiries,
    timerOps,
    timerProbeNsPerPair,
    fifoOps,
    fifoExpiries,
    fifoProbeNsPerPair,
    peakRssBytes: Math.max(peakRss, maxRss),
    memoryPerConnectionBytes: a.memory.bytesPerConnection ?? 0,
    timeWaitCount,
    timeWaitBytes,
    portExhausted: portExhausted - exhausted0,
    endpointRecordBytes,
    residual,
    config: { clientMaxConnections: clientMax, serverMaxConnections: serverMax, port },
  };
}
