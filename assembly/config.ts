// Stack configuration: a block in the module's data segment, pre-filled with the
// defaults below, at the address the module exports (`configAddr()`). The host
// overwrites the fields it wants (always the secret, from its entropy source), then
// calls init(nowUs). init validates every field before carving anything.
//
//   Config block (CONFIG_SIZE = 192 bytes, little-endian u32 fields)
//   ┌──────────────────┬──────────────────┬──────────────────┬──────────────────┐
//   │ version          │ maxConnections   │ maxListeners     │ syncacheEntries  │   0
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ maxTimeWait      │ chunkCount       │ chunkSize        │ rxSlots          │  16
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ txSlots          │ slotSize         │ eventRingSize    │ shards           │  32
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ useTimerWheel    │ ioBufSize        │ rxBudget         │ reserved         │  48
//   ├──────────────────┴──────────────────┴──────────────────┴──────────────────┤
//   │ secret: 16 bytes (SipHash key; host entropy)                               │  64
//   ├──────────────────┬──────────────────┬──────────────────┬──────────────────┤
//   │ macLo            │ macHi            │ ipv4Addr         │ prefixLen        │  80  interface
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ gateway          │ mtu              │ arpEntries       │ arpPending       │  96
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ reasmSlots       │ reasmMaxBytes    │ timeWaitMs       │ sndBuf           │ 112  TCP
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ rcvBuf           │ rtoMinMs         │ rtoMaxMs         │ maxRetries       │ 128
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ synRetries       │ synAckRetries    │ delAckMs         │ keepIdleMs       │ 144
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ keepIntvlMs      │ keepCount        │ synCacheMax      │ ephemeralLow     │ 160
//   ├──────────────────┼──────────────────┼──────────────────┼──────────────────┤
//   │ ephemeralHigh    │ challengeAckLimit│ congestionControl│ reserved         │ 176
//   └──────────────────┴──────────────────┴──────────────────┴──────────────────┘ 192
//
//   MAC = macHi (its low 16 bits) << 32 | macLo: 02:00:00:00:00:0a is macHi 0x0200,
//   macLo 0x0000000a. Addresses are numeric (10.0.0.1 = 0x0a000001).
//   ipv4Addr 0 = no interface: init carves everything else, TCP is wired, and RX
//   frames are consumed and counted (rxNoHandler); the host configures an address
//   whenever it attaches a link.
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
// Interface and TCP fields (checked by glue/init.ts before anything is carved):
//   with ipv4Addr ≠ 0: MAC unicast, not zero, ≤ 48 bits            [E_CONFIG_MAC]
//     ipv4Addr unicast (not broadcast/multicast/127/8, not the
//     network or broadcast address of its prefix)                 [E_CONFIG_ADDR]
//     prefixLen 1..32                                               [E_CONFIG_PREFIX]
//     gateway 0 or on the prefix and not ipv4Addr                  [E_CONFIG_GATEWAY]
//     mtu 576..65535 (RFC 1122 §3.3.3 minimum reassembly size), and
//       an MTU-sized frame fits a ring slot (mtu + 14 + 16 ≤ slotSize) [E_CONFIG_MTU]
//     arpEntries 1..65536, arpPending ≤ 65536                        [E_CONFIG_ARP]
//     reasmSlots ≤ 1024, reasmMaxBytes 8..65515 when slots > 0     [E_CONFIG_REASM]
//   rtoMinMs 1..rtoMaxMs, rtoMaxMs ≤ 3 600 000, delAckMs 1..499
//     (RFC 1122 §4.2.3.2), keepIdleMs/keepIntvlMs ≥ 1, timeWaitMs ≥ 1  [E_CONFIG_TCP_TIMER]
//   maxRetries, synRetries, synAckRetries, keepCount 1..255          [E_CONFIG_TCP_RETRIES]
//   sndBuf, rcvBuf 1..2^30 (RFC 7323 §2.3: window scale 14), and no
//     more chunks than a receive queue can count (rcvBuf ≤ 65534·chunkSize)
//                                                                   [E_CONFIG_BUFFER]
//   1 ≤ ephemeralLow ≤ ephemeralHigh ≤ 65535                         [E_CONFIG_PORTS]
//   ioBufSize 1..16 MiB                                              [E_CONFIG_IO_BUFFER]
//   rxBudget ≥ 1 (frames one tick takes from the RX ring)            [E_CONFIG_BUDGET]
//   synCacheMax ≥ 1                                                  [E_CONFIG_ZERO]
//   challengeAckLimit: any (0 sends no challenge ACKs)
//   congestionControl 0 = CUBIC (RFC 9438, default), 1 = NewReno     [E_CONFIG_CC]
// useTimerWheel: 1 = timer wheel V2, 0 = the V1 sorted list (the mission's flag).
// An all-zero secret is accepted (tests use fixed secrets); host/stack-core.ts always
// writes 16 bytes of host entropy.

