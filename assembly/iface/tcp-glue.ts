// Joins the interface to the TCP engine (assembly/tcp/): the protocol-6 ingress
// hook and the two output functions of the engine's env (tcp/env.ts). init wires
// them once:
//
//   ifaceAttachTcp();                       // IPv4 protocol 6 → tcpInput
//   env.txBegin = tcpEnvTxBegin;            // a TX slot's L4 area, built in place
//   env.txSend  = tcpEnvTxSend;             // route + frame + commit (or queue for ARP)

import { Ipv4Repr, IP_PROTO_TCP } from "../wire/ipv4";
import { tcpInput } from "../tcp/input";
import { setTcpInput } from "./interface";
import { ipv4SegmentBegin, ipv4SegmentSend } from "./output";

function deliverToTcp(d: Ipv4Repr, payload: usize, len: u32): void {
  tcpInput(payload, len, d.srcAddr, d.dstAddr);
}

/** Routes every validated protocol-6 datagram to the TCP engine. */
export function ifaceAttachTcp(): void {
  setTcpInput(deliverToTcp);
}

/** tcp/env.ts envTxBegin: the L4 area of the next TX slot, 0 when the ring is full. */
export function tcpEnvTxBegin(): usize {
  return ipv4SegmentBegin();
}

/** tcp/env.ts envTxSend: sends the segment built at `seg` (failures are counted in iface stats). */
export function tcpEnvTxSend(seg: usize, len: u32, srcAddr: u32, dstAddr: u32): void {
  ipv4SegmentSend(seg, len, srcAddr, dstAddr, IP_PROTO_TCP);
}
