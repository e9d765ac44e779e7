// Initial sequence numbers (RFC 6528 §3) and ephemeral ports (RFC 6056 §3.3.3).

import { envHash, envTupleInUse } from "./env";
import { nowUs } from "../time/clock";
import { ephemeralLow, ephemeralHigh } from "./config";

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-µs timer. F is the stack's keyed hash (secret chosen at init).
 */
export function isnFor(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  const f = envHash(localAddr, remoteAddr, (<u32>localPort << 16) | <u32>remotePort, 0x6528);
  return f + <u32>(nowUs >> 2);
}

/** RFC 6056 §3.3.3 (Algorithm 3) per-destination counter; one global table slot is enough here. */
let portCounter: u32 = 0;

/**
 * RFC 6056 §3.3.3: offset = F(local, remote, secret); try
 * low + (offset + counter + i) mod range, skipping tuples already in the table.
 * Returns the port, or 0 when every port of the range is taken for this destination.
 */
export function choosePort(localAddr: u32, remoteAddr: u32, remotePort: u16): u16 {
  const lo = <u32>ephemeralLow;
  const hi = <u32>ephemeralHigh;
  if (hi < lo) return 0;
  const range = hi - lo + 1;
  const offset = envHash(localAddr, remoteAddr, <u32>remotePort, 0x6056);
  for (let i: u32 = 0; i < range; i++) {
    const port = <u16>(lo + (offset + portCounter + i) % range);
    if (!envTupleInUse(localAddr, port, remoteAddr, remotePort)) {
      portCounter += i + 1; // RFC 6056: counter advances past the tried ports
      return port;
    }
  }
  return 0;
}