export const CONFIG_VERSION: u32 = 1;
export const CONFIG_SIZE: u32 = 192;

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
export const CFG_IO_BUF_SIZE: u32 = 52;
export const CFG_RX_BUDGET: u32 = 56;
export const CFG_SECRET: u32 = 64;
export const CFG_SECRET_SIZE: u32 = 16;
// interface
export const CFG_MAC_LO: u32 = 80;
export const CFG_MAC_HI: u32 = 84;
export const CFG_IPV4_ADDR: u32 = 88;
export const CFG_PREFIX_LEN: u32 = 92;
export const CFG_GATEWAY: u32 = 96;
export const CFG_MTU: u32 = 100;
export const CFG_ARP_ENTRIES: u32 = 104;
export const CFG_ARP_PENDING: u32 = 108;
export const CFG_REASM_SLOTS: u32 = 112;
export const CFG_REASM_MAX_BYTES: u32 = 116;
// TCP (tcp/config.ts)
export const CFG_TIME_WAIT_MS: u32 = 120;
export const CFG_SND_BUF: u32 = 124;
export const CFG_RCV_BUF: u32 = 128;
export const CFG_RTO_MIN_MS: u32 = 132;
export const CFG_RTO_MAX_MS: u32 = 136;
export const CFG_MAX_RETRIES: u32 = 140;
export const CFG_SYN_RETRIES: u32 = 144;
export const CFG_SYNACK_RETRIES: u32 = 148;
export const CFG_DELACK_MS: u32 = 152;
export const CFG_KEEP_IDLE_MS: u32 = 156;
export const CFG_KEEP_INTVL_MS: u32 = 160;
export const CFG_KEEP_COUNT: u32 = 164;
export const CFG_SYNCACHE_MAX: u32 = 168;
export const CFG_EPHEMERAL_LOW: u32 = 172;
export const CFG_EPHEMERAL_HIGH: u32 = 176;
export const CFG_CHALLENGE_ACK_LIMIT: u32 = 180;
export const CFG_CONGESTION_CONTROL: u32 = 184;

// Result codes of the interface and TCP fields (assembly/errors.ts range 1–99;
// these live here, beside the rules they report; mirrored in host/abi.ts ERRORS).
/** ipv4Addr set but the MAC is zero, a group address or wider than 48 bits. */
export const E_CONFIG_MAC: i32 = 50;
/** ipv4Addr is not a usable unicast address for its prefix. */
export const E_CONFIG_ADDR: i32 = 51;
/** prefixLen outside 1..32. */
export const E_CONFIG_PREFIX: i32 = 52;
/** gateway off the prefix, or equal to our address. */
export const E_CONFIG_GATEWAY: i32 = 53;
/** mtu outside 576..65535, or an MTU-sized frame does not fit a ring slot. */
export const E_CONFIG_MTU: i32 = 54;
/** ARP cache or pending-queue size out of range. */
export const E_CONFIG_ARP: i32 = 55;
/** Reassembly slots or size out of range. */
export const E_CONFIG_REASM: i32 = 56;
/** A TCP duration out of range (RTO bounds, delayed ACK, keepalive, TIME-WAIT). */
export const E_CONFIG_TCP_TIMER: i32 = 57;
/** A TCP retry or probe count outside 1..255. */
export const E_CONFIG_TCP_RETRIES: i32 = 58;
/** A default buffer size outside 1..2^30 or beyond what a receive queue can count. */
export const E_CONFIG_BUFFER: i32 = 59;
/** The ephemeral port range is empty or includes port 0. */
export const E_CONFIG_PORTS: i32 = 60;
/** ioBufSize outside 1..16 MiB. */
export const E_CONFIG_IO_BUFFER: i32 = 61;
/** rxBudget is 0. */
export const E_CONFIG_BUDGET: i32 = 62;
/** congestionControl is neither 0 (CUBIC) nor 1 (NewReno). */
export const E_CONFIG_CC: i32 = 63;

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
export const DEFAULT_IO_BUF_SIZE: u32 = 65536;
export const DEFAULT_RX_BUDGET: u32 = 256;
export const DEFAULT_PREFIX_LEN: u32 = 24;
export const DEFAULT_MTU: u32 = 1500;
export const DEFAULT_ARP_ENTRIES: u32 = 64;
export const DEFAULT_ARP_PENDING: u32 = 64;
export const DEFAULT_REASM_SLOTS: u32 = 4;
export const DEFAULT_REASM_MAX_BYTES: u32 = 65515;
// TCP defaults: the values of tcp/config.ts (Linux-like; see the comments there).
export const DEFAULT_TIME_WAIT_MS: u32 = 60000;
export const DEFAULT_SND_BUF: u32 = 65536;
export const DEFAULT_RCV_BUF: u32 = 65536;
export const DEFAULT_RTO_MIN_MS: u32 = 200;
export const DEFAULT_RTO_MAX_MS: u32 = 120000;
export const DEFAULT_MAX_RETRIES: u32 = 15;
export const DEFAULT_SYN_RETRIES: u32 = 6;
export const DEFAULT_SYNACK_RETRIES: u32 = 5;
export const DEFAULT_DELACK_MS: u32 = 40;
export const DEFAULT_KEEP_IDLE_MS: u32 = 7200000;
export const DEFAULT_KEEP_INTVL_MS: u32 = 75000;
export const DEFAULT_KEEP_COUNT: u32 = 9;
export const DEFAULT_SYNCACHE_MAX: u32 = 256;
export const DEFAULT_EPHEMERAL_LOW: u32 = 49152;
export const DEFAULT_EPHEMERAL_HIGH: u32 = 65535;
export const DEFAULT_CHALLENGE_ACK_LIMIT: u32 = 1000;

