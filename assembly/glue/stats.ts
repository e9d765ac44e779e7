// Every counter of the stack (memory layer, interface, TCP) behind one mechanism:
// statsSnapshot() copies them into one block of u64 words whose address it returns;
// the host names the words with host/abi.ts STAT_NAMES (the three name lists in
// block order). The memory and interface counters also live on in their own blocks
// (ABI block, iface/stats.ts); TCP's are plain globals (tcp/config.ts), hence a copy.
//
//   stats block (STATS_COUNT × u64, little-endian, 8-byte aligned)
//   ┌─────────────────────────┬─────────────────────────────┬────────────────────────┐
//   │ memory: COUNTER_COUNT   │ interface: IF_STAT_COUNT    │ TCP: TCP_STAT_COUNT    │
//   │ (mem/stats.ts C_*)      │ (iface/stats.ts IF_*)       │ (tcp/config.ts stat*)  │
//   └─────────────────────────┴─────────────────────────────┴────────────────────────┘
//   0                         STATS_IFACE_OFF               STATS_TCP_OFF  STATS_COUNT
//   (offsets in words)

import { ABI_BASE, ABI_COUNTERS_OFF, COUNTER_COUNT } from "../abi";
import { ifStatsPtr, IF_STAT_COUNT } from "../iface/stats";
import {
  statSegsIn, statSegsOut, statDropMalformed, statDropChecksum, statDropNoEndpoint, statRstSent,
  statDropUnacceptable, statChallengeAcks, statChallengeAckLimited, statSyncacheOverflow,
  statAcceptOverflow, statEndpointsExhausted, statRetransmits, statFastRetransmits, statTimeouts,
  statOooDropped, statPawsDropped, statOptMalformed, statWsClamped, statTxFull, statRstIgnoredTimeWait,
} from "../tcp/config";

/** TCP words in the block (21 in use; room to append). */
export const TCP_STAT_COUNT: u32 = 24;
export const STATS_MEM_OFF: u32 = 0;
export const STATS_IFACE_OFF: u32 = COUNTER_COUNT;
export const STATS_TCP_OFF: u32 = COUNTER_COUNT + IF_STAT_COUNT;
export const STATS_COUNT: u32 = COUNTER_COUNT + IF_STAT_COUNT + TCP_STAT_COUNT;

const BLOCK: usize = memory.data(<i32>(STATS_COUNT * 8), 8);

@inline function put(i: u32, v: u64): void {
  store<u64>(BLOCK + (<usize>(STATS_TCP_OFF + i) << 3), v);
}

/** Copies every counter into the stats block and returns its address. */
export function statsSnapshot(): usize {
  memory.copy(BLOCK, ABI_BASE + ABI_COUNTERS_OFF, <usize>COUNTER_COUNT * 8);
  memory.copy(BLOCK + (<usize>STATS_IFACE_OFF << 3), ifStatsPtr(), <usize>IF_STAT_COUNT * 8);
  // Order = host/abi.ts TCP_STAT_NAMES.
  put(0, statSegsIn);
  put(1, statSegsOut);
  put(2, statDropMalformed);
  put(3, statDropChecksum);
  put(4, statDropNoEndpoint);
  put(5, statRstSent);
  put(6, statDropUnacceptable);
  put(7, statChallengeAcks);
  put(8, statChallengeAckLimited);
  put(9, statSyncacheOverflow);
  put(10, statAcceptOverflow);
  put(11, statEndpointsExhausted);
  put(12, statRetransmits);
  put(13, statFastRetransmits);
  put(14, statTimeouts);
  put(15, statOooDropped);
  put(16, statPawsDropped);
  put(17, statOptMalformed);
  put(18, statWsClamped);
  put(19, statTxFull);
  put(20, statRstIgnoredTimeWait);
  return BLOCK;
}

/** Address of the stats block (valid after statsSnapshot). */
export function statsAddr(): usize {
  return BLOCK;
}
