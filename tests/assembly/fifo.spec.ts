// Constant-delay timer queues (time/fifo.ts) inside the timer service (time/timers.ts),
// over both the wheel and the list: expiry order and exact ticks, restart (unlink +
// append), the lazily left head node, a delay change (order kept), moves between a
// queue and the wheel, reuse of a node's memory, and the service's counters.
import { Timers } from "../../assembly/time/timers";
import { TimerNode, TIMER_NODE_SIZE, timerInit, timerIsActive, TIMER_KIND_TEST, LEVEL_FIFO } from "../../assembly/time/timer";
import { FIFO_DELACK, FIFO_2MSL, FIFO_QUEUES } from "../../assembly/time/fifo";

const N = 8;
let base: usize = 0;
let T: Timers = changetype<Timers>(0);
const firedAt = new StaticArray<u64>(N);
const fires = new StaticArray<u32>(N);
const order = new StaticArray<i32>(64);
let orderLen = 0;
/** When ≥ 0: node `reappendFrom` re-appends node `reappendWhat` to the same queue from its handler. */
let reappendFrom = -1;
let reappendWhat = -1;

function node(i: i32): usize { return base + <usize>i * TIMER_NODE_SIZE; }

function onFire(p: usize): void {
  const i = <i32>((p - base) / TIMER_NODE_SIZE);
  firedAt[i] = T.now;
  fires[i]++;
  if (orderLen < 64) order[orderLen++] = i;
  if (i == reappendFrom) T.scheduleFifo(FIFO_DELACK, node(reappendWhat), 40);
}

function reset(useWheel: bool, start: u64): void {
  if (base == 0) base = heap.alloc(<usize>N * TIMER_NODE_SIZE);
  for (let i = 0; i < N; i++) { timerInit(node(i), TIMER_KIND_TEST, <u32>i); firedAt[i] = 0; fires[i] = 0; }
  orderLen = 0;
  reappendFrom = -1;
  reappendWhat = -1;
  T = new Timers(useWheel, start, onFire);
}

function each(f: (useWheel: bool) => void): void {
  f(true);
  f(false);
}

