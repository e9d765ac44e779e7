// Stack-wide TCP settings and counters.
//
// Settings are plain globals set at init (tcpConfigure) or by a spec; every
// duration is in ms (1 timer tick = 1 ms). Counters are u64 globals the
// integration copies into, or maps onto, the shared stats block.

// ── settings ─────────────────────────────────────────────────────────────────
/** TIME-WAIT duration (2×MSL; SPEC §5 default 60 s, may be set to a few ms in tests). */
export let timeWaitMs: u32 = 60000;
/** Lower RTO bound. RFC 6298 §2.4 says 1 s; Linux uses 200 ms (TCP_RTO_MIN), and so do we. */
export let rtoMinMs: u32 = 200;
/** Upper RTO bound (RFC 6298 §2.5 allows ≥ 60 s; Linux TCP_RTO_MAX = 120 s). */
export let rtoMaxMs: u32 = 120000;
/** Retransmissions of one segment before the connection fails with ETIMEDOUT (Linux tcp_retries2 = 15). */
export let maxRetries: u32 = 15;
/**
 * Window probes an orphan (TF_DETACHED: nobody holds the handle) sends behind a zero
 * window before it is aborted, answered or not (tcp/timers.ts onPersist). Linux
 * tcp_orphan_retries = 0, which tcp_orphan_retries() turns into 8 while the backed-off
 * interval is below TCP_RTO_MAX (and aborts at once above it); we use the 8.
 */
export let orphanRetries: u32 = 8;
/** SYN retransmissions before connect fails (Linux tcp_syn_retries = 6). */
export let synRetries: u32 = 6;
/** SYN-ACK retransmissions before a half-open entry is dropped (Linux tcp_synack_retries = 5). */
export let synAckRetries: u32 = 5;
/** Delayed-ACK timeout; RFC 5681 §4.2 / RFC 1122 §4.2.3.2 require < 500 ms. Linux: 40 ms min. */
export let delAckMs: u32 = 40;
/** Keepalive idle time before the first probe (RFC 1122 §4.2.3.6: ≥ 2 h by default). */
export let keepIdleMs: u32 = 7200000;
/** Interval between keepalive probes (Linux tcp_keepalive_intvl = 75 s). */
export let keepIntvlMs: u32 = 75000;
/** Unanswered keepalive probes before ETIMEDOUT (Linux tcp_keepalive_probes = 9). */
export let keepCount: u32 = 9;
/** Half-open (SYN-RECEIVED) entries per listener (syncache bound). */
export let synCacheMax: u32 = 256;
/** MSS we announce: MTU 1500 − 20 (IPv4) − 20 (TCP) (RFC 9293 §3.7.1). */
export let announceMss: u16 = 1460;
/** Default send / receive buffer limits (bytes) of a new endpoint. */
export let defaultSndBuf: u32 = 65536;
export let defaultRcvBuf: u32 = 65536;
/** Initial cwnd in segments. RFC 5681 §3.1 allows ≤ 4; Linux uses 10 (RFC 6928), and so do we. */
export let initialCwndSegs: u32 = 10;
/** RFC 5961 §7: at most this many challenge ACKs per second, stack-wide (Linux tcp_challenge_ack_limit). */
export let challengeAckLimit: u32 = 1000;
/** Lowest and highest ephemeral port (SPEC §5: 49152–65535). */
export let ephemeralLow: u16 = 49152;
export let ephemeralHigh: u16 = 65535;
/** Segments one tcpOutput call may emit (bounded work per call). */
export let outputBudget: u32 = 64;
/** Congestion control algorithms (values of `congestionControl` and Tcb.ccAlgo). */
export const CC_CUBIC: u8 = 0;
export const CC_NEWRENO: u8 = 1;
/**
 * Congestion control of new endpoints: CUBIC (RFC 9438, the default, as Linux) or
 * NewReno (RFC 5681 + RFC 6582). Latched into each Tcb by tcbReset, so changing it
 * affects only endpoints created afterwards (a listener's children take the value
 * current when the SYN arrives).
 */
export let congestionControl: u8 = CC_CUBIC;

