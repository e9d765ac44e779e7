// Issue 6 through two real modules (tests/helpers/pair.ts, host/driver.ts Pump, virtual
// time): bind conflicts → EADDRINUSE, reusePort groups, IT-TCP-3 against the compact
// TIME-WAIT records, reuseAddress over a TIME-WAIT port, twReuse on/off, reusePort
// spreading, and a churn whose TIME-WAIT count is far above maxConnections.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createPair, EV, ADDR_A, ADDR_B, type Node, type Pair } from "../helpers/pair.ts";
import { ERRORS, PORT_OPT } from "../../host/abi.ts";
import { errorCodeName } from "../../host/errors.ts";

const REQ = new Uint8Array(64).fill(0x51);
const REP = new Uint8Array(64).fill(0x52);

/** B serves every connection accepted on `l`: reply 64 bytes to 64, close on the peer's FIN. */
function serveAll(b: Node, l: number, onAccept?: (listener: number) => void): void {
  const buf = new Uint8Array(256);
  b.on(l, (e) => {
    if (e.type !== EV.ACCEPTED) return;
    for (let s = b.core.accept(l); s !== 0; s = b.core.accept(l)) {
      onAccept?.(l);
      b.on(s, (ev) => {
        if (ev.type === EV.READABLE) {
          if (b.core.recvInto(s, buf) === 64) b.core.send(s, REP);
        } else if (ev.type === EV.PEER_CLOSED || ev.type === EV.ERROR || ev.type === EV.CLOSED) {
          b.core.close(s);
          b.off(s);
        }
      });
    }
  });
}

/**
 * A opens one connection to B:80 (optional local port argument, options included),
 * sends 64 bytes, reads the reply and closes first. Resolves with the handle once A's
 * side is done (A closed; B closes on the FIN). Throws when connect refuses.
 */
async function oneExchange(p: Pair, localPortArg = 0): Promise<number> {
  const a = p.a;
  const c = a.core.connect(ADDR_B, 80, undefined, localPortArg);
  assert.ok(c !== 0, `connect refused: ${errorCodeName(a.core.lastError())}`);
  let done = false;
  const buf = new Uint8Array(256);
  a.on(c, (e) => {
    if (e.type === EV.CONNECTED) assert.equal(a.core.send(c, REQ), 64);
    else if (e.type === EV.READABLE) {
      if (a.core.recvInto(c, buf) === 64) { assert.equal(a.core.close(c), 0); a.off(c); done = true; }
    } else if (e.type === EV.ERROR) assert.fail(`connection error ${e.arg0}`);
  });
  a.kick();
  await p.run(() => done, "exchange");
  return c;
}

test("bind conflicts return EADDRINUSE; 0.0.0.0 and the address overlap; reusePort shares a port", async () => {
  const p = await createPair({});
  const b = p.b.core;
  const l1 = b.listen(80);
  assert.ok(l1 !== 0);
  assert.equal(b.listen(80), 0);
  assert.equal(b.lastError(), ERRORS.E_ADDR_IN_USE);
  assert.equal(errorCodeName(b.lastError()), "EADDRINUSE");
  assert.equal(b.listen(80, ADDR_B), 0, "A:80 overlaps 0.0.0.0:80 (review: listen runs the bind check)");
  assert.equal(b.lastError(), ERRORS.E_ADDR_IN_USE);
  assert.equal(b.listen(80 | PORT_OPT.REUSE_PORT, ADDR_B), 0, "the wildcard did not set reusePort");
  const g1 = b.listen(81 | PORT_OPT.REUSE_PORT);
  const g2 = b.listen(81 | PORT_OPT.REUSE_PORT, ADDR_B);
  const g3 = b.listen(81 | PORT_OPT.REUSE_PORT);
  assert.ok(g1 !== 0 && g2 !== 0 && g3 !== 0, "a reusePort group");
  assert.equal(b.listen(81), 0, "joining without reusePort");
  assert.equal(b.lastError(), ERRORS.E_ADDR_IN_USE);
  assert.equal(b.listen(82 | 0x0001_0000), 0, "bits 16..23 of the port argument");
  assert.equal(b.lastError(), ERRORS.E_BAD_ARGUMENT);
  assert.equal(b.listen(82 | PORT_OPT.TW_REUSE), 0, "twReuse is a connect option");
  assert.equal(b.lastError(), ERRORS.E_BAD_ARGUMENT);
  assert.ok(b.stats().bindConflict >= 4n, "bind conflicts are counted");
  for (const h of [l1, g1, g2, g3]) assert.equal(b.close(h), 0);
  await p.advance(10);
  assert.equal(b.gauges().tableEntries, 0);
  await p.close();
});

