// The second round of TCP fixes through the REAL module (pool, table, chunk queues,
// timer wheel, TIME-WAIT records, event ring): crafted frames go straight into one
// stack's RX ring and every frame it sends is parsed back (the approach of
// break-tcp.test.ts; a compact copy of its rig, since importing that file would run its
// tests). Then the listener-close case once more through the net API between two stacks.
// Each case failed before its fix:
//   - data beyond a FIN held beyond a hole (RFC 9293 §3.4, §3.10.7.4);
//   - close() during a simultaneous open (RFC 9293 §3.10.4);
//   - a listener closed with handshakes in flight (RFC 9293 §3.10.7.1, §3.5.2);
//   - the RTO after a retransmitted SYN (RFC 6298 §5.7).
// Deterministic: virtual time only, fixed secrets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { F, u32, Rig, type Seg } from "../helpers/tcp-rig.ts";
import { coreSkipReason, duo, ADDR_B } from "./stack-kit.ts";

const EV = { ACCEPTED: 1, CONNECTED: 2, READABLE: 3, WRITABLE: 4, PEER_CLOSED: 5, CLOSED: 6, ERROR: 7 } as const;
const ST = { CLOSED: 0, LISTEN: 1, SYN_SENT: 2, SYN_RECEIVED: 3, ESTABLISHED: 4, FIN_WAIT_1: 5, FIN_WAIT_2: 6, CLOSE_WAIT: 7, CLOSING: 8, LAST_ACK: 9, TIME_WAIT: 10, GONE: 0xff } as const;
const MSS1460 = [2, 4, 0x05, 0xb4];


let nextPort = 42000;
const freshPort = (): number => ++nextPort;

interface Conn { sport: number; irs: number; iss: number; h: number; sndNxtA: number; rcvNxtA: number }

function listen(r: Rig, port = 80, backlog = 16): number {
  const l = r.core.listen(port, 0, backlog);
  assert.ok(l !== 0, `listen ${port}: ${r.core.lastError()}`);
  return l;
}

/** SYN from A; returns B's SYN,ACK (the child is half-open). */
function syn(r: Rig, sport: number, irs: number): Seg {
  r.take();
  r.seg({ sport, dport: 80, seq: irs, flags: F.SYN, opts: MSS1460 });
  const sa = r.take(sport);
  assert.equal(sa.length, 1, "one SYN,ACK");
  assert.equal(sa[0].flags, F.SYN | F.ACK);
  assert.equal(sa[0].ack, u32(irs + 1));
  return sa[0];
}

/** Three-way handshake from A and accept (accept: false leaves the child in the accept queue). */
function handshake(r: Rig, l: number, accept = true): Conn {
  const sport = freshPort();
  const irs = u32(0x10000000 + sport * 7919);
  const sa = syn(r, sport, irs);
  r.seg({ sport, dport: 80, seq: irs + 1, ack: u32(sa.seq + 1), flags: F.ACK });
  let h = 0;
  if (accept) {
    assert.ok(r.takeEvents().some((e) => e.type === EV.ACCEPTED && e.handle === l), "EV_ACCEPTED");
    h = r.core.accept(l);
    assert.ok(h !== 0, `accept: ${r.core.lastError()}`);
  }
  return { sport, irs, iss: sa.seq, h, sndNxtA: u32(irs + 1), rcvNxtA: u32(sa.seq + 1) };
}

