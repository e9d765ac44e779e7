// Counters of the interface layer: one u64 per reason, in one contiguous block in
// the data segment (no allocation, valid before ifaceInit). The host reads the
// block through ifaceStatsPtr()/ifaceStatsCount() and names the entries with
// host/iface-stats.ts, which lists the same names in the same order.
//
//   stats block (IF_STAT_COUNT × u64, 8-byte aligned)
//   ┌──────────┬────────────────────────────────────────┬───────────────────────────┐
//   │ RX_FRAMES│ dispositions: IF_DISP_FIRST..LAST      │ other activity / TX       │
//   │ [0]      │ [1 .. 39]: exactly one per RX frame    │ [40 .. IF_STAT_COUNT-1]   │
//   └──────────┴────────────────────────────────────────┴───────────────────────────┘
//
// Accounting invariant (checked by the randomized ingress test): every frame given
// to ifaceInput increments RX_FRAMES once and exactly one disposition counter, so
//   stat(RX_FRAMES) == Σ stat(IF_DISP_FIRST .. IF_DISP_LAST).
// A fragment kept for reassembly is disposed of as IP_FRAG_HELD; what later happens
// to its datagram (delivered with the last fragment, or IP_REASM_TIMEOUT) is counted
// on the frame that completes it, or on the datagram counters.
// Indices never change meaning; new counters are appended (host mirror too).

