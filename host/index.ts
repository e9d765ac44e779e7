// Public entry of the host library.
export { instantiate, instantiateBytes, wasmBytes, ModuleAbortError } from "./loader.ts";
export type { CoreExports, ModuleFlavor } from "./loader.ts";
export { runtime } from "./runtime/index.ts";

// Links (host/link/): the devices the tick loop moves frames through.
export { createMemoryPair, MemoryLink } from "./link/memory.ts";
export type { MemoryPairOptions, MemoryPair } from "./link/memory.ts";
export { Prng, FaultQueue, checkFaults } from "./link/faults.ts";
export type { FaultOptions, DirectionStats, CheckedFaults } from "./link/faults.ts";
export { ImpairLink } from "./link/impair.ts";
export type { ImpairOptions, ImpairStats } from "./link/impair.ts";
export { TapLink } from "./link/tap.ts";
export type { TapOptions } from "./link/tap.ts";
export { PacketLink } from "./link/packet.ts";
export type { PacketOptions } from "./link/packet.ts";
export { PcapLink, MemoryPcapSink, pcapFileSink, readPcap } from "./link/pcap.ts";
export type { PcapOptions, PcapSink, PcapRecord } from "./link/pcap.ts";
export { realClock, VirtualClock } from "./link/clock.ts";
export type { Clock } from "./link/clock.ts";
export { parseMac, formatMac, localMac } from "./link/link.ts";
export type { Link, LinkStats } from "./link/link.ts";
export { createTapNamespace, createVethNamespace, netnsDelete, checkTestCidr } from "./netns.ts";
export type { TestNamespace, TapNamespaceOptions, VethNamespaceOptions } from "./netns.ts";

// The core's ABI mirror and typed wrapper (config, init, tick, rings, counters).
export { StackCore, StackInitError } from "./stack-core.ts";
export * as abi from "./abi.ts";

// The stack: tick loop, Stack, node:net-compatible API, Node-style errors.
export { Stack, pumpStacks, checkStackOptions } from "./stack.ts";
export type { StackOptions, StackStats } from "./stack.ts";
export { Driver, Pump } from "./driver.ts";
export type { DriverStats, DriverMode, PumpOptions, PumpResult } from "./driver.ts";
export { Socket, Server } from "./net/index.ts";
export type { Net, SocketConnectOptions, SocketConstructorOptions, ServerOptions } from "./net/index.ts";
export { systemError, errorCodeName } from "./errors.ts";
export type { UstackError } from "./errors.ts";
