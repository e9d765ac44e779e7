// Result codes of the interface layer (Ethernet, ARP, IPv4, ICMP): range 100–199
// of assembly/errors.ts. Wire parsers and the iface functions return these (0 = OK).
// Values never change meaning once published. Every drop also bumps a counter
// in iface/stats.ts; the code says what went wrong, the counter says how often.

/** The buffer is shorter than the header (or than a length field inside it claims). */
export const E_IF_TRUNCATED: i32 = 101;
/** A field holds an impossible value (IHL < 5, total length < header, bad version, ...). */
export const E_IF_MALFORMED: i32 = 102;
/** A checksum does not verify (RFC 1122 §3.2.1.2, RFC 792). */
export const E_IF_CHECKSUM: i32 = 103;
/** Well-formed but not handled here (802.1Q tag, non-Ethernet/IPv4 ARP, unknown ICMP type). */
export const E_IF_UNSUPPORTED: i32 = 104;
/** The destination is not ours (link or IP layer). */
export const E_IF_NOT_FOR_US: i32 = 105;
/** No route: the destination is off-link and no default gateway is configured. */
export const E_IF_NO_ROUTE: i32 = 106;
/** The TX ring has no free slot. */
export const E_IF_TX_FULL: i32 = 107;
/** The ARP pending-resolution queue (or a reassembly slab) is full. */
export const E_IF_NO_BUFFER: i32 = 108;
/** The payload does not fit the MTU / the TX frame. */
export const E_IF_TOO_BIG: i32 = 109;
/** ifaceInit was given an impossible configuration (zero size, bad prefix, ...). */
export const E_IF_CONFIG: i32 = 110;
/** An output call was made with no output in progress (or two at once). */
export const E_IF_STATE: i32 = 111;
/** Dropped by a rate limit (ICMP errors, ARP requests). */
export const E_IF_RATE_LIMITED: i32 = 112;
/** The frame was queued waiting for ARP resolution (not an error: it leaves later). */
export const E_IF_PENDING: i32 = 113;
/** The frame is a fragment kept for reassembly (not an error). */
export const E_IF_HELD: i32 = 114;
