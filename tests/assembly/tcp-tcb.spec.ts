// Tcb layout and the reset contract helper B's endpoint pool relies on.
import {
  Tcb, TCB_SIZE, TCB_TIMERS, TCB_TIMER_RTX, TCB_TIMER_DELACK, TCB_TIMER_KEEP, TCB_TIMER_TW,
  TCB_SNDQ, TCB_RCVQ, tcbReset, tcbCancelTimers, tcbActiveTimers, tcbOfTimer, TCP_DEFAULT_MSS,
  TCP_INITIAL_RTO_MS,
} from "../../assembly/tcp/tcb";
import { TimerNode, LEVEL_IDLE, TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK,
  TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT } from "../../assembly/time/timer";
import { initTimers, timers } from "../../assembly/time/clock";
import { STATE_CLOSED } from "../../assembly/tcp/state";
import { congestionControl } from "../../assembly/tcp/config";

function noop(n: usize): void {}

describe("Tcb layout", () => {
  test("size is compact and 8-byte aligned, timers aligned", () => {
    log<string>("TCB_SIZE=" + TCB_SIZE.toString() + " timers@" + TCB_TIMERS.toString() +
      " sndQ@" + TCB_SNDQ.toString() + " rcvQ@" + TCB_RCVQ.toString());
    expect(TCB_SIZE <= 700).toBe(true);
    expect(TCB_SIZE & 7).toBe(0);
    expect(TCB_TIMERS & 7).toBe(0);
    expect(TCB_SNDQ & 7).toBe(0);
    expect(TCB_RCVQ).toBe(TCB_SNDQ + 16);
    expect(TCB_TIMERS).toBeGreaterThanOrEqual(TCB_RCVQ + 16);
  });
  test("diagram offsets match offsetof", () => {
    expect(offsetof<Tcb>("handle")).toBe(0);
    expect(offsetof<Tcb>("localPort")).toBe(16);
    expect(offsetof<Tcb>("state")).toBe(20);
    expect(offsetof<Tcb>("flags")).toBe(24);
    expect(offsetof<Tcb>("iss")).toBe(28);
    expect(offsetof<Tcb>("sndUna")).toBe(32);
    expect(offsetof<Tcb>("sndWl1")).toBe(48);
    expect(offsetof<Tcb>("rcvNxt")).toBe(64);
    expect(offsetof<Tcb>("sndMss")).toBe(80);
    expect(offsetof<Tcb>("srtt")).toBe(96);
    expect(offsetof<Tcb>("rttStartAt")).toBe(112);
    expect(offsetof<Tcb>("dupAcks")).toBe(128);
    expect(offsetof<Tcb>("oooCount")).toBe(144);
    expect(offsetof<Tcb>("oooStart0")).toBe(148);
    expect(offsetof<Tcb>("acceptNext")).toBe(180);
    expect(offsetof<Tcb>("rcvFinSeq")).toBe(200);
    expect(TCB_SNDQ).toBe(208);
    // congestion control (RFC 9438), appended after the queue headers
    expect(offsetof<Tcb>("cubicWest")).toBe(240);
    expect(offsetof<Tcb>("cubicEpochMs")).toBe(248);
    expect(offsetof<Tcb>("cubicK")).toBe(252);
    expect(offsetof<Tcb>("cubicWmax")).toBe(256);
    expect(offsetof<Tcb>("cubicCwndPrior")).toBe(260);
    expect(offsetof<Tcb>("cubicRem")).toBe(264);
    expect(offsetof<Tcb>("ccAlgo")).toBe(268);
    expect(offsetof<Tcb>("ccFlags")).toBe(269);
    expect(TCB_TIMERS).toBe(272);
    expect(TCB_SIZE).toBe(368);
  });
});

describe("tcbReset", () => {
  test("initialises every byte: zeros, defaults, idle timers owned by the handle", () => {
    initTimers(true, 0, noop);
    const p = heap.alloc(TCB_SIZE);
    memory.fill(p, 0xa5, TCB_SIZE);
    tcbReset(p, 0x00010007);
    const t = changetype<Tcb>(p);
    expect(t.handle).toBe(0x00010007);
    expect(t.state).toBe(STATE_CLOSED);
    expect(t.sndMss).toBe(TCP_DEFAULT_MSS);
    expect(t.rto).toBe(TCP_INITIAL_RTO_MS);
    expect(t.ssthresh).toBe(u32.MAX_VALUE);
    expect(t.flags).toBe(0);
    // congestion control latched from the stack setting; CUBIC state zero (no epoch)
    expect(t.ccAlgo).toBe(congestionControl);
    expect(t.ccFlags).toBe(0);
    expect(t.cubicWmax).toBe(0);
    expect(t.cubicWest).toBe(0.0);
    expect(t.sndUna).toBe(0);
    expect(load<u64>(p + TCB_SNDQ)).toBe(0);
    expect(load<u64>(p + TCB_RCVQ + 8)).toBe(0);
    // no 0xa5 byte survives anywhere in the fixed part
    for (let i: usize = 0; i < TCB_TIMERS; i++) expect(load<u8>(p + i)).not.toBe(0xa5);
    const kinds: u8[] = [TIMER_KIND_RETRANSMIT, TIMER_KIND_DELAYED_ACK, TIMER_KIND_KEEPALIVE, TIMER_KIND_TIME_WAIT];
    const offs: usize[] = [TCB_TIMER_RTX, TCB_TIMER_DELACK, TCB_TIMER_KEEP, TCB_TIMER_TW];
    for (let i = 0; i < 4; i++) {
      const n = changetype<TimerNode>(p + offs[i]);
      expect(n.level).toBe(LEVEL_IDLE);
      expect(n.owner).toBe(0x00010007);
      expect(n.kind).toBe(kinds[i]);
      expect(n.next).toBe(0);
      expect(tcbOfTimer(p + offs[i])).toBe(p);
    }
    expect(tcbActiveTimers(p)).toBe(0);
  });
  test("tcbCancelTimers unlinks every scheduled node", () => {
    initTimers(true, 0, noop);
    const p = heap.alloc(TCB_SIZE);
    tcbReset(p, 5);
    timers.schedule(p + TCB_TIMER_RTX, 200);
    timers.schedule(p + TCB_TIMER_DELACK, 40);
    timers.schedule(p + TCB_TIMER_KEEP, 7200000);
    timers.schedule(p + TCB_TIMER_TW, 60000);
    expect(tcbActiveTimers(p)).toBe(4);
    expect(timers.active).toBe(4);
    tcbCancelTimers(p);
    expect(tcbActiveTimers(p)).toBe(0);
    expect(timers.active).toBe(0);
  });
});
