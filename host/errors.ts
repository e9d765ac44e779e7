// Module result codes → Node-style errors.
//
// The core returns small integers (assembly/errors.ts 1–99, with 45 in glue/api.ts and
// 50–63 in config.ts; assembly/iface/errors.ts 100–199; assembly/tcp/codes.ts 200–299).
// Every one of them has a mapping below (tests/host/errors.test.ts checks it against
// the module's sources). The net API turns them into Error objects
// shaped like the ones Node's own `net` module produces, so code written against
// `node:net` (and node:http) recognises them by `.code`:
//
//   err.code     "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EADDRINUSE", ...
//   err.errno    the negative Linux errno, as Node reports it (ECONNREFUSED → -111)
//   err.syscall  "connect", "listen", "write", "read", ...
//   err.address / err.port   when the operation had a peer or a local port
//   err.ustackCode           the module's own code, for debugging
//
// Message format follows libuv's: "connect ECONNREFUSED 198.18.0.2:80".

/** Linux errno values (x86-64 / arm64 asm-generic) of the codes we produce. */
const ERRNO: Record<string, number> = {
  EPERM: 1,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
};

/** Module code → Node error code. Unknown codes map to "EUSTACK<n>". */
const CODE_NAMES: Record<number, string> = {
  // assembly/errors.ts (general / memory)
  1: "EBADF", // E_INVALID_HANDLE
  2: "EBADF", // E_STALE_HANDLE
  3: "EINVAL", // E_NOT_INITIALIZED
  4: "EINVAL", // E_ALREADY_INITIALIZED
  // configuration rejected by init (nothing carved)
  10: "EINVAL", // E_CONFIG_ZERO
  11: "EINVAL", // E_CONFIG_TOO_LARGE
  12: "EINVAL", // E_CONFIG_SHARDS
  13: "EINVAL", // E_CONFIG_NOT_POW2
  14: "EINVAL", // E_CONFIG_SLOT_SIZE
  15: "EINVAL", // E_CONFIG_CHUNK_SIZE
  16: "EINVAL", // E_CONFIG_COUNT
  17: "EINVAL", // E_CONFIG_VERSION
  18: "ENOMEM", // E_OUT_OF_MEMORY: memory.grow refused
  20: "EMFILE", // E_ENDPOINTS_EXHAUSTED: no free control block, like running out of descriptors
  21: "EMFILE", // E_LISTENERS_EXHAUSTED
  22: "ENOBUFS", // E_SYNCACHE_EXHAUSTED
  23: "ENOBUFS", // E_TIMEWAIT_EXHAUSTED
  24: "ENOBUFS", // E_CHUNKS_EXHAUSTED
  25: "ENOBUFS", // E_TABLE_EXHAUSTED
  26: "ENOBUFS", // E_RX_RING_FULL
  27: "ENOBUFS", // E_TX_RING_FULL
  28: "ENOBUFS", // E_EVENT_RING_FULL
  30: "EADDRINUSE", // E_ADDR_IN_USE
  31: "EADDRINUSE", // E_EXISTS (the 4-tuple is taken)
  32: "EINVAL", // E_NOT_FOUND
  40: "EINVAL", // E_BAD_LENGTH
  41: "EINVAL", // E_BAD_ARGUMENT
  45: "EADDRNOTAVAIL", // E_ADDR_NOT_AVAILABLE (glue/api.ts): local address not the interface's
  // assembly/config.ts: interface and TCP fields of the config block
  50: "EINVAL", // E_CONFIG_MAC
  51: "EINVAL", // E_CONFIG_ADDR
  52: "EINVAL", // E_CONFIG_PREFIX
  53: "EINVAL", // E_CONFIG_GATEWAY
  54: "EINVAL", // E_CONFIG_MTU
  55: "EINVAL", // E_CONFIG_ARP
  56: "EINVAL", // E_CONFIG_REASM
  57: "EINVAL", // E_CONFIG_TCP_TIMER
  58: "EINVAL", // E_CONFIG_TCP_RETRIES
  59: "EINVAL", // E_CONFIG_BUFFER
  60: "EINVAL", // E_CONFIG_PORTS
  61: "EINVAL", // E_CONFIG_IO_BUFFER
  62: "EINVAL", // E_CONFIG_BUDGET
  63: "EINVAL", // E_CONFIG_CC
  // assembly/iface/errors.ts (most are drop reasons counted inside the module; mapped
  // anyway so that no module code ever surfaces as EUSTACK<n>)
  101: "EINVAL", // E_IF_TRUNCATED
  102: "EINVAL", // E_IF_MALFORMED
  103: "EINVAL", // E_IF_CHECKSUM
  104: "EOPNOTSUPP", // E_IF_UNSUPPORTED
  105: "EINVAL", // E_IF_NOT_FOR_US
  106: "EHOSTUNREACH", // E_IF_NO_ROUTE
  107: "ENOBUFS", // E_IF_TX_FULL
  108: "ENOBUFS", // E_IF_NO_BUFFER
  109: "EMSGSIZE", // E_IF_TOO_BIG
  110: "EINVAL", // E_IF_CONFIG
  111: "EINVAL", // E_IF_STATE
  112: "ENOBUFS", // E_IF_RATE_LIMITED
  113: "EINPROGRESS", // E_IF_PENDING: queued for ARP resolution, leaves later
  114: "EINPROGRESS", // E_IF_HELD: fragment kept for reassembly
  // assembly/tcp/codes.ts
  201: "ECONNREFUSED",
  202: "ECONNRESET",
  203: "ETIMEDOUT",
  204: "EPIPE",
  205: "ENOTCONN",
  206: "EINVAL", // E_BAD_STATE (listen twice, connect on a listener, ...)
  207: "EADDRNOTAVAIL", // E_NO_PORT
  208: "EAGAIN",
  209: "EAGAIN", // E_NO_PENDING
  210: "ECONNABORTED",
};

/** Module code of "try again" (tcp/codes.ts E_AGAIN). */
export const CODE_AGAIN = 208;

/** The Node error code for a module code ("ECONNRESET", ...). */
export function errorCodeName(code: number): string {
  return CODE_NAMES[code] ?? `EUSTACK${code}`;
}

/** The negative errno Node reports for an error code name (undefined when it has none). */
export function errnoOf(name: string): number | undefined {
  const n = ERRNO[name];
  return n === undefined ? undefined : -n;
}

/** An Error with Node's system-error fields. */
export interface UstackError extends Error {
  code: string;
  errno?: number;
  syscall: string;
  address?: string;
  port?: number;
  ustackCode?: number;
}

/**
 * Builds a Node-style system error for module code `code` (or a Node code name)
 * raised by `syscall`, optionally against `address`:`port`.
 */
export function systemError(code: number | string, syscall: string, address?: string, port?: number): UstackError {
  const name = typeof code === "number" ? errorCodeName(code) : code;
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ""}` : "";
  const err = new Error(`${syscall} ${name}${where}`) as UstackError;
  err.code = name;
  const errno = errnoOf(name);
  if (errno !== undefined) err.errno = errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  if (typeof code === "number") err.ustackCode = code;
  return err;
}

/** A Node-style argument error (ERR_INVALID_ARG_VALUE, ERR_SOCKET_BAD_PORT, ...). */
export function argumentError(code: string, message: string): Error & { code: string } {
  const E = code === "ERR_SOCKET_BAD_PORT" || code === "ERR_OUT_OF_RANGE" ? RangeError : TypeError;
  const err = new E(message) as Error & { code: string };
  err.code = code;
  return err;
}
