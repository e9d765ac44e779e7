// Timer cost share (SPEC §6): timer operations per connection × ns per operation,
// as a share of the CPU time per connection.
//
// - ns per operation: measured in the same run, on the live timer queues (the
//   stack's wheel or list at the occupancy the workload left, tens of thousands of
//   TIME-WAIT timers): `benchTimerProbe` schedules and cancels a private node 200 000
//   times per stack and the host times the call (glue/bench-stats.ts). An expiry is
//   costed as one schedule+cancel pair (docs/benchmarks.md issue 2: a wheel expiry
//   costs 30–37 ns at 100 k–1 M timers, a schedule+cancel pair 33–52 ns).
// - expiries per connection: measured (the timer service's expiry counter, both stacks).
// - schedules and cancels per connection: measured (the timer service counts schedule()
//   calls and cancels of active nodes; cancels of idle nodes — a load and a compare —
//   are not counted). The census below, read off the TCP code path of one ping-pong
//   connection, is the expected value and the fallback when a run has no counts.
//
//   client                                       server
//   connect: armRtx                 S            SYN: armRtx (SYN,ACK)            S
//   SYN,ACK: cancel RTX             C            ACK: cancel RTX                  C
//   request: armRtx                 S            request: delayed-ACK timer       S
//   reply acks request: cancel RTX  C            reply: cancel delack, armRtx     C S
//   reply data: delayed-ACK timer   S            FIN acks reply: cancel RTX       C
//   close → FIN: cancel delack,     C S          close → FIN: armRtx              S
//     armRtx                                     final ACK: cancel RTX           C
//   FIN,ACK: cancel RTX; TIME-WAIT  C S
//   TIME-WAIT expires               (measured)
//   → 5 S + 4 C                                   → 4 S + 4 C      total 9 S + 8 C

export const CENSUS_SCHEDULES_PER_CONNECTION = 9;
export const CENSUS_CANCELS_PER_CONNECTION = 8;

export interface TimerShare {
  /** Schedules + cancels (of active timers) per connection, both stacks. */
  opsPerConnection: number;
  /** True when opsPerConnection was counted in the run, false when it is the census. */
  measuredOps: boolean;
  /** Measured: expiries of both stacks / completed connections. */
  expiriesPerConnection: number;
  /** Measured on the live queues: ns per schedule+cancel pair. */
  nsPerSchedulePlusCancel: number;
  /** Timer ns per connection (both stacks). */
  nsPerConnection: number;
  /** CPU ns per connection (process user + system / completed). */
  cpuNsPerConnection: number;
  /** nsPerConnection / cpuNsPerConnection × 100. */
  pct: number;
}

export function timerShare(completed: number, cpuS: number, expiries: number, nsPerPair: number, ops?: number): TimerShare {
  const per = completed > 0 ? 1 / completed : 0;
  const expiriesPerConnection = expiries * per;
  const opsPerConnection = ops !== undefined ? ops * per : CENSUS_SCHEDULES_PER_CONNECTION + CENSUS_CANCELS_PER_CONNECTION;
  // A pair is one schedule + one cancel: half a pair each.
  const pairs = opsPerConnection / 2 + expiriesPerConnection;
  const nsPerConnection = pairs * nsPerPair;
  const cpuNsPerConnection = cpuS * 1e9 * per;
  return {
    opsPerConnection,
    measuredOps: ops !== undefined,
    expiriesPerConnection,
    nsPerSchedulePlusCancel: nsPerPair,
    nsPerConnection,
    cpuNsPerConnection,
    pct: cpuNsPerConnection > 0 ? (100 * nsPerConnection) / cpuNsPerConnection : 0,
  };
}
