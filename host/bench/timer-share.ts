// Timer cost share (SPEC §6): timer operations per connection × ns per operation,
// as a share of the CPU time per connection.
//
// - ns per operation: measured in the same run, on the live timer queues (the
//   stack's wheel or list at the occupancy the workload left; the TIME-WAIT timers
//   are in the 2 MSL queue, not in the wheel): `benchTimerProbe` schedules and
//   cancels a private node 200 000 times per stack and the host times the call
//   (glue/bench-stats.ts) — after a warm-up call (V8 tiers the probe up), five timed
//   rounds, the median round. An expiry is costed as one schedule+cancel pair
//   (docs/benchmarks.md issue 2: a wheel expiry costs 30–37 ns at 100 k–1 M timers,
//   a schedule+cancel pair 33–52 ns).
// - expiries per connection: measured (the timer service's expiry counter, both stacks).
// - schedules and cancels per connection: measured (the timer service counts schedule()
//   calls and cancels of active nodes; cancels of idle nodes — a load and a compare —
//   are not counted). The census below, read off the TCP code path of one ping-pong
//   connection, is the expected value and the fallback when a run has no counts.
// - constant-delay queues (time/fifo.ts: delayed ACK, 2 MSL): appends and unlinks of
//   linked nodes, and pops, measured by the timer service; ns per append+unlink pair
//   measured in the same run on the live 2 MSL queue (`benchFifoProbe`, 200 000
//   pairs per stack, warm-up and median of five rounds as above). A pop is costed as
//   one pair, like a wheel expiry. The queues' head nodes are wheel nodes: their
//   schedules and expiries are in the wheel's counts.
//
//   Census (W = wheel op, F = queue op). The RTX timer restarts and stops lazily and
//   an idle RTX node is armed min(RTO, rtoMinMs) out (snd.ts armRtx), so after its
//   first arm no restart in this dialogue touches the queue; the orphaned FIN-WAIT-2
//   timeout rides on the same node (snd.ts armFinWait2).
//   client                                        server
//   connect: armRtx (node idle)       W           SYN: armRtx (node idle)             W
//   SYN,ACK: stop RTX (lazy)          –           ACK: stop RTX (lazy)                –
//   request: armRtx (deadline later   –           request: delayed ACK appended       F
//     than the node)                             reply: delack unlinked             F
//   reply acks request: stop (lazy)   –            armRtx (later than the node)      –
//   reply data: delayed ACK appended  F          FIN acks reply: stop (lazy)         –
//   close → FIN: delack unlinked,     F          close → FIN: armRtx (later)         –
//     armRtx (later than the node)    –          final ACK: stop; record freed:
//   FIN acked: stop; FIN-WAIT-2                    RTX node cancelled                W
//     timeout on the RTX node         –
//   FIN: TIME-WAIT record appended,   F
//     Tcb freed: RTX node cancelled   W
//   record's 2 MSL over: popped       (measured expiry)
//   → 1 S + 1 C + 3 F                             → 1 S + 1 C + 2 F   total 2 S + 2 C + 5 F

export const CENSUS_SCHEDULES_PER_CONNECTION = 2;
export const CENSUS_CANCELS_PER_CONNECTION = 2;
export const CENSUS_FIFO_OPS_PER_CONNECTION = 5;

/** Constant-delay queue figures of a run (time/fifo.ts). */
export interface FifoCounts {
  /** Appends + unlinks, both stacks. */
  ops: number;
  /** Pops (expiries), both stacks. */
  expiries: number;
  /** ns per append+unlink pair on the live 2 MSL queue. */
  nsPerPair: number;
}

export interface TimerShare {
  /** Wheel (list) schedules + cancels (of active timers) per connection, both stacks. */
  opsPerConnection: number;
  /** True when opsPerConnection was counted in the run, false when it is the census. */
  measuredOps: boolean;
  /** Measured: wheel (list) expiries of both stacks / completed connections. */
  expiriesPerConnection: number;
  /** Measured on the live queues: ns per schedule+cancel pair. */
  nsPerSchedulePlusCancel: number;
  /** Constant-delay queue appends + unlinks per connection (0 when the run has no queue counts). */
  fifoOpsPerConnection: number;
  /** Constant-delay queue pops per connection. */
  fifoExpiriesPerConnection: number;
  /** Measured on the live 2 MSL queue: ns per append+unlink pair. */
  nsPerFifoAppendPlusUnlink: number;
  /** Of nsPerConnection: the wheel's part (schedules, cancels, expiries). */
  wheelNsPerConnection: number;
  /** Of nsPerConnection: the constant-delay queues' part (appends, unlinks, pops). */
  fifoNsPerConnection: number;
  /** Timer ns per connection (both stacks): wheel + queues. */
  nsPerConnection: number;
  /** CPU ns per connection (process user + system / completed). */
  cpuNsPerConnection: number;
  /** nsPerConnection / cpuNsPerConnection × 100. */
  pct: number;
}

export function timerShare(completed: number, cpuS: number, expiries: number, nsPerPair: number, ops?: number, fifo?: FifoCounts): TimerShare {
  const per = completed > 0 ? 1 / completed : 0;
  const expiriesPerConnection = expiries * per;
  const opsPerConnection = ops !== undefined ? ops * per : CENSUS_SCHEDULES_PER_CONNECTION + CENSUS_CANCELS_PER_CONNECTION;
  // A pair is one schedule + one cancel: half a pair each; an expiry is costed as a pair.
  const pairs = opsPerConnection / 2 + expiriesPerConnection;
  const wheelNsPerConnection = pairs * nsPerPair;
  const fifoOpsPerConnection = fifo ? fifo.ops * per : ops !== undefined ? 0 : CENSUS_FIFO_OPS_PER_CONNECTION;
  const fifoExpiriesPerConnection = fifo ? fifo.expiries * per : 0;
  const nsPerFifo = fifo ? fifo.nsPerPair : nsPerPair; // census fallback: costed as wheel pairs
  const fifoNsPerConnection = (fifoOpsPerConnection / 2 + fifoExpiriesPerConnection) * nsPerFifo;
  const nsPerConnection = wheelNsPerConnection + fifoNsPerConnection;
  const cpuNsPerConnection = cpuS * 1e9 * per;
  return {
    opsPerConnection,
    measuredOps: ops !== undefined,
    expiriesPerConnection,
    nsPerSchedulePlusCancel: nsPerPair,
    fifoOpsPerConnection,
    fifoExpiriesPerConnection,
    nsPerFifoAppendPlusUnlink: nsPerFifo,
    wheelNsPerConnection,
    fifoNsPerConnection,
    nsPerConnection,
    cpuNsPerConnection,
    pct: cpuNsPerConnection > 0 ? (100 * nsPerConnection) / cpuNsPerConnection : 0,
  };
}
