// Public entry of the host library.
export { instantiate, wasmBytes, ModuleAbortError } from "./loader.ts";
export type { CoreExports, ModuleFlavor } from "./loader.ts";
export { runtime } from "./runtime/index.ts";