test("IT-TCP-3 on compact records; reuseAddress binds over the TIME-WAIT port; nothing left afterwards", async () => {
  const TW_MS = 3000;
  const p = await createPair({ config: { timeWaitMs: TW_MS } });
  const { a, b } = p;
  const l = b.core.listen(80);
  serveAll(b, l);
  const baseA = a.core.gauges();
  await oneExchange(p, 5000);
  await p.run(() => a.core.gauges().timeWait === 1 && b.core.gauges().connections === 0, "A in TIME-WAIT, B closed");
  const g = a.core.gauges();
  assert.equal(g.endpoints, 0, "A's Tcb went back to the pool");
  assert.equal(g.tableEntries, 1, "the record's entry");
  assert.ok(g.timeWaitBytes > 0 && g.timeWaitBytes <= 104, `bytes per TIME-WAIT: ${g.timeWaitBytes}`);
  assert.equal(g.timersActive, g.arpEntries + 1, "one timer: the record's");
  // The port is held by TIME-WAIT: a plain bind fails, reuseAddress binds.
  assert.equal(a.core.listen(5000), 0);
  assert.equal(a.core.lastError(), ERRORS.E_ADDR_IN_USE);
  assert.equal(a.core.connect(ADDR_B, 81, undefined, 5000), 0);
  assert.equal(a.core.lastError(), ERRORS.E_ADDR_IN_USE);
  const l2 = a.core.listen(5000 | PORT_OPT.REUSE_ADDR);
  assert.ok(l2 !== 0, "reuseAddress over TIME-WAIT");
  assert.equal(a.core.close(l2), 0);
  // The exact 4-tuple stays taken without twReuse.
  assert.equal(a.core.connect(ADDR_B, 80, undefined, 5000 | PORT_OPT.REUSE_ADDR), 0);
  assert.equal(a.core.lastError(), ERRORS.E_ADDR_IN_USE);
  // A different destination on the same port is fine with reuseAddress.
  const other = a.core.connect(ADDR_B, 81, undefined, 5000 | PORT_OPT.REUSE_ADDR);
  assert.ok(other !== 0);
  a.core.abort(other);
  await p.advance(TW_MS - 100);
  assert.equal(a.core.gauges().timeWait, 1, "still in TIME-WAIT before timeWaitMs");
  await p.advance(200);
  const e = a.core.gauges();
  assert.equal(e.timeWait, 0, "TIME-WAIT over");
  assert.equal(e.twExpired, 1);
  assert.equal(e.timeWaitBytes, 0);
  for (const k of ["endpoints", "connections", "tableEntries", "chunksInUse"]) assert.equal(e[k], baseA[k], `A ${k} back to baseline`);
  assert.equal(e.timersActive, e.arpEntries, "no TCP timer left");
  const l3 = a.core.listen(5000);
  assert.ok(l3 !== 0, "the port is free again");
  a.core.close(l3);
  await p.close();
});

test("twReuse: off → the only ephemeral port stays in TIME-WAIT (ENOPORT); on → taken after 1 s and the new connection works", async () => {
  const p = await createPair({ configA: { timeWaitMs: 60_000, ephemeralLow: 50000, ephemeralHigh: 50000 } });
  const { a, b } = p;
  const l = b.core.listen(80);
  serveAll(b, l);
  await oneExchange(p);
  await p.run(() => a.core.gauges().timeWait === 1, "A in TIME-WAIT");
  assert.equal(a.core.connect(ADDR_B, 80), 0, "without twReuse");
  assert.equal(a.core.lastError(), ERRORS.E_NO_PORT);
  assert.equal(a.core.connect(ADDR_B, 80, undefined, PORT_OPT.TW_REUSE), 0, "under 1 s since the last segment");
  await p.advance(1000);
  assert.equal(a.core.gauges().timeWait, 1);
  const c2 = await oneExchange(p, PORT_OPT.TW_REUSE);
  assert.equal(a.core.gauges().twReused, 1);
  assert.ok(c2 !== 0);
  assert.equal(b.core.stats().tcp_rstSent, 0n, "B never saw anything it had to reset");
  await p.run(() => a.core.gauges().timeWait === 1, "the second connection is in TIME-WAIT now");
  await p.close();
});

