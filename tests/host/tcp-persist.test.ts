// Zero windows through the REAL module: crafted frames go straight into one stack's
// RX ring, the segments it sends are read back from its TX ring (the raw-frame rig
// of break-tcp.test.ts, cut down to what these cases need). The test side plays A.
//   - persist probes to a silent peer end in ETIMEDOUT (RFC 9293 §3.8.6.1, Linux
//     tcp_probe_timer with tcp_retries2), and a peer answering them keeps the
//     connection (RFC 1122 §4.2.2.17);
//   - an orphan behind a zero window (close() with data queued) is aborted after
//     orphanRetries probes, answered or not, and gives back its endpoint and chunks;
//   - a window shrunk to zero with data in flight, every retransmission answered with
//     <ACK=SND.UNA, WIN=0>: no ETIMEDOUT (it used to come after ~21 min).
// Deterministic: virtual time only, fixed secret.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ERRORS, type StackConfig } from "../../host/abi.ts";
import { F, u32, Rig, type Seg } from "../helpers/tcp-rig.ts";

const EV = { ACCEPTED: 1, ERROR: 7 } as const;
const ST = { CLOSED: 0, ESTABLISHED: 4, FIN_WAIT_1: 5 } as const;

/** This file's module sizes (smaller than the rig's defaults). */
const SIZES: StackConfig = {
  maxConnections: 16, maxListeners: 4, syncacheEntries: 16, maxTimeWait: 8, chunkCount: 256,
  eventRingSize: 256, shards: 4,
};

interface Conn { sport: number; h: number; seqA: number; ackA: number }

let nextPort = 45000;

/** Three-way handshake from A, the last ACK with window `ackWin`; accepts the child. */
function handshake(r: Rig, l: number, ackWin: number): Conn {
  const sport = ++nextPort;
  const irs = u32(0x20000000 + sport * 7919);
  r.seg({ sport, dport: 80, seq: irs, flags: F.SYN, opts: [2, 4, 0x05, 0xb4] });
  const sa = r.take().filter((s) => s.dport === sport);
  assert.equal(sa.length, 1);
  assert.equal(sa[0].flags, F.SYN | F.ACK);
  r.seg({ sport, dport: 80, seq: irs + 1, ack: sa[0].seq + 1, flags: F.ACK, win: ackWin });
  assert.ok(r.takeEvents().some((e) => e.type === EV.ACCEPTED && e.handle === l));
  const h = r.core.accept(l);
  assert.ok(h !== 0);
  assert.equal(r.core.state(h), ST.ESTABLISHED);
  assert.equal(r.core.setOption(h, 1, 1), 0); // noDelay
  return { sport, h, seqA: u32(irs + 1), ackA: u32(sa[0].seq + 1) };
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 131 + i * 7) & 0xff;
  return b;
}

/** <ACK=c.ackA, WIN=win> from A: nothing new acknowledged. */
function ackFromA(r: Rig, c: Conn, win: number): void {
  r.seg({ sport: c.sport, dport: 80, seq: c.seqA, ack: c.ackA, flags: F.ACK, win });
}

/**
 * `ms` of virtual time in 1 s steps; with `answer`, every segment B sends is answered
 * at once with <ACK=SND.UNA, WIN=0>. Returns what B sent.
 */
function run(r: Rig, c: Conn, ms: number, answer: boolean): Seg[] {
  const all: Seg[] = [];
  for (let t = 0; t < ms; t += 1000) {
    r.advance(1000);
    const out = r.take().filter((s) => s.dport === c.sport);
    all.push(...out);
    if (answer && out.some((s) => (s.flags & F.RST) === 0)) ackFromA(r, c, 0);
  }
  return all;
}

function assertBaseline(r: Rig): void {
  const g = r.core.gauges();
  assert.equal(g.connections, 0, `connections ${JSON.stringify(g)}`);
  assert.equal(g.chunksInUse, 0, `chunks ${JSON.stringify(g)}`);
  assert.equal(g.endpoints, 1, `endpoints (the listener only) ${JSON.stringify(g)}`);
  assert.equal(g.tableEntries, 1, `table ${JSON.stringify(g)}`);
}

/** A's side of a bulk receive: in-order data kept, every batch ACKed with `win`. */
function receiveAll(r: Rig, c: Conn, total: number, win: number): number[] {
  const got: number[] = [];
  for (let step = 0; step < 4000 && got.length < total; step++) {
    const segs = r.take().filter((s) => s.dport === c.sport && s.len > 0);
    if (segs.length === 0) { r.advance(50); continue; }
    for (const s of segs) {
      if (s.seq === c.ackA) { got.push(...s.data); c.ackA = u32(c.ackA + s.len); }
    }
    ackFromA(r, c, win);
  }
  return got;
}

