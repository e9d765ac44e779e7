// Frame rings and the event ring: layout, full/empty, wraparound of the running
// counts across 2^32, bad lengths and a corrupt head from the host.

import {
  ringsInit, txAcquire, txCommit, txFrameCapacity, rxPoll, setRxHandler, rxPending, eventsInit,
  eventPush, RX_RING, TX_RING, EVENT_RING, ringSlot, ringHead, ringTail, MIN_SLOT_SIZE, txFull,
} from "../../assembly/mem/rings";
import {
  RING_HEAD_OFF, RING_TAIL_OFF, RING_DROPPED_OFF, SLOT_HDR_SIZE, SLOT_LEN_OFF, SLOT_TIME_OFF,
  EVENT_TYPE_OFF, EVENT_HANDLE_OFF, EVENT_ARG0_OFF, EVENT_ARG1_OFF, EVENT_SIZE,
} from "../../assembly/abi";
import {
  OK, E_CONFIG_ZERO, E_CONFIG_NOT_POW2, E_CONFIG_SLOT_SIZE, E_EVENT_RING_FULL, E_TX_RING_FULL,
  E_CONFIG_TOO_LARGE,
} from "../../assembly/errors";
import {
  counter, countersReset, C_TX_RING_FULL, C_TX_COMMIT_INVALID, C_RX_BAD_LENGTH, C_RX_RING_CORRUPT,
  C_RX_FRAMES, C_EVENT_RING_FULL, C_TX_FRAMES,
} from "../../assembly/mem/stats";

// What the RX handler saw (spec-side bookkeeping; the spec may allocate).
const seenLen = new StaticArray<u32>(64);
const seenTime = new StaticArray<u64>(64);
const seenFirst = new StaticArray<u8>(64);
let seen: i32 = 0;

function recordFrame(frame: usize, len: u32, timeUs: u64): void {
  if (seen < 64) {
    seenLen[seen] = len;
    seenTime[seen] = timeUs;
    seenFirst[seen] = load<u8>(frame);
  }
  seen++;
}

/** The host's side of the RX ring: write one frame at head and publish it. */
function hostPutRx(len: u32, first: u8, timeUs: u64): void {
  const head = ringHead(RX_RING);
  const slot = ringSlot(RX_RING, head);
  store<u32>(slot + SLOT_LEN_OFF, len);
  store<u64>(slot + SLOT_TIME_OFF, timeUs);
  store<u8>(slot + SLOT_HDR_SIZE, first);
  store<u32>(RX_RING + RING_HEAD_OFF, head + 1);
}

/** The host's side of the TX ring: take one frame at tail, return its length. */
function hostTakeTx(): u32 {
  const tail = ringTail(TX_RING);
  const slot = ringSlot(TX_RING, tail);
  const len = load<u32>(slot + SLOT_LEN_OFF);
  store<u32>(TX_RING + RING_TAIL_OFF, tail + 1);
  return len;
}

describe("ringsInit", () => {
  test("rejects bad parameters with distinct codes and carves nothing", () => {
    expect(ringsInit(0, 8, 2048)).toBe(E_CONFIG_ZERO);
    expect(ringsInit(8, 0, 2048)).toBe(E_CONFIG_ZERO);
    expect(ringsInit(8, 8, 0)).toBe(E_CONFIG_ZERO);
    expect(ringsInit(6, 8, 2048)).toBe(E_CONFIG_NOT_POW2);
    expect(ringsInit(8, 12, 2048)).toBe(E_CONFIG_NOT_POW2);
    expect(ringsInit(8, 8, MIN_SLOT_SIZE - 8)).toBe(E_CONFIG_SLOT_SIZE);
    expect(ringsInit(8, 8, 65536 + 8)).toBe(E_CONFIG_SLOT_SIZE);
    expect(ringsInit(8, 8, 2044)).toBe(E_CONFIG_SLOT_SIZE);
    expect(ringsInit(1 << 21, 8, 2048)).toBe(E_CONFIG_TOO_LARGE);
    expect(txAcquire()).toBe(0, "no TX ring yet: nothing to acquire");
  });

  test("jumbo slots: 9000-byte frames fit in a 9216-byte slot", () => {
    expect(ringsInit(4, 4, 9216)).toBe(OK);
    expect(txFrameCapacity()).toBe(9216 - SLOT_HDR_SIZE);
    const buf = txAcquire();
    expect(buf).not.toBe(0);
    memory.fill(buf, 0xee, 9000);
    txCommit(buf, 9000);
    expect(ringHead(TX_RING)).toBe(1);
    expect(hostTakeTx()).toBe(9000);
  });
});

