// Benchmark harness module (build/bench.wasm): the core's sources with loop
// drivers exported, built with the release flags. One re-export line per area.
export * from "./wheel";
export * from "./table";
export * from "./iface";
