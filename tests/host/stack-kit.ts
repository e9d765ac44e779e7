// Shared set-up for the stack, net, http and interop tests: which core module to
// load, whether it has the TCP/interface exports, and two stacks on a memory pair
// driven by a Pump on a VirtualClock (deterministic; the seed is printed).
//
// USTACK_WASM=path/to/module.wasm runs the tests against another build of the core
// (for example while the integration is developed); the default is build/ustack.wasm.

import { readFileSync } from "node:fs";
import { instantiate } from "../../host/loader.ts";
import { Stack, pumpStacks, STACK_EXPORTS, type StackOptions } from "../../host/stack.ts";
import { TCP_EXPORTS, missingExports } from "../../host/net/core.ts";
import { createMemoryPair, type FaultOptions, type MemoryPair } from "../../host/link/memory.ts";
import { VirtualClock, type Clock } from "../../host/link/clock.ts";
import type { Pump } from "../../host/driver.ts";

let wasmCache: Uint8Array | undefined | null = null;

/** Module bytes from USTACK_WASM, or undefined for the default build. */
export function coreWasm(): Uint8Array | undefined {
  if (wasmCache === null) {
    const p = process.env.USTACK_WASM;
    wasmCache = p ? new Uint8Array(readFileSync(p)) : undefined;
  }
  return wasmCache;
}

let skipCache: string | false | null = null;

/**
 * Why stack tests cannot run (the core lacks exports they need), or false. Tests
 * pass this to node:test's `skip` so the reason is printed.
 */
export async function coreSkipReason(): Promise<string | false> {
  if (skipCache !== null) return skipCache;
  const w = coreWasm();
  let exports: Record<string, unknown>;
  if (w) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(w as Uint8Array<ArrayBuffer>), { env: { abort: () => { throw new Error("abort"); }, seed: () => 0 } });
    exports = instance.exports as Record<string, unknown>;
  } else {
    exports = (await instantiate("release")).exports;
  }
  const missing = missingExports(exports as never, [...STACK_EXPORTS, ...TCP_EXPORTS]);
  skipCache = missing.length
    ? `the core module does not export ${missing.join(", ")} yet (TCP/interface integration in assembly/index.ts pending); set USTACK_WASM to a module that does`
    : false;
  return skipCache;
}

export const ADDR_A = "198.18.0.1";
export const ADDR_B = "198.18.0.2";

export interface Duo {
  a: Stack;
  b: Stack;
  pair: MemoryPair;
  clock: VirtualClock;
  pump: Pump;
  close(): Promise<void>;
}

/** Two stacks (198.18.0.1 and .2 /24) on one memory pair, pumped on virtual time. */
export async function duo(options: { seed?: number; faults?: FaultOptions; a?: Partial<StackOptions>; b?: Partial<StackOptions> } = {}): Promise<Duo> {
  const clock = new VirtualClock(1_000_000);
  const seed = options.seed ?? 1;
  const pair = createMemoryPair({ clock, seed, faults: options.faults });
  if (options.faults) console.log(`# ${pair.describe()}`);
  const wasm = coreWasm();
  const a = await Stack.create({ link: pair.a, ipv4: `${ADDR_A}/24`, clock, wasm, ...options.a });
  const b = await Stack.create({ link: pair.b, ipv4: `${ADDR_B}/24`, clock, wasm, ...options.b });
  const pump = pumpStacks(clock, a, b);
  return { a, b, pair, clock, pump, close: async () => { await a.close(); await b.close(); } };
}

/** A stack in loop mode on a real clock (one end of a memory pair whose clock is real). */
export async function realStack(link: StackOptions["link"], ipv4: string, extra: Partial<StackOptions> = {}, clock?: Clock): Promise<Stack> {
  return Stack.create({ link, ipv4, wasm: coreWasm(), ...(clock ? { clock } : {}), ...extra });
}

/** Deterministic test bytes: a simple LCG stream from `seed`. */
export function pattern(len: number, seed = 1): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
