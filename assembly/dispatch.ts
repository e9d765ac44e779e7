// The timer expiry dispatcher: the one place that maps a node's kind tag to the
// layer that owns it. Each owner exports one handler taking the node address; it is
// wired here when that layer lands:
//   TIMER_KIND_RETRANSMIT, _DELAYED_ACK, _PERSIST, _KEEPALIVE, _TIME_WAIT, _SYNACK
//                                  → tcpOnTimer(node)        (assembly/tcp/timers.ts)
//   TIMER_KIND_TIME_WAIT with TW_NODE_FLAG (a TIME-WAIT record, mem/timewait.ts)
//                                  → tcpTimeWaitOnTimer(node) (issue 6)
//   TIMER_KIND_ARP                 → arpOnTimer(node)        (assembly/iface/neighbor.ts)
//   TIMER_KIND_REASSEMBLY          → reasmOnTimer(node)      (assembly/iface/reassembly.ts)
// Until a handler exists, its expiries are counted (C_TIMER_NO_OWNER) and dropped.
// The node is already unlinked when the handler runs, so it may reschedule itself.

import { TimerNode, TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK, TIMER_KIND_PERSIST,
  TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT, TIMER_KIND_SYNACK, TIMER_KIND_ARP,
  TIMER_KIND_REASSEMBLY } from "./time/timer";
import { count, C_TIMER_NO_OWNER } from "./mem/stats";

export function dispatchTimer(node: usize): void {
  const kind = changetype<TimerNode>(node).kind;
  switch (kind) {
    case TIMER_KIND_RETRANSMIT:
    case TIMER_KIND_DELAYED_ACK:
    case TIMER_KIND_PERSIST:
    case TIMER_KIND_KEEPALIVE:
    case TIMER_KIND_TIME_WAIT:
    case TIMER_KIND_SYNACK:
      // TCP (helper C): tcpOnTimer(node) once assembly/tcp/timers.ts exists.
      count(C_TIMER_NO_OWNER);
      break;
    case TIMER_KIND_ARP:
    case TIMER_KIND_REASSEMBLY:
      // Interface (helper A): arpOnTimer / reasmOnTimer once they exist.
      count(C_TIMER_NO_OWNER);
      break;
    default:
      count(C_TIMER_NO_OWNER);
  }
}
