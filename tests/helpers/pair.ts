// Two core modules joined by the in-memory wire (host/link/memory.ts), driven by the
// host's deterministic Pump (host/driver.ts) on a VirtualClock: the end-to-end kit of
// tests/host/core-*.test.ts. It talks to the modules through StackCore (the raw
// command ABI), not the net API, so the tests see exactly what the module does.
//
//   node A (198.18.0.1, 02:00:00:00:00:0a) ── memory wire (seeded faults) ── node B (198.18.0.2)
//   every node: StackCore + Driver (manual mode) + an event router per handle

import { StackCore, type CoreEvent } from "../../host/stack-core.ts";
import { ABI, type StackConfig } from "../../host/abi.ts";
import { Driver, Pump, type PumpResult } from "../../host/driver.ts";
import { createMemoryPair, type FaultOptions, type MemoryPair } from "../../host/link/memory.ts";
import { VirtualClock } from "../../host/link/clock.ts";

export const ADDR_A = "198.18.0.1";
export const ADDR_B = "198.18.0.2";
export const MAC_A = "02:00:00:00:00:0a";
export const MAC_B = "02:00:00:00:00:0b";

export type EventFn = (e: CoreEvent) => void;

/** One stack of the pair. */
export class Node {
  private readonly byHandle = new Map<number, EventFn>();
  /** Every event, in order (tests inspect it). */
  readonly log: CoreEvent[] = [];
  /** Called for events whose handle has no route. */
  fallback: EventFn | null = null;
  driver!: Driver;

  constructor(readonly name: string, readonly core: StackCore, readonly addr: string) {}

  /** Routes the events of `handle` to `fn` (replacing any previous route). */
  on(handle: number, fn: EventFn): void { this.byHandle.set(handle >>> 0, fn); }
  off(handle: number): void { this.byHandle.delete(handle >>> 0); }

  dispatch(e: CoreEvent): void {
    this.log.push(e);
    if (this.log.length > 4096) this.log.splice(0, 2048);
    const fn = this.byHandle.get(e.handle);
    if (fn) fn(e);
    else this.fallback?.(e);
  }

  /** Bytes of linear memory (it must never grow after init). */
  memory(): number { return this.core.memory.buffer.byteLength; }

  /** App commands changed the core: send their frames and step soon. */
  kick(): void { this.driver.wake(); }
}

export interface PairOptions {
  seed?: number;
  faults?: FaultOptions;
  /** Config for both stacks (interface fields are set by the kit). */
  config?: StackConfig;
  configA?: StackConfig;
  configB?: StackConfig;
  startUs?: number;
  flavor?: "release" | "debug";
}

export interface Pair {
  a: Node;
  b: Node;
  clock: VirtualClock;
  wire: MemoryPair;
  pump: Pump;
  /** Pumps until `until()` holds (or the budgets run out); throws when it does not. */
  run(until: () => boolean, what: string, maxMs?: number): Promise<PumpResult>;
  /** Moves virtual time by `ms`, pumping all the way. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Small defaults that keep a test's memory modest. */
export const SMALL: StackConfig = {
  maxConnections: 256, maxListeners: 8, syncacheEntries: 256, maxTimeWait: 64,
  chunkCount: 1024, chunkSize: 2048, rxSlots: 256, txSlots: 256, slotSize: 2048,
  eventRingSize: 1024, shards: 16,
};

export async function createPair(o: PairOptions = {}): Promise<Pair> {
  const startUs = o.startUs ?? 1_000_000;
  const clock = new VirtualClock(startUs);
  const wire = createMemoryPair({ clock, seed: o.seed ?? 1, faults: o.faults, macA: MAC_A, macB: MAC_B, mtu: 1500 });
  const secretA = new Uint8Array(16).fill(0xa1);
  const secretB = new Uint8Array(16).fill(0xb2);
  const coreA = await StackCore.create({ ...SMALL, ...o.config, ...o.configA, secret: secretA, mac: MAC_A, ipv4: `${ADDR_A}/24` }, BigInt(startUs), o.flavor ?? "release");
  const coreB = await StackCore.create({ ...SMALL, ...o.config, ...o.configB, secret: secretB, mac: MAC_B, ipv4: `${ADDR_B}/24` }, BigInt(startUs), o.flavor ?? "release");
  const a = new Node("A", coreA, ADDR_A);
  const b = new Node("B", coreB, ADDR_B);
  a.driver = new Driver(coreA, wire.a, clock, (type, handle, arg0, arg1) => a.dispatch({ type, handle, arg0, arg1 }), "manual");
  b.driver = new Driver(coreB, wire.b, clock, (type, handle, arg0, arg1) => b.dispatch({ type, handle, arg0, arg1 }), "manual");
  const pump = new Pump(clock, [a.driver, b.driver]);
  const pair: Pair = {
    a, b, clock, wire, pump,
    async run(until, what, maxMs = 600_000) {
      const r = await pump.run({ until, maxMs });
      if (r.reason !== "until") {
        throw new Error(`pair: "${what}" not reached (${r.reason} after ${r.rounds} rounds, ${r.elapsedMs} virtual ms; ${wire.describe()})`);
      }
      return r;
    },
    async advance(ms) {
      const end = clock.nowUs() + ms * 1000;
      await pump.run({ until: () => clock.nowUs() >= end, maxMs: ms + 1 });
      clock.setUs(end);
      for (const n of [a, b]) n.driver.step(end);
    },
    async close() {
      await a.driver.close();
      await b.driver.close();
    },
  };
  return pair;
}

/** Event type name (for messages). */
export function eventName(t: number): string {
  return ["?", "accepted", "connected", "readable", "writable", "peer-closed", "closed", "error"][t] ?? `type ${t}`;
}

export const EV = {
  ACCEPTED: ABI.EVENT_ACCEPTED, CONNECTED: ABI.EVENT_CONNECTED, READABLE: ABI.EVENT_READABLE,
  WRITABLE: ABI.EVENT_WRITABLE, PEER_CLOSED: ABI.EVENT_PEER_CLOSED, CLOSED: ABI.EVENT_CLOSED,
  ERROR: ABI.EVENT_ERROR,
} as const;

/** TCP states by name (assembly/tcp/state.ts). */
export const ST = {
  CLOSED: 0, LISTEN: 1, SYN_SENT: 2, SYN_RECEIVED: 3, ESTABLISHED: 4, FIN_WAIT_1: 5, FIN_WAIT_2: 6,
  CLOSE_WAIT: 7, CLOSING: 8, LAST_ACK: 9, TIME_WAIT: 10,
} as const;