describe("TX ring", () => {
  test("acquire is idempotent until commit; full ring returns 0 and counts", () => {
    countersReset();
    expect(ringsInit(4, 4, 2048)).toBe(OK);
    const a = txAcquire();
    expect(txAcquire()).toBe(a, "second acquire without commit returns the same buffer");
    for (let i = 0; i < 4; i++) {
      const b = txAcquire();
      expect(b).not.toBe(0);
      store<u8>(b, <u8>i);
      txCommit(b, 60 + i);
    }
    expect(txAcquire()).toBe(0, "4 frames pending in a 4-slot ring");
    expect(txFull()).toBe(E_TX_RING_FULL);
    expect(counter(C_TX_RING_FULL)).toBe(1);
    expect(load<u32>(TX_RING + RING_DROPPED_OFF)).toBe(1);
    expect(hostTakeTx()).toBe(60);
    expect(txAcquire()).not.toBe(0, "one slot free again");
    expect(counter(C_TX_FRAMES)).toBe(4);
  });

  test("commit of a foreign buffer, a zero or oversize length is refused and counted", () => {
    countersReset();
    expect(ringsInit(4, 4, 2048)).toBe(OK);
    const b = txAcquire();
    txCommit(b + 16, 60);
    txCommit(b, 0);
    txCommit(b, txFrameCapacity() + 1);
    expect(counter(C_TX_COMMIT_INVALID)).toBe(3);
    expect(ringHead(TX_RING)).toBe(0, "nothing published");
    txCommit(b, txFrameCapacity());
    expect(ringHead(TX_RING)).toBe(1);
  });

  test("wraparound: running counts cross 2^32 with slots reused in order", () => {
    expect(ringsInit(4, 4, 2048)).toBe(OK);
    // Start both counts 3 below the u32 limit.
    store<u32>(TX_RING + RING_HEAD_OFF, u32.MAX_VALUE - 2);
    store<u32>(TX_RING + RING_TAIL_OFF, u32.MAX_VALUE - 2);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) {
        const b = txAcquire();
        expect(b).not.toBe(0);
        txCommit(b, <u32>(100 + round * 10 + i));
      }
      for (let i = 0; i < 3; i++) expect(hostTakeTx()).toBe(<u32>(100 + round * 10 + i));
    }
    expect(ringHead(TX_RING)).toBe(12, "(2^32 − 3) + 15 wraps to 12");
    expect(ringTail(TX_RING)).toBe(12);
  });
});

describe("RX ring", () => {
  test("frames reach the handler in order with their length and timestamp", () => {
    countersReset();
    expect(ringsInit(8, 8, 2048)).toBe(OK);
    seen = 0;
    setRxHandler(recordFrame);
    hostPutRx(60, 0xa1, 1000);
    hostPutRx(1514, 0xa2, 2000);
    hostPutRx(64, 0xa3, 3000);
    expect(rxPending()).toBe(3);
    expect(rxPoll(2)).toBe(2, "budget respected");
    expect(rxPoll(100)).toBe(1);
    expect(seen).toBe(3);
    expect(seenLen[1]).toBe(1514);
    expect(seenTime[2]).toBe(3000);
    expect(seenFirst[0]).toBe(0xa1);
    expect(counter(C_RX_FRAMES)).toBe(3);
    expect(rxPending()).toBe(0);
  });

  test("wraparound across 2^32 with a full ring each lap", () => {
    expect(ringsInit(8, 8, 2048)).toBe(OK);
    store<u32>(RX_RING + RING_HEAD_OFF, u32.MAX_VALUE - 5);
    store<u32>(RX_RING + RING_TAIL_OFF, u32.MAX_VALUE - 5);
    seen = 0;
    setRxHandler(recordFrame);
    for (let lap = 0; lap < 3; lap++) {
      for (let i = 0; i < 8; i++) hostPutRx(<u32>(60 + i), <u8>(lap * 8 + i), <u64>(lap * 8 + i));
      expect(rxPending()).toBe(8);
      expect(rxPoll(64)).toBe(8);
    }
    expect(seen).toBe(24);
    for (let i = 0; i < 24; i++) expect(seenTime[i]).toBe(<u64>i, "order kept across the wrap");
  });

  test("bad lengths are skipped and counted; a corrupt head never reads past the ring", () => {
    countersReset();
    expect(ringsInit(4, 4, 256)).toBe(OK);
    seen = 0;
    setRxHandler(recordFrame);
    hostPutRx(0, 1, 0);
    hostPutRx(256 - 16 + 1, 2, 0);
    hostPutRx(256 - 16, 3, 0);
    expect(rxPoll(10)).toBe(3);
    expect(counter(C_RX_BAD_LENGTH)).toBe(2);
    expect(seen).toBe(1);
    // The host claims a million frames in a 4-slot ring.
    store<u32>(RX_RING + RING_HEAD_OFF, ringTail(RX_RING) + 1000000);
    expect(rxPoll(1 << 30)).toBe(4, "one lap at most");
    expect(counter(C_RX_RING_CORRUPT)).toBe(1);
  });
});

describe("event ring", () => {
  test("records are written in the documented layout; full ring drops and counts", () => {
    countersReset();
    expect(eventsInit(0)).toBe(E_CONFIG_ZERO);
    expect(eventsInit(3)).toBe(E_CONFIG_NOT_POW2);
    expect(eventsInit(4)).toBe(OK);
    for (let i: u32 = 0; i < 4; i++) expect(eventPush(<u16>(i + 1), 0x400 + i, i * 2, i * 3)).toBe(OK);
    expect(eventPush(9, 9, 9, 9)).toBe(E_EVENT_RING_FULL);
    expect(counter(C_EVENT_RING_FULL)).toBe(1);
    expect(load<u32>(EVENT_RING + RING_DROPPED_OFF)).toBe(1);
    const e = ringSlot(EVENT_RING, 2);
    expect(load<u16>(e + EVENT_TYPE_OFF)).toBe(3);
    expect(load<u32>(e + EVENT_HANDLE_OFF)).toBe(0x402);
    expect(load<u32>(e + EVENT_ARG0_OFF)).toBe(4);
    expect(load<u32>(e + EVENT_ARG1_OFF)).toBe(6);
    expect(ringSlot(EVENT_RING, 1) + EVENT_SIZE).toBe(e);
    store<u32>(EVENT_RING + RING_TAIL_OFF, 4);
    expect(eventPush(5, 5, 5, 5)).toBe(OK, "drained: room again, wrapping to slot 0");
    expect(load<u16>(ringSlot(EVENT_RING, 4) + EVENT_TYPE_OFF)).toBe(5);
  });
});
