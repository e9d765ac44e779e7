// HC-06 (c) against the Linux kernel (/work/shared/cases/CASES.md, RFC 9293 §3.4 and
// §3.10.7.4 seventh/eighth steps): a kernel client in a test namespace does
// write(200 bytes); shutdown(SHUT_WR) back to back — Linux usually folds the FIN into
// the data segment — to a server on the stack (TAP device). Expected as HC-06 (a):
// the server reads exactly the 200 bytes, then end-of-stream, and sits in CLOSE-WAIT;
// the stack acknowledges 201 (200 data + the FIN) and the kernel's socket sees it
// (FIN-WAIT-2, nothing unacknowledged, from TCP_INFO).
//
// Needs root, iproute2, /dev/net/tun, python3 (.ci/run installs them); skipped with the
// reason otherwise. Network safety (SPEC §7): only 198.18.0.0/15 addresses, inside a
// namespace this test creates and removes (also on failure); every command and wait is
// time-limited.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { netnsSkipReason } from "../helpers/netns.ts";
import { coreSkipReason, coreWasm } from "./stack-kit.ts";
import { Stack } from "../../host/stack.ts";
import { createTapNamespace } from "../../host/netns.ts";
import { PcapLink, MemoryPcapSink, PCAP_GLOBAL_HDR_LEN, PCAP_RECORD_HDR_LEN } from "../../host/link/pcap.ts";
import { realClock } from "../../host/link/clock.ts";
import type { Socket } from "../../host/net/socket.ts";

const ST_CLOSE_WAIT = 7; // assembly/tcp/state.ts
const PORT = 7000;

async function skipReason(): Promise<string | null> {
  const ns = await netnsSkipReason();
  if (ns) return ns;
  if (spawnSync("sh", ["-c", "command -v python3"]).status !== 0) return "needs python3 (.ci/run installs it)";
  return (await coreSkipReason()) || null;
}

/** Runs `cmd` in namespace `ns`, killed after `timeoutMs` (async: the stack keeps ticking). */
function runIn(ns: string, cmd: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "", timedOut = false;
    child.stdout.on("data", (b: Buffer) => { if (out.length < 65536) out += b; });
    child.stderr.on("data", (b: Buffer) => { if (err.length < 65536) err += b; });
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, timeoutMs);
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, out, err, timedOut }); });
  });
}

/**
 * The kernel client: connect, write 200 bytes, shutdown(SHUT_WR) at once, then wait (≤ 5 s)
 * until TCP_INFO shows FIN-WAIT-2 with nothing unacknowledged — the stack ACKed data and
 * FIN. Prints "state=<tcpi_state> unacked=<tcpi_unacked>" (Linux: FIN_WAIT2 = 5).
 * argv[3] "cork": TCP_CORK holds the 200 bytes in the write queue, so tcp_send_fin
 * sets the FIN on that very segment (the folding this case is about; without it, on an
 * idle connection the data leaves at once and the FIN follows alone); "plain": just
 * the two calls.
 */
const CLIENT_PY = `
import socket, struct, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)
if sys.argv[3] == "cork":
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
s.send(bytes((i * 7 + 3) & 255 for i in range(200)))
s.shutdown(socket.SHUT_WR)
deadline = time.time() + 5
while True:
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    state = info[0]
    unacked = struct.unpack_from("I", info, 24)[0]  # tcpi_unacked after 8 u8 fields and rto, ato, snd_mss, rcv_mss
    if (state == 5 and unacked == 0) or time.time() > deadline:
        break
    time.sleep(0.01)
print(f"state={state} unacked={unacked}", flush=True)
time.sleep(0.2)
s.close()
`;

interface TcpFrame { src: string; sport: number; dport: number; seq: number; ack: number; flags: number; len: number }

/** The TCP segments of a pcap stream (Ethernet/IPv4 only). */
function tcpFrames(pcap: Uint8Array): TcpFrame[] {
  const out: TcpFrame[] = [];
  const v = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  for (let o = PCAP_GLOBAL_HDR_LEN; o + PCAP_RECORD_HDR_LEN <= pcap.byteLength;) {
    const incl = v.getUint32(o + 8, true);
    const f = o + PCAP_RECORD_HDR_LEN;
    o = f + incl;
    if (incl < 54 || v.getUint16(f + 12) !== 0x0800 || pcap[f + 23] !== 6) continue;
    const ip = f + 14;
    const ihl = (pcap[ip] & 15) * 4;
    const t = ip + ihl;
    const total = v.getUint16(ip + 2);
    out.push({
      src: `${pcap[ip + 12]}.${pcap[ip + 13]}.${pcap[ip + 14]}.${pcap[ip + 15]}`,
      sport: v.getUint16(t), dport: v.getUint16(t + 2), seq: v.getUint32(t + 4), ack: v.getUint32(t + 8),
      flags: pcap[t + 13], len: total - ihl - (pcap[t + 12] >> 4) * 4,
    });
  }
  return out;
}