export const IF_RX_FRAMES: u32 = 0;
// --- dispositions: Ethernet ---
export const IF_ETH_DROP_TRUNCATED: u32 = 1;
export const IF_ETH_DROP_MALFORMED: u32 = 2; // 802.3 length in the type field
export const IF_ETH_DROP_VLAN: u32 = 3; // 802.1Q / 802.1ad tagged: not supported
export const IF_ETH_DROP_NOT_FOR_US: u32 = 4; // destination MAC neither ours nor broadcast
export const IF_ETH_DROP_UNKNOWN_TYPE: u32 = 5; // IPv6 and every other type
// --- dispositions: ARP ---
export const IF_ARP_DROP_TRUNCATED: u32 = 6;
export const IF_ARP_DROP_MALFORMED: u32 = 7;
export const IF_ARP_DROP_UNSUPPORTED: u32 = 8; // not Ethernet/IPv4
export const IF_ARP_DROP_BAD_SENDER: u32 = 9; // group/our MAC, broadcast/multicast sender IP
export const IF_ARP_DROP_NOT_FOR_US: u32 = 10; // request or reply for another address
export const IF_ARP_DROP_UNSOLICITED: u32 = 11; // reply/gratuitous ARP we never asked for
export const IF_ARP_REQUEST_ANSWERED: u32 = 12;
export const IF_ARP_REPLY_ACCEPTED: u32 = 13;
export const IF_ARP_DROP_CONFLICT: u32 = 14; // another host claims our address
// --- dispositions: IPv4 ---
export const IF_IP_DROP_TRUNCATED: u32 = 15;
export const IF_IP_DROP_MALFORMED: u32 = 16;
export const IF_IP_DROP_CHECKSUM: u32 = 17;
export const IF_IP_DROP_BAD_SRC: u32 = 18; // broadcast/multicast/loopback/zero/own source
export const IF_IP_DROP_NOT_FOR_US: u32 = 19;
export const IF_IP_FRAG_HELD: u32 = 20;
export const IF_IP_FRAG_DROP_DUPLICATE: u32 = 21;
export const IF_IP_FRAG_DROP_OVERLAP: u32 = 22;
export const IF_IP_FRAG_DROP_NO_BUFFER: u32 = 23;
export const IF_IP_FRAG_DROP_TOO_BIG: u32 = 24;
export const IF_IP_FRAG_DROP_MALFORMED: u32 = 25;
export const IF_IP_FRAG_DROP_TOO_MANY_HOLES: u32 = 26;
export const IF_IP_DELIVER_TCP: u32 = 27;
export const IF_IP_PROTO_UNREACHABLE: u32 = 28; // unknown protocol (error sent or suppressed)
// --- dispositions: ICMP ---
export const IF_ICMP_DROP_TRUNCATED: u32 = 29;
export const IF_ICMP_DROP_CHECKSUM: u32 = 30;
export const IF_ICMP_DROP_MALFORMED: u32 = 31;
export const IF_ICMP_DROP_UNSUPPORTED: u32 = 32;
export const IF_ICMP_ECHO_REQUEST: u32 = 33; // answered (or the reply's TX failure is counted)
export const IF_ICMP_DROP_ECHO_TOO_BIG: u32 = 34; // reply would exceed the MTU
export const IF_ICMP_DROP_ECHO_BROADCAST: u32 = 35; // like Linux icmp_echo_ignore_broadcasts=1
export const IF_ICMP_RX_ECHO_REPLY: u32 = 36; // consumed (no ping client in the stack)
export const IF_ICMP_RX_ERROR: u32 = 37; // unreachable / time exceeded received, consumed
export const IF_IP_DROP_NO_PROTO_BCAST: u32 = 38; // unknown protocol to a broadcast: no error allowed
export const IF_IP_DROP_TCP_BCAST: u32 = 39; // TCP to a broadcast address (RFC 1122 §4.2.3.10)
export const IF_DISP_FIRST: u32 = 1;
export const IF_DISP_LAST: u32 = 39;
// --- output ---
export const IF_TX_FRAMES: u32 = 40;
export const IF_TX_DROP_RING_FULL: u32 = 41;
export const IF_TX_DROP_NO_ROUTE: u32 = 42;
export const IF_TX_DROP_TOO_BIG: u32 = 43;
export const IF_TX_DROP_BUSY: u32 = 44; // ipv4TxBegin while another output was open
export const IF_IP_TX_DATAGRAMS: u32 = 45;
// --- ARP activity ---
export const IF_ARP_TX_REQUEST: u32 = 46;
export const IF_ARP_TX_REPLY: u32 = 47;
export const IF_ARP_TX_GRATUITOUS: u32 = 48;
export const IF_ARP_REQUEST_RATE_LIMITED: u32 = 49;
export const IF_ARP_PENDING_QUEUED: u32 = 50;
export const IF_ARP_PENDING_SENT: u32 = 51;
export const IF_ARP_PENDING_DROP_FULL: u32 = 52;
export const IF_ARP_PENDING_DROP_UNRESOLVED: u32 = 53;
export const IF_ARP_CACHE_INSERT: u32 = 54;
export const IF_ARP_CACHE_EVICT: u32 = 55;
export const IF_ARP_CACHE_EXPIRED: u32 = 56;
export const IF_ARP_CACHE_REFRESH: u32 = 57;
export const IF_ARP_RESOLVE_FAILED: u32 = 58;
export const IF_ARP_CACHE_FULL: u32 = 59;
// --- reassembly ---
export const IF_IP_REASM_OK: u32 = 60;
export const IF_IP_REASM_TIMEOUT: u32 = 61;
// --- ICMP activity ---
export const IF_ICMP_TX_ECHO_REPLY: u32 = 62;
export const IF_ICMP_TX_UNREACH: u32 = 63;
export const IF_ICMP_TX_TIME_EXCEEDED: u32 = 64;
export const IF_ICMP_ERR_RATE_LIMITED: u32 = 65;
export const IF_ICMP_ERR_SUPPRESSED: u32 = 66; // RFC 1122 §3.2.2 "MUST NOT send" cases
// --- transport ---
export const IF_TCP_NO_TRANSPORT: u32 = 67; // the default protocol-6 hook (no TCP wired)
/** Number of counters (the host mirror has exactly this many names). */
export const IF_STAT_COUNT: u32 = 68;

const STATS: usize = memory.data(<i32>(IF_STAT_COUNT * 8), 8);

/** Increments counter `id` (ids are the constants above; anything else is ignored). */
@inline
export function ifCount(id: u32): void {
  if (id < IF_STAT_COUNT) {
    const a = STATS + (<usize>id << 3);
    store<u64>(a, load<u64>(a) + 1);
  }
}

/** Current value of counter `id` (0 for an unknown id). */
export function ifStat(id: u32): u64 {
  return id < IF_STAT_COUNT ? load<u64>(STATS + (<usize>id << 3)) : 0;
}

/** Sum of the disposition counters (equals stat(IF_RX_FRAMES) at all times). */
export function ifDispositionSum(): u64 {
  let s: u64 = 0;
  for (let i = IF_DISP_FIRST; i <= IF_DISP_LAST; i++) s += load<u64>(STATS + (<usize>i << 3));
  return s;
}

/** Zeroes every counter (init and specs). */
export function ifStatsReset(): void {
  memory.fill(STATS, 0, <usize>IF_STAT_COUNT * 8);
}

/** Address of the counter block (IF_STAT_COUNT little-endian u64). */
export function ifStatsPtr(): usize {
  return STATS;
}
