// The host-shared region: one static block in the module's data segment whose
// address the host reads once (export `abiBase()`), plus the ring storage carved at
// init whose addresses sit in the ring headers inside it. Every offset below is
// exported as a constant by index.ts and mirrored in host/abi.ts; a host test checks
// that both sides agree (tests/host/abi.test.ts).
//
//   ABI block (ABI_BLOCK_SIZE bytes, 16-byte aligned, at abiBase())
//   ┌──────────────────────────────────────────────────────────────────┐ 0
//   │ magic u32 = ABI_MAGIC ("USTK")  │ version u32 = ABI_VERSION       │
//   │ state u32 (0 fresh, 1 running)  │ initError i32 (last init code)  │ 16
//   ├──────────────────────────────────────────────────────────────────┤
//   │ RX frame ring header   (RING_HDR_SIZE = 32)                       │ 16
//   │ TX frame ring header   (32)                                       │ 48
//   │ event ring header      (32)                                       │ 80
//   ├──────────────────────────────────────────────────────────────────┤ 112
//   │ counters: COUNTER_COUNT × u64 (names: mem/stats.ts, host/abi.ts)  │
//   ├──────────────────────────────────────────────────────────────────┤ 112 + 8·C
//   │ memory accounting: MEMSTAT_COUNT × u64 (bytes; mem/stats.ts)      │
//   └──────────────────────────────────────────────────────────────────┘ ABI_BLOCK_SIZE
//
//   Ring header (RING_HDR_SIZE = 32 bytes)
//   ┌────────┬────────┬────────┬──────────┬────────┬────────┬─────────┬──────────┐
//   │ head   │ tail   │ slots  │ slotSize │ base   │ mask   │ dropped │ reserved │
//   │ u32    │ u32    │ u32    │ u32      │ u32    │ u32    │ u32     │ u32      │
//   └────────┴────────┴────────┴──────────┴────────┴────────┴─────────┴──────────┘
//   0        4        8        12         16       20       24        28         32
//   head  = producer's running count (wraps mod 2^32); only the producer writes it.
//   tail  = consumer's running count; only the consumer writes it.
//   used  = head - tail (u32 arithmetic) ∈ [0, slots]; slot i is at base + (i & mask)·slotSize.
//   dropped = items the producer could not enqueue because the ring was full.
//   RX ring: producer = host, consumer = module.  TX and event rings: producer = module.
//
//   Frame slot (RX and TX rings; slotSize bytes, default 2048, 9000+ for jumbo frames)
//   ┌────────┬────────┬──────────────────┬─────────────────────────────────────┐
//   │ len    │ flags  │ timeUs (u64)     │ frame bytes (slotSize − 16)         │
//   └────────┴────────┴──────────────────┴─────────────────────────────────────┘
//   0        4        8                  16                                    slotSize
//   RX: the host writes the frame, its length and its receive time in µs, then head.
//   TX: the module writes the frame and its length; timeUs = the tick's nowUs.
//
//   Event record (EVENT_SIZE = 16 bytes; types in mem/events.ts)
//   ┌────────┬────────┬──────────┬──────────┬──────────┐
//   │ type   │ flags  │ handle   │ arg0     │ arg1     │
//   │ u16    │ u16    │ u32      │ u32      │ u32      │
//   └────────┴────────┴──────────┴──────────┴──────────┘
//   0        2        4          8          12         16

export const ABI_MAGIC: u32 = 0x4b545355; // "USTK" read as little-endian bytes
export const ABI_VERSION: u32 = 1;

export const ABI_MAGIC_OFF: u32 = 0;
export const ABI_VERSION_OFF: u32 = 4;
export const ABI_STATE_OFF: u32 = 8;
export const ABI_INIT_ERROR_OFF: u32 = 12;
export const ABI_RX_RING_OFF: u32 = 16;
export const ABI_TX_RING_OFF: u32 = 48;
export const ABI_EVENT_RING_OFF: u32 = 80;
export const ABI_COUNTERS_OFF: u32 = 112;
/** Number of u64 counters in the block (mem/stats.ts names them). */
export const COUNTER_COUNT: u32 = 32;
export const ABI_MEMSTATS_OFF: u32 = ABI_COUNTERS_OFF + COUNTER_COUNT * 8;
/** Number of u64 memory-accounting words (mem/stats.ts names them). */
export const MEMSTAT_COUNT: u32 = 16;
export const ABI_BLOCK_SIZE: u32 = ABI_MEMSTATS_OFF + MEMSTAT_COUNT * 8;

export const RING_HDR_SIZE: u32 = 32;
export const RING_HEAD_OFF: u32 = 0;
export const RING_TAIL_OFF: u32 = 4;
export const RING_SLOTS_OFF: u32 = 8;
export const RING_SLOT_SIZE_OFF: u32 = 12;
export const RING_BASE_OFF: u32 = 16;
export const RING_MASK_OFF: u32 = 20;
export const RING_DROPPED_OFF: u32 = 24;

export const SLOT_HDR_SIZE: u32 = 16;
export const SLOT_LEN_OFF: u32 = 0;
export const SLOT_FLAGS_OFF: u32 = 4;
export const SLOT_TIME_OFF: u32 = 8;

export const EVENT_SIZE: u32 = 16;
export const EVENT_TYPE_OFF: u32 = 0;
export const EVENT_FLAGS_OFF: u32 = 2;
export const EVENT_HANDLE_OFF: u32 = 4;
export const EVENT_ARG0_OFF: u32 = 8;
export const EVENT_ARG1_OFF: u32 = 12;

/** The ABI block itself (zeroed data segment; magic/version written by abiStamp()). */
export const ABI_BASE: usize = memory.data(<i32>ABI_BLOCK_SIZE, 16);

/** Writes magic and version (idempotent; called by every ring/stat initializer). */
export function abiStamp(): void {
  store<u32>(ABI_BASE + ABI_MAGIC_OFF, ABI_MAGIC);
  store<u32>(ABI_BASE + ABI_VERSION_OFF, ABI_VERSION);
}
