// TCP result codes (errors.ts range 200–299) and the events the engine posts.
// The host maps the codes to Node's error codes (host/errors.ts).

/** RST in reply to our SYN (Node: ECONNREFUSED). */
export const E_CONNREFUSED: i32 = 201;
/** Connection reset by the peer (Node: ECONNRESET). */
export const E_CONNRESET: i32 = 202;
/** Retransmission or keepalive limit reached (Node: ETIMEDOUT). */
export const E_TIMEDOUT: i32 = 203;
/** Send after shutdown of the send side (Node: EPIPE). */
export const E_PIPE: i32 = 204;
/** Operation needs a connected endpoint (Node: ENOTCONN). */
export const E_NOTCONN: i32 = 205;
/** Operation not valid in the endpoint's state (listen twice, connect on a listener...). */
export const E_BAD_STATE: i32 = 206;
/** No free ephemeral port for the destination (Node: EADDRNOTAVAIL). */
export const E_NO_PORT: i32 = 207;
/** Nothing to read / no room to write right now (Node: would block). */
export const E_AGAIN: i32 = 208;
/** Accept on a listener whose queue is empty. */
export const E_NO_PENDING: i32 = 209;
/** The connection was aborted locally (RST sent). */
export const E_ABORTED: i32 = 210;

// Events (type, handle, arg0, arg1), written to the event ring through envEvent.
/** A listener has a connection to accept: handle = listener, arg0 = child handle. */
export const EV_ACCEPTED: u16 = 1;
/** Active open completed (ESTABLISHED). */
export const EV_CONNECTED: u16 = 2;
/** New in-order data: arg0 = readable bytes. */
export const EV_READABLE: u16 = 3;
/** Send-buffer space freed after a send was refused: arg0 = free bytes. */
export const EV_WRITABLE: u16 = 4;
/** The peer's FIN arrived after all its data (end of stream). */
export const EV_PEER_CLOSED: u16 = 5;
/** The connection is fully closed; the handle stays valid until close(). */
export const EV_CLOSED: u16 = 6;
/** The connection failed: arg0 = E_* code; followed by EV_CLOSED. */
export const EV_ERROR: u16 = 7;
