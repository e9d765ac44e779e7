// The runtime seam: the only place that knows whether we run under Node or Deno.
// Everything else in host/ calls these functions. FFI (TAP, AF_PACKET) joins this
// seam with the link drivers.

export interface Runtime {
  readonly name: "node" | "deno";
  /** Reads a whole file given as a file: URL. */
  readFile(url: URL): Promise<Uint8Array>;
  /** Monotonic clock in microseconds (host time only enters the module via tick). */
  nowUs(): number;
  /** Cryptographic entropy (the connection-table and ISN secrets). */
  randomBytes(n: number): Uint8Array;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

export const runtime: Runtime = g.Deno
  ? {
      name: "deno",
      readFile: (url) => g.Deno.readFile(url),
      nowUs: () => performance.now() * 1000,
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    }
  : {
      name: "node",
      readFile: async (url) => {
        const fs = await import("node:fs/promises");
        return new Uint8Array(await fs.readFile(url));
      },
      nowUs: () => performance.now() * 1000,
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    };
