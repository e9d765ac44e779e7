// TCP connection states (RFC 9293 §3.3.2, Figure 6) and the one place a state changes.
//
// The numeric values are part of the debugging ABI (traces, stats): never renumber.
// CLOSED is 0 so that a zero-filled control block is a CLOSED one.

export const STATE_CLOSED: u8 = 0;
export const STATE_LISTEN: u8 = 1;
export const STATE_SYN_SENT: u8 = 2;
export const STATE_SYN_RECEIVED: u8 = 3;
export const STATE_ESTABLISHED: u8 = 4;
export const STATE_FIN_WAIT_1: u8 = 5;
export const STATE_FIN_WAIT_2: u8 = 6;
export const STATE_CLOSE_WAIT: u8 = 7;
export const STATE_CLOSING: u8 = 8;
export const STATE_LAST_ACK: u8 = 9;
export const STATE_TIME_WAIT: u8 = 10;
export const STATE_COUNT: u8 = 11;

/**
 * "Synchronized" states (RFC 9293 §3.5.2): the connection has exchanged SYNs, so
 * unacceptable segments get an ACK and RSTs are validated against RCV.NXT.
 */
@inline
export function isSynchronized(state: u8): bool {
  return state >= STATE_ESTABLISHED;
}

/**
 * States in which SEND may queue data (RFC 9293 §3.10.2: before and after the
 * handshake, and in CLOSE-WAIT), as long as no FIN is queued (the caller checks).
 */
@inline
export function acceptsSend(state: u8): bool {
  return state == STATE_ESTABLISHED || state == STATE_CLOSE_WAIT || state == STATE_SYN_SENT ||
    state == STATE_SYN_RECEIVED;
}

/** States in which our FIN has been queued or sent (the send side is closed). */
@inline
export function sendClosed(state: u8): bool {
  return state == STATE_FIN_WAIT_1 || state == STATE_FIN_WAIT_2 || state == STATE_CLOSING ||
    state == STATE_LAST_ACK || state == STATE_TIME_WAIT;
}

/** States in which the peer's FIN has been received (no more data will arrive). */
@inline
export function receiveClosed(state: u8): bool {
  return state == STATE_CLOSE_WAIT || state == STATE_CLOSING || state == STATE_LAST_ACK ||
    state == STATE_TIME_WAIT;
}

/** Short RFC name of a state, for traces and test failure messages (spec/debug use). */
export function stateName(state: u8): string {
  switch (state) {
    case STATE_CLOSED: return "CLOSED";
    case STATE_LISTEN: return "LISTEN";
    case STATE_SYN_SENT: return "SYN-SENT";
    case STATE_SYN_RECEIVED: return "SYN-RECEIVED";
    case STATE_ESTABLISHED: return "ESTABLISHED";
    case STATE_FIN_WAIT_1: return "FIN-WAIT-1";
    case STATE_FIN_WAIT_2: return "FIN-WAIT-2";
    case STATE_CLOSE_WAIT: return "CLOSE-WAIT";
    case STATE_CLOSING: return "CLOSING";
    case STATE_LAST_ACK: return "LAST-ACK";
    case STATE_TIME_WAIT: return "TIME-WAIT";
  }
  return "?";
}
