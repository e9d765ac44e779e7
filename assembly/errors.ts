// Result codes shared with the host (mirrored in host/abi.ts).
//
// Fallible functions return an i32: 0 = OK, a positive code = the reason it failed.
// Functions that return a reference on success use "> 0 = reference, < 0 = -code".
// The module never throws; an AS abort is a bug.
//
// Ranges (each owner defines its codes in its own file, inside its range):
//     0        OK
//     1 –  99  general, memory, configuration, table (this file), except the
//              blocks below that live beside the code that returns them:
//        45    E_ADDR_NOT_AVAILABLE        assembly/glue/api.ts (command ABI)
//     50 – 62  E_CONFIG_MAC … E_CONFIG_BUDGET  assembly/config.ts (interface and TCP
//              fields of the config block); 63 – 69 reserved for more of them
//   100 – 199  interface: Ethernet / ARP / IPv4 / ICMP (assembly/iface/errors.ts)
//   200 – 299  TCP (assembly/tcp/codes.ts)
// Values never change meaning once published. Every code is mirrored in host/abi.ts
// ERRORS and mapped to a Node-style error code in host/errors.ts (tests/host/errors.test.ts
// lists them all and fails on a code without a mapping).

export const OK: i32 = 0;

// --- handles -----------------------------------------------------------------
/** Handle 0, an index beyond the slab, or a slot that is not in use. */
export const E_INVALID_HANDLE: i32 = 1;
/** The handle's generation is older than the slot's: the slot was recycled. */
export const E_STALE_HANDLE: i32 = 2;

// --- lifecycle ---------------------------------------------------------------
/** An entry point that needs init() was called before it. */
export const E_NOT_INITIALIZED: i32 = 3;
/** init() was called twice (memory is carved once per instance). */
export const E_ALREADY_INITIALIZED: i32 = 4;

// --- configuration (init rejects before carving anything) ---------------------
/** A size in the configuration is zero. */
export const E_CONFIG_ZERO: i32 = 10;
/** The configuration needs more memory than wasm32 linear memory can hold (4 GiB). */
export const E_CONFIG_TOO_LARGE: i32 = 11;
/** `shards` is not a power of two in 1..256. */
export const E_CONFIG_SHARDS: i32 = 12;
/** A ring slot count or the event ring size is not a power of two. */
export const E_CONFIG_NOT_POW2: i32 = 13;
/** `slotSize` is below the minimum frame slot (60-byte frame + header) or above 65536. */
export const E_CONFIG_SLOT_SIZE: i32 = 14;
/** `chunkSize` is below 64 bytes, above 65536 or not a multiple of 8. */
export const E_CONFIG_CHUNK_SIZE: i32 = 15;
/** A count is above what a 22-bit handle index can address (MAX_SLAB_RECORDS). */
export const E_CONFIG_COUNT: i32 = 16;
/** The config block's magic/version word is not the one this module understands. */
export const E_CONFIG_VERSION: i32 = 17;
/** memory.grow refused the pages the configuration needs (the embedder's limit). */
export const E_OUT_OF_MEMORY: i32 = 18;

// --- exhaustion (each also increments its counter in mem/stats.ts) ------------
export const E_ENDPOINTS_EXHAUSTED: i32 = 20;
export const E_LISTENERS_EXHAUSTED: i32 = 21;
export const E_SYNCACHE_EXHAUSTED: i32 = 22;
export const E_TIMEWAIT_EXHAUSTED: i32 = 23;
export const E_CHUNKS_EXHAUSTED: i32 = 24;
export const E_TABLE_EXHAUSTED: i32 = 25;
export const E_RX_RING_FULL: i32 = 26;
export const E_TX_RING_FULL: i32 = 27;
export const E_EVENT_RING_FULL: i32 = 28;

// --- table / bind --------------------------------------------------------------
/** Bind conflict: the (address, port) is taken (Node: EADDRINUSE). */
export const E_ADDR_IN_USE: i32 = 30;
/** Insert of a 4-tuple (or listener) that is already in the table. */
export const E_EXISTS: i32 = 31;
/** Remove/lookup of something that is not in the table. */
export const E_NOT_FOUND: i32 = 32;

// --- arguments ---------------------------------------------------------------
/** A length or offset argument is out of range (never read past a buffer). */
export const E_BAD_LENGTH: i32 = 40;
/** An argument is out of its domain (unknown type tag, port 0 where not allowed, ...). */
export const E_BAD_ARGUMENT: i32 = 41;
// 45 is taken: E_ADDR_NOT_AVAILABLE (assembly/glue/api.ts), a local address that is
// not the interface's (Node: EADDRNOTAVAIL).

// --- configuration of the interface and TCP: 50–63 in assembly/config.ts ----------
// (E_CONFIG_MAC 50, _ADDR 51, _PREFIX 52, _GATEWAY 53, _MTU 54, _ARP 55, _REASM 56,
//  _TCP_TIMER 57, _TCP_RETRIES 58, _BUFFER 59, _PORTS 60, _IO_BUFFER 61, _BUDGET 62,
//  _CC 63; 64–69 reserved for further config rules). Do not define codes in 45 or 50–69 here.

// --- last error (errno style) ------------------------------------------------
// Functions that return a handle return 0 on failure and leave the reason here.
let lastErrorCode: i32 = OK;

/** The reason of the most recent failed handle-returning call. */
export function lastError(): i32 {
  return lastErrorCode;
}

@inline
export function setLastError(code: i32): void {
  lastErrorCode = code;
}