function readAll(r: Rig, h: number): { bytes: number[]; eof: boolean } {
  const out: number[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = r.core.recvInto(h, buf);
    if (n > 0) { for (let i = 0; i < n; i++) out.push(buf[i]); continue; }
    return { bytes: out, eof: n === 0 };
  }
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

/** Everything but `listeners` listeners gone: endpoints, table entries, chunks, timers. */
function assertBaseline(r: Rig, listeners: number): void {
  const g = r.gauges();
  const what = JSON.stringify(g);
  assert.equal(g.connections, 0, `connections ${what}`);
  assert.equal(g.syncache, 0, `syncache ${what}`);
  assert.equal(g.endpoints, listeners, `endpoints ${what}`);
  assert.equal(g.tableEntries, listeners, `table entries ${what}`);
  assert.equal(g.chunksInUse, 0, `chunks ${what}`);
  assert.equal(g.timeWait, 0, `TIME-WAIT ${what}`);
}

test("FIN beyond a hole, then data beyond that FIN, then the hole (RFC 9293 §3.4, §3.10.7.4): 200 bytes, EOF, CLOSE-WAIT, ACK R+201; the record goes after close", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const r = await Rig.make();
  const l = listen(r);
  const c = handshake(r, l);
  const R = c.sndNxtA;
  const P = pattern(300);
  r.seg({ sport: c.sport, dport: 80, seq: u32(R + 100), ack: c.rcvNxtA, flags: F.ACK | F.FIN, data: P.subarray(100, 200) });
  r.seg({ sport: c.sport, dport: 80, seq: u32(R + 200), ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: P.subarray(200, 300) });
  assert.deepEqual(r.take(c.sport).map((s) => u32(s.ack - R)), [0, 0], "duplicate ACKs: nothing beyond the FIN is held");
  r.seg({ sport: c.sport, dport: 80, seq: R, ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: P.subarray(0, 100) });
  r.advance(100);
  const acks = r.take(c.sport);
  assert.equal(u32(acks[acks.length - 1].ack - R), 201, "ACK R+201");
  const got = readAll(r, c.h);
  assert.deepEqual(got.bytes, [...P.subarray(0, 200)], "exactly the 200 bytes before the FIN");
  assert.equal(got.eof, true, "then end of stream");
  assert.equal(r.core.state(c.h), ST.CLOSE_WAIT);
  assert.ok(r.takeEvents().some((e) => e.type === EV.PEER_CLOSED && e.handle === c.h));
  // LAST-ACK → CLOSED: B's FIN acknowledged frees everything.
  assert.equal(r.core.close(c.h), 0);
  r.pump();
  const fin = r.take(c.sport).find((s) => s.flags & F.FIN);
  assert.ok(fin, "B's FIN");
  r.seg({ sport: c.sport, dport: 80, seq: u32(R + 201), ack: u32(fin.seq + 1), flags: F.ACK });
  r.advance(100);
  assertBaseline(r, 1);
});

test("close() during a simultaneous open (RFC 9293 §3.10.4): the final ACK → FIN-WAIT-1 and the FIN; FIN-WAIT-2; the peer's FIN → a TIME-WAIT record; then nothing left", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const r = await Rig.make();
  const h = r.core.connect("198.18.0.1", 7100);
  assert.ok(h !== 0, `connect: ${r.core.lastError()}`);
  r.pump();
  const s0 = r.take().find((s) => s.flags === F.SYN);
  assert.ok(s0, "B's SYN");
  const port = s0.sport, iss = s0.seq;
  // A's SYN crosses B's: simultaneous open, B → SYN-RECEIVED and a SYN,ACK.
  r.seg({ sport: 7100, dport: port, seq: 9000, flags: F.SYN, opts: MSS1460 });
  assert.equal(r.core.state(h), ST.SYN_RECEIVED);
  assert.ok(r.take(7100).some((s) => s.flags === (F.SYN | F.ACK) && s.seq === iss));
  assert.equal(r.core.close(h), 0);
  r.pump();
  assert.equal(r.take(7100).length, 0, "the FIN waits for ESTABLISHED");
  r.seg({ sport: 7100, dport: port, seq: 9001, ack: u32(iss + 1), flags: F.ACK });
  const fin = r.take(7100).find((s) => s.flags & F.FIN);
  assert.ok(fin, "FIN once the handshake completes");
  assert.equal(fin.seq, u32(iss + 1));
  r.seg({ sport: 7100, dport: port, seq: 9001, ack: u32(iss + 2), flags: F.ACK });
  r.seg({ sport: 7100, dport: port, seq: 9001, ack: u32(iss + 2), flags: F.ACK | F.FIN });
  const last = r.take(7100);
  assert.equal(last[last.length - 1].ack, 9002, "the peer's FIN acknowledged");
  let g = r.gauges();
  assert.equal(g.timeWait, 1, `a TIME-WAIT record ${JSON.stringify(g)}`);
  assert.equal(g.endpoints, 0, `the Tcb is gone ${JSON.stringify(g)}`);
  r.advance(2500); // timeWaitMs 2000
  assertBaseline(r, 0);
});

