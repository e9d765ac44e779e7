// Host-side mirror of assembly/iface/stats.ts: the names of the interface layer's
// counters, in block order, and a reader for the counter block (IF_STAT_COUNT
// little-endian u64 at the address the module reports). Append-only, like the
// module's list; `readIfaceStats` refuses a block whose count differs.

export const IFACE_STAT_NAMES = [
  "rx_frames",
  // dispositions: exactly one per received frame (indices 1..39)
  "eth_drop_truncated",
  "eth_drop_malformed",
  "eth_drop_vlan",
  "eth_drop_not_for_us",
  "eth_drop_unknown_type",
  "arp_drop_truncated",
  "arp_drop_malformed",
  "arp_drop_unsupported",
  "arp_drop_bad_sender",
  "arp_drop_not_for_us",
  "arp_drop_unsolicited",
  "arp_request_answered",
  "arp_reply_accepted",
  "arp_drop_conflict",
  "ip_drop_truncated",
  "ip_drop_malformed",
  "ip_drop_checksum",
  "ip_drop_bad_src",
  "ip_drop_not_for_us",
  "ip_frag_held",
  "ip_frag_drop_duplicate",
  "ip_frag_drop_overlap",
  "ip_frag_drop_no_buffer",
  "ip_frag_drop_too_big",
  "ip_frag_drop_malformed",
  "ip_frag_drop_too_many_holes",
  "ip_deliver_tcp",
  "ip_proto_unreachable",
  "icmp_drop_truncated",
  "icmp_drop_checksum",
  "icmp_drop_malformed",
  "icmp_drop_unsupported",
  "icmp_echo_request",
  "icmp_drop_echo_too_big",
  "icmp_drop_echo_broadcast",
  "icmp_rx_echo_reply",
  "icmp_rx_error",
  "ip_drop_no_proto_bcast",
  "ip_drop_tcp_bcast",
  // output
  "tx_frames",
  "tx_drop_ring_full",
  "tx_drop_no_route",
  "tx_drop_too_big",
  "tx_drop_busy",
  "ip_tx_datagrams",
  // ARP activity
  "arp_tx_request",
  "arp_tx_reply",
  "arp_tx_gratuitous",
  "arp_request_rate_limited",
  "arp_pending_queued",
  "arp_pending_sent",
  "arp_pending_drop_full",
  "arp_pending_drop_unresolved",
  "arp_cache_insert",
  "arp_cache_evict",
  "arp_cache_expired",
  "arp_cache_refresh",
  "arp_resolve_failed",
  "arp_cache_full",
  // reassembly
  "ip_reasm_ok",
  "ip_reasm_timeout",
  // ICMP activity
  "icmp_tx_echo_reply",
  "icmp_tx_unreach",
  "icmp_tx_time_exceeded",
  "icmp_err_rate_limited",
  "icmp_err_suppressed",
  // transport
  "tcp_no_transport",
] as const;

export type IfaceStatName = (typeof IFACE_STAT_NAMES)[number];

/** First and last index of the per-frame dispositions (Σ of them == rx_frames). */
export const IFACE_DISP_FIRST = 1;
export const IFACE_DISP_LAST = 39;

/**
 * Reads the counter block at `ptr` (IF_STAT_COUNT = `count` u64) from the module's
 * memory into a name → value record. Throws if the module's count differs from
 * this mirror (a module and host from different versions).
 */
export function readIfaceStats(memory: WebAssembly.Memory, ptr: number, count: number): Record<IfaceStatName, bigint> {
  if (count !== IFACE_STAT_NAMES.length) {
    throw new Error(`ustack: the module has ${count} interface counters, host/iface-stats.ts names ${IFACE_STAT_NAMES.length}`);
  }
  const view = new DataView(memory.buffer, ptr, count * 8);
  const out = {} as Record<IfaceStatName, bigint>;
  IFACE_STAT_NAMES.forEach((name, i) => {
    out[name] = view.getBigUint64(i * 8, true);
  });
  return out;
}

/** Σ of the disposition counters; equals rx_frames when every frame was accounted for. */
export function ifaceDispositionSum(stats: Record<IfaceStatName, bigint>): bigint {
  let s = 0n;
  for (let i = IFACE_DISP_FIRST; i <= IFACE_DISP_LAST; i++) s += stats[IFACE_STAT_NAMES[i]];
  return s;
}
