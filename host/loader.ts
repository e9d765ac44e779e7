// Compiles and instantiates the core module (build/ustack.wasm) with
// @assemblyscript/loader, under Node (from build/host/) or Deno (from host/).

import * as loader from "@assemblyscript/loader";
import { runtime } from "./runtime/index.ts";

export type ModuleFlavor = "release" | "debug" | "bench";
const FILES: Record<ModuleFlavor, string> = {
  release: "ustack.wasm",
  debug: "ustack.debug.wasm",
  bench: "bench.wasm",
};

/** Where the built module lies: build/ next to the sources, or the parent of build/host/. */
export async function wasmBytes(flavor: ModuleFlavor = "release"): Promise<Uint8Array> {
  const name = FILES[flavor];
  const candidates = [new URL(`../${name}`, import.meta.url), new URL(`../build/${name}`, import.meta.url)];
  for (const url of candidates) {
    try {
      return await runtime.readFile(url);
    } catch {
      // try the next place
    }
  }
  throw Object.assign(new Error(`ustack: ${name} not found; run "npm run build"`), { code: "ENOENT" });
}

export class ModuleAbortError extends Error {
  code = "ERR_USTACK_ABORT";
}

// deno-lint-ignore no-explicit-any
export type CoreExports = Record<string, any> & { memory: WebAssembly.Memory };

/** Instantiates a fresh module. An AS abort (a bug, never bad input) throws ModuleAbortError. */
export async function instantiate(flavor: ModuleFlavor = "release"): Promise<{ exports: CoreExports }> {
  return { exports: await instantiateBytes(await wasmBytes(flavor)) };
}

/** Instantiates the given module bytes (e.g. another build) with the core's imports. */
export async function instantiateBytes(bytes: Uint8Array): Promise<CoreExports> {
  let mem: WebAssembly.Memory | null = null;
  const readStr = (ptr: number): string => {
    if (!mem || ptr === 0) return "";
    const u32 = new Uint32Array(mem.buffer);
    const len = u32[(ptr - 4) >>> 2] >>> 1;
    return String.fromCharCode(...new Uint16Array(mem.buffer, ptr, len));
  };
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        throw new ModuleAbortError(`ustack core abort: ${readStr(msg)} at ${readStr(file)}:${line}:${col}`);
      },
      seed: () => Date.now(),
    },
  };
  const { exports } = await loader.instantiate(bytes, imports);
  mem = (exports as unknown as CoreExports).memory;
  return exports as unknown as CoreExports;
}