test("a listener closed with one child half-open and one in the accept queue: both reset (RST,ACK), freed at once; later ACK/data for them get a RST; nothing leaks", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const r = await Rig.make();
  const l = listen(r);
  const queued = handshake(r, l, false); // ESTABLISHED, not accepted
  const sport = freshPort(), irs = 777;
  const sa = syn(r, sport, irs); // half-open
  let g = r.gauges();
  assert.equal(g.syncache, 2, `two children ${JSON.stringify(g)}`);
  r.takeEvents();
  assert.equal(r.core.close(l), 0);
  r.pump();
  const rsts = r.take();
  const rstHalf = rsts.find((s) => s.dport === sport);
  assert.ok(rstHalf && rstHalf.flags === (F.RST | F.ACK), "the half-open child is reset");
  assert.equal(rstHalf.seq, u32(sa.seq + 1), "at SND.NXT = ISS+1: acceptable to the peer's RCV.NXT");
  assert.equal(rstHalf.ack, irs + 1);
  assert.ok(rsts.some((s) => s.dport === queued.sport && (s.flags & F.RST)), "the queued child is reset");
  assertBaseline(r, 0);
  assert.equal(r.gauges().listeners, 0);
  // The handshake's final ACK and data arrive later: closed port, RST (RFC 9293 §3.10.7.1).
  r.seg({ sport, dport: 80, seq: irs + 1, ack: u32(sa.seq + 1), flags: F.ACK });
  const a1 = r.take(sport);
  assert.equal(a1.length, 1);
  assert.equal(a1[0].flags, F.RST);
  assert.equal(a1[0].seq, u32(sa.seq + 1));
  r.seg({ sport, dport: 80, seq: irs + 1, ack: u32(sa.seq + 1), flags: F.ACK | F.PSH, data: pattern(100) });
  assert.equal(r.take(sport)[0]?.flags, F.RST);
  assert.equal(r.takeEvents().length, 0, "no events for anything of the closed listener");
  r.advance(3_600_000);
  assertBaseline(r, 0);
  // The port is free and works again.
  const l2 = listen(r);
  const c = handshake(r, l2);
  r.seg({ sport: c.sport, dport: 80, seq: c.sndNxtA, ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: pattern(10) });
  r.advance(100);
  assert.deepEqual(readAll(r, c.h).bytes, [...pattern(10)]);
});

test("RFC 6298 §5.7 through the module: SYN retransmitted, then SYN,ACK → the first data retransmission comes after 3 s, not 1 s", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const r = await Rig.make();
  const h = r.core.connect("198.18.0.1", 7100);
  r.pump();
  assert.equal(r.take(7100).filter((s) => s.flags === F.SYN).length, 1);
  r.advance(1000);
  const syns = r.take(7100).filter((s) => s.flags === F.SYN);
  assert.equal(syns.length, 1, "the SYN retransmitted after 1 s");
  r.seg({ sport: 7100, dport: syns[0].sport, seq: 500, ack: u32(syns[0].seq + 1), flags: F.SYN | F.ACK, opts: MSS1460 });
  assert.equal(r.core.state(h), ST.ESTABLISHED);
  r.take();
  assert.equal(r.core.setOption(h, 1, 1), 0);
  assert.equal(r.core.send(h, pattern(100)), 100);
  r.pump();
  assert.equal(r.take(7100).filter((s) => s.len === 100).length, 1, "the data went out");
  const t0 = r.now;
  let firstMs = -1;
  for (let i = 0; i < 100 && firstMs < 0; i++) {
    r.advance(100);
    if (r.take(7100).some((s) => s.len === 100)) firstMs = Number(r.now - t0) / 1000;
  }
  assert.equal(firstMs, 3000);
  assert.equal(r.core.abort(h), 0);
});

