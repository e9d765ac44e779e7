// The timer expiry dispatcher: the one place that maps a node's kind tag to the
// layer that owns it. Each owner exports one handler taking the node address; it is
// wired here when that layer lands:
//   TIMER_KIND_RETRANSMIT, _DELAYED_ACK, _PERSIST, _KEEPALIVE, _TIME_WAIT, _SYNACK
//                                  → tcpOnTimer(node)        (assembly/tcp/timers.ts)
//   TIMER_KIND_TIME_WAIT with TW_NODE_FLAG (a TIME-WAIT record, mem/timewait.ts)
//                                  → twOnTimer(node)         (assembly/tcp/timewait.ts)
//   TIMER_KIND_ARP                 → arpOnTimer(node)        (assembly/iface/neighbor.ts)
//   TIMER_KIND_REASSEMBLY          → reasmOnTimer(node)      (assembly/iface/reassembly.ts)
// Kinds without a handler are counted (C_TIMER_NO_OWNER) and dropped.
// The node is already unlinked when the handler runs, so it may reschedule itself.
// A TCP expiry whose segments met a full TX ring queues its endpoint (the node's
// owner handle) for another output attempt in the next tick (glue/tick.ts).

import { TimerNode, TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK, TIMER_KIND_PERSIST,
  TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT, TIMER_KIND_SYNACK, TIMER_KIND_ARP,
  TIMER_KIND_REASSEMBLY } from "./time/timer";
import { count, C_TIMER_NO_OWNER } from "./mem/stats";
import { TW_NODE_FLAG } from "./mem/timewait";
import { tcpOnTimer } from "./tcp/timers";
import { twOnTimer } from "./tcp/timewait";
import { arpOnTimer } from "./iface/neighbor";
import { reasmOnTimer } from "./iface/reassembly";
import { clearTxFull, txFullHit } from "./glue/tcp-env";
import { endpointPendingPush } from "./mem/endpoints";

function tcpTimer(node: usize): void {
  clearTxFull();
  tcpOnTimer(node);
  if (txFullHit) endpointPendingPush(changetype<TimerNode>(node).owner);
}

export function dispatchTimer(node: usize): void {
  const kind = changetype<TimerNode>(node).kind;
  switch (kind) {
    case TIMER_KIND_TIME_WAIT:
      if (changetype<TimerNode>(node).flags == TW_NODE_FLAG) {
        // A compact TIME-WAIT record (mem/timewait.ts): 2 MSL are over. Its ACKs are
        // never retried, so a full TX ring needs no pending-output entry here.
        twOnTimer(node);
        break;
      }
      tcpTimer(node);
      break;
    case TIMER_KIND_RETRANSMIT:
    case TIMER_KIND_DELAYED_ACK:
    case TIMER_KIND_PERSIST:
    case TIMER_KIND_KEEPALIVE:
    case TIMER_KIND_SYNACK:
      tcpTimer(node);
      break;
    case TIMER_KIND_ARP:
      arpOnTimer(node);
      break;
    case TIMER_KIND_REASSEMBLY:
      reasmOnTimer(node);
      break;
    default:
      count(C_TIMER_NO_OWNER);
  }
}