let seq = 0;

/** One namespace + TAP + stack for one client run; `mode` as CLIENT_PY's argv[3]. Returns whether the kernel folded the FIN into the data. */
async function hc06c(mode: "cork" | "plain"): Promise<boolean> {
  seq++;
  const id = `${process.pid % 10000}${seq}`;
  const ns = `uh${id}`, dev = `uht${id}`;
  const net = 100 + (process.pid % 100);
  const kernelIp = `198.18.${net}.1`, stackIp = `198.18.${net}.2`;
  const tns = await createTapNamespace({ ns, tap: dev, kernelCidr: `${kernelIp}/24` });
  let stack: Stack | null = null;
  const sink = new MemoryPcapSink();
  try {
    const link = new PcapLink(tns.link, sink, realClock, { snaplen: 96 });
    stack = await Stack.create({ link, ipv4: `${stackIp}/24`, clock: realClock, wasm: coreWasm() });
    const st = stack;
    const got: number[] = [];
    let eof = false;
    let stateAtEof = -1;
    let server: Socket | null = null;
    // allowHalfOpen: our side stays open after the peer's FIN, so CLOSE-WAIT is observable.
    const srv = st.net.createServer({ allowHalfOpen: true }, (s) => {
      server = s;
      s.on("data", (b: Buffer) => got.push(...b));
      s.on("end", () => { eof = true; stateAtEof = st.core.state(s.handle); });
    });
    await new Promise<void>((res, rej) => { srv.once("error", rej); srv.listen(PORT, () => res()); });
    const r = await runIn(ns, ["python3", "-c", CLIENT_PY, stackIp, String(PORT), mode], 15_000);
    assert.equal(r.timedOut, false, "the client finished in time");
    assert.equal(r.code, 0, r.err);
    for (let i = 0; i < 100 && !eof; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => (i * 7 + 3) & 255), "exactly the 200 bytes");
    assert.equal(eof, true, "then end of stream");
    assert.equal(stateAtEof, ST_CLOSE_WAIT, "CLOSE-WAIT at EOF");
    assert.equal(st.core.state((server as Socket | null)!.handle), ST_CLOSE_WAIT, "still CLOSE-WAIT");
    assert.match(r.out, /state=5 unacked=0/, `the kernel's socket got the ACK of data and FIN (FIN-WAIT-2): ${r.out}`);
    // On the wire: the client's SYN gives its ISN; the stack's last ACK is ISN + 1 + 201.
    link.flush();
    const frames = tcpFrames(sink.bytes()).filter((f) => f.sport === PORT || f.dport === PORT);
    const synFrame = frames.find((f) => f.src === kernelIp && f.flags === 0x02);
    assert.ok(synFrame, "the kernel's SYN was seen");
    const isn = synFrame.seq;
    const finFrame = frames.find((f) => f.src === kernelIp && (f.flags & 0x01));
    assert.ok(finFrame, "the kernel's FIN was seen");
    const folded = finFrame.len === 200;
    console.log(`HC-06 (c) ${mode}: the kernel ${folded ? "folded the FIN into the 200-byte data segment" : `sent the FIN in a segment of ${finFrame.len} bytes`}`);
    const ours = frames.filter((f) => f.src === stackIp && (f.flags & 0x10));
    const lastAck = ours[ours.length - 1].ack;
    assert.equal((lastAck - isn) >>> 0, 202, `the stack acknowledged 201 bytes of sequence space after the SYN (ack ${lastAck}, ISN ${isn})`);
    server!.destroy();
    await new Promise<void>((res) => srv.close(() => res()));
    return folded;
  } finally {
    try {
      if (stack) await stack.close();
    } finally {
      await tns.teardown();
    }
  }
}

test("HC-06 (c) with Linux: write(200 bytes); shutdown(SHUT_WR) with the FIN folded into the data segment (TCP_CORK) → the stack's server reads 200 bytes then EOF, CLOSE-WAIT, and the kernel sees the ACK of 201", async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  assert.equal(await hc06c("cork"), true, "the kernel sent one FIN,PSH,ACK segment with the 200 bytes");
});

test("HC-06 (c) with Linux: write(200 bytes); shutdown(SHUT_WR) back to back, no socket options (FIN folded or not, as the kernel decides) → the same", async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  await hc06c("plain");
});
