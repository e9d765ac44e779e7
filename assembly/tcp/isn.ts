// Initial sequence numbers (RFC 6528 §3) and ephemeral ports (RFC 6056 §3.3.3).

import { envHash, envTupleInUse } from "./env";
import { nowUs } from "../time/clock";
import { ephemeralLow, ephemeralHigh } from "./config";
import { twTakeOver } from "./timewait";

// One-shot ISS for a 4-tuple taken from a TIME-WAIT record (tcp/timewait.ts):
// RFC 6191 §2 / Linux give the new incarnation SND.NXT(old) + 65537, so none of its
// sequence numbers can be taken for the old connection's. Set just before the open
// that uses it (listen.ts for a SYN, api.ts connect), consumed by isnFor for that
// exact tuple, cleared after the open either way.
let hintSet: bool = false;
let hintLocalAddr: u32 = 0, hintRemoteAddr: u32 = 0, hintPorts: u32 = 0, hintIss: u32 = 0;

export function isnHintSet(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16, iss: u32): void {
  hintSet = true;
  hintLocalAddr = localAddr;
  hintRemoteAddr = remoteAddr;
  hintPorts = (<u32>localPort << 16) | <u32>remotePort;
  hintIss = iss;
}

export function isnHintClear(): void {
  hintSet = false;
}

/**
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-µs timer. F is the stack's keyed hash (secret chosen at init).
 */
export function isnFor(localAddr: u32, localPort: u16, remoteAddr: u32, remotePort: u16): u32 {
  if (hintSet && hintLocalAddr == localAddr && hintRemoteAddr == remoteAddr &&
      hintPorts == ((<u32>localPort << 16) | <u32>remotePort)) {
    hintSet = false;
    return hintIss;
  }
  const f = envHash(localAddr, remoteAddr, (<u32>localPort << 16) | <u32>remotePort, 0x6528);
  return f + <u32>(nowUs >> 2);
}

/** RFC 6056 §3.3.3 (Algorithm 3) per-destination counter; one global table slot is enough here. */
let portCounter: u32 = 0;

/**
 * RFC 6056 §3.3.3: offset = F(local, remote, secret); try
 * low + (offset + counter + i) mod range, skipping tuples already in the table.
 * With `twReuse`, a port whose tuple only a TIME-WAIT record holds is taken when
 * tcp/timewait.ts twTakeOver finds it safe (Linux tcp_tw_reuse takes the first such
 * port of its walk too). Returns the port, or 0 when every port of the range is
 * taken for this destination.
 */
export function choosePort(localAddr: u32, remoteAddr: u32, remotePort: u16, twReuse: bool = false): u16 {
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
    if (twReuse && twTakeOver(localAddr, port, remoteAddr, remotePort)) {
      portCounter += i + 1;
      return port;
    }
  }
  return 0;
}