test("reusePort: 4 listeners share B:80; 400 connections spread across them (balance bounds, chi-square)", async () => {
  const N = 4, TOTAL = 400;
  const p = await createPair({ seed: 7, config: { timeWaitMs: 5 } });
  const { a, b } = p;
  const hits = new Map<number, number>();
  const ls: number[] = [];
  for (let i = 0; i < N; i++) {
    const l = b.core.listen(80 | PORT_OPT.REUSE_PORT);
    assert.ok(l !== 0);
    ls.push(l);
    hits.set(l, 0);
    serveAll(b, l, (lh) => hits.set(lh, hits.get(lh)! + 1));
  }
  let done = 0;
  for (let i = 0; i < TOTAL; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => oneExchange(p).then(() => { done++; })));
  }
  assert.equal(done, TOTAL);
  const counts = ls.map((l) => hits.get(l)!);
  const exp = TOTAL / N;
  const chi = counts.reduce((s, n) => s + (n - exp) ** 2 / exp, 0);
  console.log(`reusePort spread (seed 7, fixed secrets): ${counts.join(" ")} chi2=${chi.toFixed(2)}`);
  assert.equal(counts.reduce((s, n) => s + n, 0), TOTAL);
  for (const n of counts) assert.ok(n >= exp * 0.6 && n <= exp * 1.4, `listener share ${n} of ${TOTAL}`);
  assert.ok(chi < 16.27, `chi-square ${chi} (3 d.f., 0.1%)`);
  await p.close();
});

test("churn: TIME-WAIT far above maxConnections never fills the endpoint pool; back to baseline", async () => {
  const TOTAL = Number(process.env.TW_CHURN_CONNECTIONS ?? 1500);
  const CONC = 10, MAX_CONN = 32, TW_MS = 2000;
  const p = await createPair({
    seed: 42, faults: { delayUs: 100 },
    configA: { maxConnections: MAX_CONN, maxTimeWait: 4096, timeWaitMs: TW_MS },
    configB: { maxConnections: 256, timeWaitMs: TW_MS },
  });
  const { a, b } = p;
  const l = b.core.listen(80, 0, 128);
  serveAll(b, l);
  await oneExchange(p);
  await p.advance(TW_MS + 100);
  const baseA = a.core.gauges(), baseB = b.core.gauges();
  const heapA = a.core.heapTop();
  let started = 0, done = 0, failed = 0, peakTw = 0;
  const buf = new Uint8Array(256);
  function open(): void {
    started++;
    const c = a.core.connect(ADDR_B, 80);
    assert.ok(c !== 0, `connect ${started}: ${errorCodeName(a.core.lastError())}`);
    a.on(c, (e) => {
      if (e.type === EV.CONNECTED) a.core.send(c, REQ);
      else if (e.type === EV.READABLE && a.core.recvInto(c, buf) === 64) {
        a.core.close(c); a.off(c); done++;
        peakTw = Math.max(peakTw, a.core.gauges().timeWait);
        if (started < TOTAL) open();
      } else if (e.type === EV.ERROR) { failed++; a.core.close(c); a.off(c); if (started < TOTAL) open(); }
    });
  }
  for (let i = 0; i < CONC; i++) open();
  a.kick();
  await p.run(() => done + failed === TOTAL, `${TOTAL} connections`, 3_600_000);
  const virtualMs = (p.clock.nowUs() / 1000);
  console.log(`tw churn: ${TOTAL} connections, maxConnections ${MAX_CONN}, peak TIME-WAIT ${peakTw}, ` +
    `${(peakTw * a.core.gauges().timeWaitBytes / Math.max(1, a.core.gauges().timeWait)).toFixed(0)} B at the peak, virtual ${virtualMs.toFixed(0)} ms`);
  assert.equal(failed, 0);
  assert.ok(peakTw > MAX_CONN * 4, `TIME-WAIT peak ${peakTw} well above maxConnections ${MAX_CONN}`);
  assert.equal(a.core.stats().endpointsExhausted, 0n, "the pool never filled");
  assert.equal(a.core.stats().timeWaitExhausted, 0n);
  await p.advance(TW_MS + 500);
  for (const [n, base] of [[a, baseA], [b, baseB]] as const) {
    const g = n.core.gauges();
    for (const k of ["endpoints", "connections", "syncache", "chunksInUse", "tableEntries", "timeWait"]) {
      assert.equal(g[k], base[k], `${n.name}: ${k} back to baseline`);
    }
    assert.equal(g.timersActive, g.arpEntries, `${n.name}: no TCP timer left`);
  }
  assert.equal(a.core.heapTop(), heapA, "heap top unchanged");
  await p.close();
});

void ADDR_A;
