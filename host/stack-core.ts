// A thin typed wrapper over the core module's exports: configure, init, tick, and
// the shared-memory views (rings, counters, memory accounting). The tick loop and
// the net-like API build on this.

import { instantiate, type CoreExports, type ModuleFlavor } from "./loader.ts";
import { runtime } from "./runtime/index.ts";
import { ABI, ERRORS, RingView, writeConfig, readCounters, readMemstats, type StackConfig } from "./abi.ts";

export class StackInitError extends Error {
  constructor(readonly code: number) {
    const name = Object.entries(ERRORS).find(([, v]) => v === code)?.[0] ?? `code ${code}`;
    super(`ustack: init failed: ${name}`);
  }
}

export class StackCore {
  readonly rx: RingView;
  readonly tx: RingView;
  readonly events: RingView;
  readonly abiBase: number;

  private constructor(readonly exports: CoreExports) {
    this.abiBase = exports.abiBase() >>> 0;
    const m = exports.memory;
    this.rx = new RingView(m, this.abiBase + ABI.ABI_RX_RING_OFF);
    this.tx = new RingView(m, this.abiBase + ABI.ABI_TX_RING_OFF);
    this.events = new RingView(m, this.abiBase + ABI.ABI_EVENT_RING_OFF);
  }

  /** Instantiates a module, writes `config` (secret from host entropy unless given) and runs init. */
  static async create(config: StackConfig = {}, nowUs: bigint = 0n, flavor: ModuleFlavor = "release"): Promise<StackCore> {
    const { exports } = await instantiate(flavor);
    return StackCore.init(exports, config, nowUs);
  }

  /** Configures and initializes an already instantiated module. Throws StackInitError on a rejected config. */
  static init(exports: CoreExports, config: StackConfig, nowUs: bigint): StackCore {
    writeConfig(exports.memory, exports.configAddr() >>> 0, config, runtime.randomBytes);
    const rc = exports.init(nowUs);
    if (rc !== 0) throw new StackInitError(rc);
    return new StackCore(exports);
  }

  get memory(): WebAssembly.Memory { return this.exports.memory; }

  /** One tick; returns ms until the next timer work, or -1. */
  tick(nowUs: bigint): number { return Number(this.exports.tick(nowUs)); }

  counters(): Record<string, bigint> { return readCounters(this.memory, this.abiBase); }
  memoryStats(): Record<string, number> { return readMemstats(this.memory, this.abiBase); }
}
