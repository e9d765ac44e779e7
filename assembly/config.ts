// Stack configuration: a block in the module's data segment, pre-filled with the
// defaults below, at the address the module exports (`configAddr()`). The host
// overwrites the fields it wants (always the secret, from its entropy source), then
// calls init(nowUs). init validates every field before carving anything.
//
//   Config block (CONFIG_SIZE = 80 bytes, little-endian u32 fields)
//   ┌──────────────────┬──────────────────┬──────────────────┬──────────────────┐
//   │ version          │ maxConnections   │ maxListeners     │ syncacheEntries  │  0
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ maxTimeWait      │ chunkCount       │ chunkSize        │ rxSlots          │ 16
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ txSlots          │ slotSize         │ eventRingSize    │ shards           │ 32
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ useTimerWheel    │ reserved         │ reserved         │ reserved         │ 48
//   ├──────────────────┴──────────────────┴──────────────────┴──────────────────┤
//   │ secret: 16 bytes (SipHash key; host entropy)                               │ 64
//   └────────────────────────────────────────────────────────────────────────────┘ 80
//
// Rules (init rejects a config that breaks one, with the code in brackets):
//   version == CONFIG_VERSION                                       [E_CONFIG_VERSION]
//   every count and size > 0                                        [E_CONFIG_ZERO]
//   shards a power of two in 1..256                                 [E_CONFIG_SHARDS]
//   rxSlots, txSlots, eventRingSize powers of two                   [E_CONFIG_NOT_POW2]
//   slotSize a multiple of 8 in 128..65536 (2048 default, ≥ 9016 for 9000-byte jumbo
//     frames)                                                       [E_CONFIG_SLOT_SIZE]
//   chunkSize a multiple of 8 in 64..32768                          [E_CONFIG_CHUNK_SIZE]
//   record counts within a 22-bit handle index (4 194 302)          [E_CONFIG_COUNT]
//   everything carved fits in wasm32 memory (4 GiB) with the
//     module's own data, and no single region exceeds 1 GiB        [E_CONFIG_TOO_LARGE]
//   memory.grow grants the pages                                    [E_OUT_OF_MEMORY]
// useTimerWheel: 1 = timer wheel V2, 0 = the V1 sorted list (the mission's flag).
// An all-zero secret is accepted (tests use fixed secrets); host/stack-core.ts always
// writes 16 bytes of host entropy.

export const CONFIG_VERSION: u32 = 1;
export const CONFIG_SIZE: u32 = 80;

export const CFG_VERSION: u32 = 0;
export const CFG_MAX_CONNECTIONS: u32 = 4;
export const CFG_MAX_LISTENERS: u32 = 8;
export const CFG_SYNCACHE_ENTRIES: u32 = 12;
export const CFG_MAX_TIME_WAIT: u32 = 16;
export const CFG_CHUNK_COUNT: u32 = 20;
export const CFG_CHUNK_SIZE: u32 = 24;
export const CFG_RX_SLOTS: u32 = 28;
export const CFG_TX_SLOTS: u32 = 32;
export const CFG_SLOT_SIZE: u32 = 36;
export const CFG_EVENT_RING_SIZE: u32 = 40;
export const CFG_SHARDS: u32 = 44;
export const CFG_USE_TIMER_WHEEL: u32 = 48;
export const CFG_SECRET: u32 = 64;
export const CFG_SECRET_SIZE: u32 = 16;

// Defaults: a small server (1 024 connections) that fits in a few MiB.
export const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
export const DEFAULT_MAX_LISTENERS: u32 = 64;
export const DEFAULT_SYNCACHE_ENTRIES: u32 = 256;
export const DEFAULT_MAX_TIME_WAIT: u32 = 1024;
export const DEFAULT_CHUNK_COUNT: u32 = 2048;
export const DEFAULT_CHUNK_SIZE: u32 = 2048;
export const DEFAULT_RX_SLOTS: u32 = 256;
export const DEFAULT_TX_SLOTS: u32 = 256;
export const DEFAULT_SLOT_SIZE: u32 = 2048;
export const DEFAULT_EVENT_RING_SIZE: u32 = 1024;
export const DEFAULT_SHARDS: u32 = 256;
export const DEFAULT_USE_TIMER_WHEEL: u32 = 1;

/** The config block (data segment, defaults in place at instantiation). */
export const CONFIG_BASE: usize = memory.data<u32>([
  CONFIG_VERSION, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_LISTENERS, DEFAULT_SYNCACHE_ENTRIES,
  DEFAULT_MAX_TIME_WAIT, DEFAULT_CHUNK_COUNT, DEFAULT_CHUNK_SIZE, DEFAULT_RX_SLOTS,
  DEFAULT_TX_SLOTS, DEFAULT_SLOT_SIZE, DEFAULT_EVENT_RING_SIZE, DEFAULT_SHARDS,
  DEFAULT_USE_TIMER_WHEEL, 0, 0, 0,
  0, 0, 0, 0,
], 16);

/** Writes the defaults into a config block at `p` (specs build their own blocks). */
export function configDefaults(p: usize): void {
  memory.fill(p, 0, CONFIG_SIZE);
  store<u32>(p + CFG_VERSION, CONFIG_VERSION);
  store<u32>(p + CFG_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS);
  store<u32>(p + CFG_MAX_LISTENERS, DEFAULT_MAX_LISTENERS);
  store<u32>(p + CFG_SYNCACHE_ENTRIES, DEFAULT_SYNCACHE_ENTRIES);
  store<u32>(p + CFG_MAX_TIME_WAIT, DEFAULT_MAX_TIME_WAIT);
  store<u32>(p + CFG_CHUNK_COUNT, DEFAULT_CHUNK_COUNT);
  store<u32>(p + CFG_CHUNK_SIZE, DEFAULT_CHUNK_SIZE);
  store<u32>(p + CFG_RX_SLOTS, DEFAULT_RX_SLOTS);
  store<u32>(p + CFG_TX_SLOTS, DEFAULT_TX_SLOTS);
  store<u32>(p + CFG_SLOT_SIZE, DEFAULT_SLOT_SIZE);
  store<u32>(p + CFG_EVENT_RING_SIZE, DEFAULT_EVENT_RING_SIZE);
  store<u32>(p + CFG_SHARDS, DEFAULT_SHARDS);
  store<u32>(p + CFG_USE_TIMER_WHEEL, DEFAULT_USE_TIMER_WHEEL);
}

/** Reads field `off` (a CFG_* offset) of the block at `p`. */
@inline
export function cfg(p: usize, off: u32): u32 {
  return load<u32>(p + off);
}