describe("constant-delay queues", () => {
  test("nodes fire in expiry order, each exactly `delay` after it was armed", () => {
    each((w: bool) => {
      reset(w, 1000);
      T.scheduleFifo(FIFO_DELACK, node(0), 40);
      T.tickTo(1005);
      T.scheduleFifo(FIFO_DELACK, node(1), 40);
      T.scheduleFifo(FIFO_DELACK, node(2), 40);
      expect(changetype<TimerNode>(node(1)).level).toBe(LEVEL_FIFO);
      expect(T.active).toBe(3); // the owners' timers; the head node is not one
      expect(T.fifoCount(FIFO_DELACK)).toBe(3);
      expect(T.tickTo(1039)).toBe(0);
      expect(fires[0]).toBe(0, "fired early");
      expect(T.tickTo(1040)).toBe(1);
      expect(firedAt[0]).toBe(1040);
      expect(T.tickTo(1044)).toBe(0);
      expect(T.tickTo(1045)).toBe(2);
      expect(firedAt[1]).toBe(1045);
      expect(firedAt[2]).toBe(1045);
      expect(order[0]).toBe(0); expect(order[1]).toBe(1); expect(order[2]).toBe(2);
      expect(T.active).toBe(0);
      expect(timerIsActive(T.fifoHeadNode(FIFO_DELACK))).toBe(false);
      expect(T.fifoScheduled).toBe(3);
      expect(T.fifoExpired).toBe(3);
      expect(T.fifoCancelled).toBe(0);
    });
  });

  test("restart is unlink + append: the node fires `delay` after the restart, behind the others", () => {
    each((w: bool) => {
      reset(w, 0);
      T.scheduleFifo(FIFO_2MSL, node(0), 100);
      T.tickTo(10);
      T.scheduleFifo(FIFO_2MSL, node(1), 100);
      T.tickTo(20);
      T.scheduleFifo(FIFO_2MSL, node(0), 100); // restart (a retransmitted FIN in TIME-WAIT)
      expect(T.fifoCancelled).toBe(1);
      T.tickTo(109);
      expect(fires[0]).toBe(0, "the restarted node fired at its old tick");
      T.tickTo(110);
      expect(fires[1]).toBe(1);
      T.tickTo(119);
      expect(fires[0]).toBe(0);
      T.tickTo(120);
      expect(fires[0]).toBe(1);
      expect(firedAt[0]).toBe(120);
      expect(order[0]).toBe(1); expect(order[1]).toBe(0);
    });
  });

  test("cancelling the head leaves the head node armed; it fires, pops nothing early, and re-arms for the new head", () => {
    each((w: bool) => {
      reset(w, 0);
      T.scheduleFifo(FIFO_DELACK, node(0), 40);
      T.tickTo(30);
      T.scheduleFifo(FIFO_DELACK, node(1), 40); // due at 70
      const ops = T.totalScheduled + T.totalCancelled;
      T.cancel(node(0));
      expect(timerIsActive(node(0))).toBe(false);
      expect(T.totalScheduled + T.totalCancelled).toBe(ops); // no wheel operation
      expect(timerIsActive(T.fifoHeadNode(FIFO_DELACK))).toBe(true);
      expect(T.active).toBe(1);
      T.tickTo(40); // the head node fires for the cancelled head
      expect(T.fifoHeadFires).toBe(1);
      expect(fires[0]).toBe(0);
      expect(fires[1]).toBe(0);
      expect(changetype<TimerNode>(T.fifoHeadNode(FIFO_DELACK)).expiresAt).toBe(70);
      T.tickTo(69);
      expect(fires[1]).toBe(0);
      T.tickTo(70);
      expect(firedAt[1]).toBe(70);
      expect(T.active).toBe(0);
    });
  });

  test("a shorter delay (configuration change) keeps the order: the node is placed by expiry and the head node moves earlier", () => {
    each((w: bool) => {
      reset(w, 0);
      T.scheduleFifo(FIFO_2MSL, node(0), 1000);
      T.scheduleFifo(FIFO_2MSL, node(1), 500);
      T.scheduleFifo(FIFO_2MSL, node(2), 10);
      T.scheduleFifo(FIFO_2MSL, node(3), 500); // tie with node 1: after it
      T.tickTo(2000);
      expect(firedAt[2]).toBe(10);
      expect(firedAt[1]).toBe(500);
      expect(firedAt[3]).toBe(500);
      expect(firedAt[0]).toBe(1000);
      expect(order[0]).toBe(2); expect(order[1]).toBe(1); expect(order[2]).toBe(3); expect(order[3]).toBe(0);
    });
  });

  test("a handler may append to the queue it fires from; delays clamp like the wheel's (0 → 1)", () => {
    each((w: bool) => {
      reset(w, 0);
      reappendFrom = 0;
      reappendWhat = 0; // node 0 re-arms itself every 40 ms
      T.scheduleFifo(FIFO_DELACK, node(0), 0);
      T.tickTo(1);
      expect(firedAt[0]).toBe(1);
      T.tickTo(121);
      expect(fires[0]).toBe(4); // 1, 41, 81, 121
      expect(firedAt[0]).toBe(121);
      expect(T.active).toBe(1);
    });
  });

  test("moves between a queue and the wheel, and an unknown queue, never corrupt either", () => {
    each((w: bool) => {
      reset(w, 0);
      T.scheduleFifo(FIFO_DELACK, node(0), 40);
      T.scheduleFifo(FIFO_DELACK, node(1), 40);
      T.schedule(node(0), 5); // out of its queue into the wheel
      expect(T.fifoCount(FIFO_DELACK)).toBe(1);
      T.scheduleFifo(FIFO_2MSL, node(1), 20); // from one queue to the other
      expect(T.fifoCount(FIFO_DELACK)).toBe(0);
      expect(T.fifoCount(FIFO_2MSL)).toBe(1);
      T.scheduleFifo(FIFO_QUEUES + 3, node(2), 7); // no such queue: the wheel takes it
      expect(changetype<TimerNode>(node(2)).level != LEVEL_FIFO).toBe(true);
      T.scheduleFifo(FIFO_2MSL, node(3), 30);
      T.schedule(node(3), 30); // and back to the wheel
      expect(T.active).toBe(4);
      T.tickTo(100);
      expect(firedAt[0]).toBe(5);
      expect(firedAt[1]).toBe(20);
      expect(firedAt[2]).toBe(7);
      expect(firedAt[3]).toBe(30);
      for (let i = 0; i < 4; i++) expect(fires[i]).toBe(1);
      expect(T.active).toBe(0);
    });
  });

  test("a node cancelled and its memory reused (a recycled record) fires once, for its new owner, at its new tick", () => {
    each((w: bool) => {
      reset(w, 0);
      T.scheduleFifo(FIFO_2MSL, node(0), 100);
      T.scheduleFifo(FIFO_2MSL, node(1), 100);
      T.tickTo(50);
      T.cancel(node(0)); // the record goes back to its slab
      timerInit(node(0), TIMER_KIND_TEST, 99); // and is reused
      T.scheduleFifo(FIFO_2MSL, node(0), 100);
      T.tickTo(149);
      expect(fires[0]).toBe(0);
      expect(fires[1]).toBe(1);
      T.tickTo(150);
      expect(fires[0]).toBe(1);
      expect(changetype<TimerNode>(node(0)).owner).toBe(99);
      T.tickTo(500);
      expect(fires[0]).toBe(1);
      expect(T.active).toBe(0);
    });
  });
});