export function setTimeWaitMs(v: u32): void { timeWaitMs = v; }
export function setRtoBounds(minMs: u32, maxMs: u32): void { rtoMinMs = minMs; rtoMaxMs = maxMs; }
export function setRetries(data: u32, syn: u32, synAck: u32): void { maxRetries = data; synRetries = syn; synAckRetries = synAck; }
export function setOrphanRetries(v: u32): void { orphanRetries = v; }
export function setDelAckMs(v: u32): void { delAckMs = v; }
export function setKeepalive(idleMs: u32, intvlMs: u32, count: u32): void { keepIdleMs = idleMs; keepIntvlMs = intvlMs; keepCount = count; }
export function setSynCacheMax(v: u32): void { synCacheMax = v; }
export function setAnnounceMss(v: u16): void { announceMss = v; }
export function setDefaultBuffers(snd: u32, rcv: u32): void { defaultSndBuf = snd; defaultRcvBuf = rcv; }
export function setEphemeralRange(lo: u16, hi: u16): void { ephemeralLow = lo; ephemeralHigh = hi; }
export function setChallengeAckLimit(v: u32): void { challengeAckLimit = v; }
/** Selects CC_CUBIC or CC_NEWRENO for new endpoints; any other value → false, unchanged. */
export function setCongestionControl(v: u32): bool {
  if (v != <u32>CC_CUBIC && v != <u32>CC_NEWRENO) return false;
  congestionControl = <u8>v;
  return true;
}

// ── counters ─────────────────────────────────────────────────────────────────
export let statSegsIn: u64 = 0;
export let statSegsOut: u64 = 0;
export let statDropMalformed: u64 = 0;
export let statDropChecksum: u64 = 0;
export let statDropNoEndpoint: u64 = 0;
export let statRstSent: u64 = 0;
export let statDropUnacceptable: u64 = 0;
export let statChallengeAcks: u64 = 0;
export let statChallengeAckLimited: u64 = 0;
export let statSyncacheOverflow: u64 = 0;
export let statAcceptOverflow: u64 = 0;
export let statEndpointsExhausted: u64 = 0;
export let statRetransmits: u64 = 0;
export let statFastRetransmits: u64 = 0;
export let statTimeouts: u64 = 0;
export let statOooDropped: u64 = 0;
export let statPawsDropped: u64 = 0;
export let statOptMalformed: u64 = 0;
export let statWsClamped: u64 = 0;
export let statTxFull: u64 = 0;
export let statRstIgnoredTimeWait: u64 = 0;

export function statsReset(): void {
  statSegsIn = 0; statSegsOut = 0; statDropMalformed = 0; statDropChecksum = 0;
  statDropNoEndpoint = 0; statRstSent = 0; statDropUnacceptable = 0; statChallengeAcks = 0;
  statChallengeAckLimited = 0; statSyncacheOverflow = 0; statAcceptOverflow = 0;
  statEndpointsExhausted = 0; statRetransmits = 0; statFastRetransmits = 0; statTimeouts = 0;
  statOooDropped = 0; statPawsDropped = 0; statOptMalformed = 0; statWsClamped = 0; statTxFull = 0;
  statRstIgnoredTimeWait = 0;
}

export function incSegsIn(): void { statSegsIn++; }
export function incSegsOut(): void { statSegsOut++; }
export function incDropMalformed(): void { statDropMalformed++; }
export function incDropChecksum(): void { statDropChecksum++; }
export function incDropNoEndpoint(): void { statDropNoEndpoint++; }
export function incRstSent(): void { statRstSent++; }
export function incDropUnacceptable(): void { statDropUnacceptable++; }
export function incChallengeAcks(): void { statChallengeAcks++; }
export function incChallengeAckLimited(): void { statChallengeAckLimited++; }
export function incSyncacheOverflow(): void { statSyncacheOverflow++; }
export function incAcceptOverflow(): void { statAcceptOverflow++; }
export function incEndpointsExhausted(): void { statEndpointsExhausted++; }
export function incRetransmits(): void { statRetransmits++; }
export function incFastRetransmits(): void { statFastRetransmits++; }
export function incTimeouts(): void { statTimeouts++; }
export function incOooDropped(): void { statOooDropped++; }
export function incPawsDropped(): void { statPawsDropped++; }
export function incOptMalformed(): void { statOptMalformed++; }
export function incWsClamped(): void { statWsClamped++; }
export function incTxFull(): void { statTxFull++; }
export function incRstIgnoredTimeWait(): void { statRstIgnoredTimeWait++; }