/** The config block (data segment, defaults in place at instantiation). */
export const CONFIG_BASE: usize = memory.data<u32>([
  CONFIG_VERSION, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_LISTENERS, DEFAULT_SYNCACHE_ENTRIES,
  DEFAULT_MAX_TIME_WAIT, DEFAULT_CHUNK_COUNT, DEFAULT_CHUNK_SIZE, DEFAULT_RX_SLOTS,
  DEFAULT_TX_SLOTS, DEFAULT_SLOT_SIZE, DEFAULT_EVENT_RING_SIZE, DEFAULT_SHARDS,
  DEFAULT_USE_TIMER_WHEEL, DEFAULT_IO_BUF_SIZE, DEFAULT_RX_BUDGET, 0,
  0, 0, 0, 0, // secret
  0, 0, 0, DEFAULT_PREFIX_LEN, // macLo, macHi, ipv4Addr (0 = no interface), prefixLen
  0, DEFAULT_MTU, DEFAULT_ARP_ENTRIES, DEFAULT_ARP_PENDING,
  DEFAULT_REASM_SLOTS, DEFAULT_REASM_MAX_BYTES, DEFAULT_TIME_WAIT_MS, DEFAULT_SND_BUF,
  DEFAULT_RCV_BUF, DEFAULT_RTO_MIN_MS, DEFAULT_RTO_MAX_MS, DEFAULT_MAX_RETRIES,
  DEFAULT_SYN_RETRIES, DEFAULT_SYNACK_RETRIES, DEFAULT_DELACK_MS, DEFAULT_KEEP_IDLE_MS,
  DEFAULT_KEEP_INTVL_MS, DEFAULT_KEEP_COUNT, DEFAULT_SYNCACHE_MAX, DEFAULT_EPHEMERAL_LOW,
  DEFAULT_EPHEMERAL_HIGH, DEFAULT_CHALLENGE_ACK_LIMIT, 0, 0,
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
  store<u32>(p + CFG_IO_BUF_SIZE, DEFAULT_IO_BUF_SIZE);
  store<u32>(p + CFG_RX_BUDGET, DEFAULT_RX_BUDGET);
  store<u32>(p + CFG_PREFIX_LEN, DEFAULT_PREFIX_LEN);
  store<u32>(p + CFG_MTU, DEFAULT_MTU);
  store<u32>(p + CFG_ARP_ENTRIES, DEFAULT_ARP_ENTRIES);
  store<u32>(p + CFG_ARP_PENDING, DEFAULT_ARP_PENDING);
  store<u32>(p + CFG_REASM_SLOTS, DEFAULT_REASM_SLOTS);
  store<u32>(p + CFG_REASM_MAX_BYTES, DEFAULT_REASM_MAX_BYTES);
  store<u32>(p + CFG_TIME_WAIT_MS, DEFAULT_TIME_WAIT_MS);
  store<u32>(p + CFG_SND_BUF, DEFAULT_SND_BUF);
  store<u32>(p + CFG_RCV_BUF, DEFAULT_RCV_BUF);
  store<u32>(p + CFG_RTO_MIN_MS, DEFAULT_RTO_MIN_MS);
  store<u32>(p + CFG_RTO_MAX_MS, DEFAULT_RTO_MAX_MS);
  store<u32>(p + CFG_MAX_RETRIES, DEFAULT_MAX_RETRIES);
  store<u32>(p + CFG_SYN_RETRIES, DEFAULT_SYN_RETRIES);
  store<u32>(p + CFG_SYNACK_RETRIES, DEFAULT_SYNACK_RETRIES);
  store<u32>(p + CFG_DELACK_MS, DEFAULT_DELACK_MS);
  store<u32>(p + CFG_KEEP_IDLE_MS, DEFAULT_KEEP_IDLE_MS);
  store<u32>(p + CFG_KEEP_INTVL_MS, DEFAULT_KEEP_INTVL_MS);
  store<u32>(p + CFG_KEEP_COUNT, DEFAULT_KEEP_COUNT);
  store<u32>(p + CFG_SYNCACHE_MAX, DEFAULT_SYNCACHE_MAX);
  store<u32>(p + CFG_EPHEMERAL_LOW, DEFAULT_EPHEMERAL_LOW);
  store<u32>(p + CFG_EPHEMERAL_HIGH, DEFAULT_EPHEMERAL_HIGH);
  store<u32>(p + CFG_CHALLENGE_ACK_LIMIT, DEFAULT_CHALLENGE_ACK_LIMIT);
  store<u32>(p + CFG_CONGESTION_CONTROL, 0); // CUBIC
}

/** Reads field `off` (a CFG_* offset) of the block at `p`. */
@inline
export function cfg(p: usize, off: u32): u32 {
  return load<u32>(p + off);
}