test("persist to a silent peer: ETIMEDOUT with a RST after maxRetries unanswered probes; close() then frees everything", async () => {
  const r = await Rig.make({ ...SIZES, maxRetries: 6 });
  const l = r.core.listen(80, 0, 8);
  const c = handshake(r, l, 0);
  assert.equal(r.core.send(c.h, pattern(5000, 1)), 5000);
  r.pump();
  assert.equal(r.take().filter((s) => s.len > 0).length, 0, "nothing sent into the zero window");
  const timeouts = r.core.stats().tcp_timeouts;
  // probes at 1, 3, 7, 15, 31, 63 s (RTO 1 s backing off); the abort at 127 s
  let out = run(r, c, 126_000, false);
  assert.equal(out.length, 6, "six probes");
  for (const s of out) assert.ok(s.len === 0 && s.seq === u32(c.ackA - 1) && s.flags === F.ACK, "<SEQ=SND.UNA−1><CTL=ACK>");
  assert.equal(r.core.state(c.h), ST.ESTABLISHED);
  out = run(r, c, 2000, false);
  assert.ok(out.some((s) => s.flags & F.RST), "RST at the end");
  const err = r.takeEvents().find((e) => e.type === EV.ERROR && e.handle === c.h);
  assert.ok(err && err.arg0 === ERRORS.E_TIMEDOUT, "ETIMEDOUT");
  assert.equal(r.core.state(c.h), ST.CLOSED);
  assert.equal(r.core.stats().tcp_timeouts, timeouts + 1n);
  assert.equal(r.core.gauges().chunksInUse, 0, "the queued data is released");
  assert.equal(r.core.close(c.h), 0);
  r.advance(1000);
  assertBaseline(r);
});

test("persist, RFC 1122 §4.2.2.17: a peer answering every probe with a zero window keeps the connection for 3 hours (maxRetries 3); then every byte arrives", async () => {
  const r = await Rig.make({ ...SIZES, maxRetries: 3 });
  const l = r.core.listen(80, 0, 8);
  const c = handshake(r, l, 0);
  const src = pattern(5000, 2);
  assert.equal(r.core.send(c.h, src), 5000);
  r.pump();
  const out = run(r, c, 3 * 3600_000, true);
  assert.ok(out.length > 80 && out.length < 100, `probes back off to one per rtoMaxMs (${out.length})`);
  assert.ok(!out.some((s) => s.flags & F.RST));
  assert.equal(r.core.state(c.h), ST.ESTABLISHED);
  assert.ok(!r.takeEvents().some((e) => e.type === EV.ERROR));
  ackFromA(r, c, 65535);
  assert.deepEqual(Uint8Array.from(receiveAll(r, c, 5000, 65535)), src);
  r.core.abort(c.h);
  r.advance(1000);
  assertBaseline(r);
});

for (const answer of [false, true]) {
  test(`orphan behind a zero window (close() with 8000 bytes queued), peer ${answer ? "answering every probe" : "silent"}: aborted after orphanRetries (8) probes, endpoint and chunks back`, async () => {
    const r = await Rig.make(SIZES);
    const l = r.core.listen(80, 0, 8);
    const c = handshake(r, l, 0);
    assert.equal(r.core.send(c.h, pattern(8000, 3)), 8000);
    assert.equal(r.core.close(c.h), 0);
    r.pump();
    assert.ok(r.core.gauges().chunksInUse > 0);
    assert.equal(r.core.gauges().connections, 1);
    // probes at 1, 3, 7, 15, 31, 63, 127, 247 s; the abort at 367 s
    let out = run(r, c, 366_000, answer);
    assert.equal(out.length, 8, "eight probes");
    assert.equal(r.core.gauges().connections, 1);
    out = run(r, c, 2000, answer);
    assert.ok(out.some((s) => s.flags & F.RST), "RST at the end");
    assert.ok(!r.takeEvents().some((e) => e.type === EV.ERROR), "no event for a closed handle");
    assertBaseline(r);
    // before the fix the orphan was still there hours later
    r.advance(3600_000);
    assert.equal(r.take().filter((s) => s.dport === c.sport).length, 0);
  });
}

test("window shrunk to 0 with data in flight, the peer answers every segment with <ACK=SND.UNA, WIN=0>: no ETIMEDOUT in 60 min; then the window opens and the stream arrives intact", async () => {
  const r = await Rig.make(SIZES);
  const l = r.core.listen(80, 0, 8);
  const c = handshake(r, l, 3000);
  const src = pattern(20000, 5);
  assert.equal(r.core.send(c.h, src), 20000);
  r.pump();
  const first = r.take().filter((s) => s.dport === c.sport && s.len > 0);
  assert.ok(first.length >= 2, "data in flight");
  ackFromA(r, c, 0); // takes the window back, acknowledges nothing
  const timeouts = r.core.stats().tcp_timeouts;
  const out = run(r, c, 3600_000, true);
  assert.ok(!out.some((s) => s.flags & F.RST), "no RST");
  assert.ok(!r.takeEvents().some((e) => e.type === EV.ERROR), "no ETIMEDOUT");
  assert.equal(r.core.state(c.h), ST.ESTABLISHED);
  assert.equal(r.core.stats().tcp_timeouts, timeouts);
  assert.ok(out.length < 60, `backed off to one retransmission per rtoMaxMs (${out.length})`);
  for (const s of out) assert.equal(s.seq, c.ackA, "only SND.UNA is retransmitted");
  ackFromA(r, c, 65535);
  assert.deepEqual(Uint8Array.from(receiveAll(r, c, 20000, 65535)), src);
  r.core.abort(c.h);
  r.advance(1000);
  assertBaseline(r);
});