test("net API: server.close() while a client's handshake is in flight (10 ms wire delay): the client gets ECONNRESET, B frees everything", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const d = await duo({ faults: { delayUs: 10_000 } });
  try {
    let connections = 0;
    const srv = d.b.net.createServer(() => { connections++; });
    let listening = false;
    srv.listen(7, () => { listening = true; });
    await d.pump.run({ until: () => listening, maxMs: 100 });
    const c = d.a.net.connect(7, ADDR_B);
    let err: string | null = null;
    c.on("connect", () => { c.write("hello"); });
    c.on("error", (e: NodeJS.ErrnoException) => { err = e.code ?? String(e); });
    // The SYN reaches B and B answers; close the server before the final ACK arrives.
    const r1 = await d.pump.run({ until: () => d.b.core.gauges().syncache >= 1, maxMs: 100 });
    assert.equal(r1.reason, "until", "B holds the half-open child");
    let closed = false;
    srv.close(() => { closed = true; });
    const r2 = await d.pump.run({ until: () => c.destroyed && closed, maxMs: 10_000 });
    assert.equal(r2.reason, "until", `client destroyed ${c.destroyed}, server closed ${closed}`);
    assert.equal(err, "ECONNRESET");
    assert.equal(connections, 0);
    await d.pump.run({ maxMs: 1000 });
    const g = d.b.core.gauges();
    const what = JSON.stringify(g);
    assert.equal(g.endpoints, 0, what);
    assert.equal(g.syncache, 0, what);
    assert.equal(g.connections, 0, what);
    assert.equal(g.tableEntries, 0, what);
    assert.equal(g.chunksInUse, 0, what);
  } finally {
    await d.close();
  }
});


test("ACKs for zero-length out-of-window segments: at most one per 500 ms per connection (Linux tcp_oow_rate_limited); data segments always get theirs", async (t) => {
  const skip = await coreSkipReason();
  if (skip) return t.skip(skip);
  const r = await Rig.make();
  const l = listen(r);
  const c = handshake(r, l);
  const acksTo = (): number => r.take(c.sport).filter((s) => s.len === 0 && s.flags === F.ACK).length;
  // 20 pure ACKs far outside the receive window at one instant: one ACK back, not 20.
  for (let i = 0; i < 20; i++) r.seg({ sport: c.sport, dport: 80, seq: u32(c.sndNxtA + 0x40000000), ack: c.rcvNxtA, flags: F.ACK });
  assert.equal(acksTo(), 1, "one ACK answers a burst of out-of-window pure ACKs");
  r.advance(100);
  r.seg({ sport: c.sport, dport: 80, seq: u32(c.sndNxtA + 0x40000000), ack: c.rcvNxtA, flags: F.ACK });
  assert.equal(acksTo(), 0, "still inside the 500 ms");
  r.advance(450);
  r.seg({ sport: c.sport, dport: 80, seq: u32(c.sndNxtA + 0x40000000), ack: c.rcvNxtA, flags: F.ACK });
  assert.equal(acksTo(), 1, "the next one after 500 ms");
  // Old data (a retransmission of what we have): every one is answered, no limit.
  r.seg({ sport: c.sport, dport: 80, seq: c.sndNxtA, ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: pattern(10) });
  r.advance(1);
  r.take();
  for (let i = 0; i < 3; i++) r.seg({ sport: c.sport, dport: 80, seq: c.sndNxtA, ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: pattern(10) });
  assert.equal(acksTo(), 3, "each duplicate data segment gets its ACK");
  // The connection still works.
  r.seg({ sport: c.sport, dport: 80, seq: u32(c.sndNxtA + 10), ack: c.rcvNxtA, flags: F.ACK | F.PSH, data: pattern(5) });
  assert.equal(readAll(r, c.h).bytes.length, 15);
});
