// Interface benchmark (issue 4): ICMP echo round trips per second through the core,
// and the parse cost per TCP/IPv4 frame. Median of RUNS runs, each on the same
// fresh build/bench.wasm instance after a warm-up.
//
//   node build/bench/iface.bench.js [runs]
//
// Echo: a 98-byte echo request (56 data bytes, like `ping`) placed in the RX ring,
// rxPoll → Ethernet/IPv4/ICMP validation → reply built in a TX slot → the TX frame
// taken; and the same with ifaceInput called directly (no RX ring).
// Parse: a 54-byte TCP pure ACK through the ingress up to the protocol-6 hook, and
// the same plus the TCP header parse and TCP checksum (wire/tcp.ts).

import { instantiate } from "../host/loader.ts";
import { readIfaceStats, ifaceDispositionSum } from "../host/iface-stats.ts";
import { median, timeNs, machineFacts } from "./harness.ts";

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const N_ECHO = 1_000_000;
const N_PARSE = 2_000_000;

const { exports: ex } = await instantiate("bench");
const rc = ex.benchIfaceSetup();
if (rc !== 0) throw new Error(`benchIfaceSetup failed: ${rc}`);
const heapTop0 = ex.benchIfaceHeapTop();

type Case = { name: string; n: number; run: (n: number) => number; expect: (n: number, r: number) => boolean };
const cases: Case[] = [
  { name: "echo round trip, RX ring → ingress → TX ring", n: N_ECHO, run: (n) => ex.benchEchoRing(n), expect: (n, r) => r === n },
  { name: "echo round trip, ifaceInput direct", n: N_ECHO, run: (n) => ex.benchEchoDirect(n), expect: (n, r) => r === n },
  { name: "TCP/IPv4 frame: Ethernet + IPv4 (checksum) + dispatch", n: N_PARSE, run: (n) => ex.benchParseTcpIface(n), expect: (_n, r) => r > 0 },
  { name: "TCP/IPv4 frame: + TCP parse + TCP checksum", n: N_PARSE, run: (n) => ex.benchParseTcpFull(n), expect: (_n, r) => r > 0 },
];

const results: { name: string; nsPerOp: number; perSec: number; spread: string }[] = [];
for (const c of cases) {
  c.run(c.n / 10); // warm-up
  const ns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let out = 0;
    const t = timeNs(() => {
      out = c.run(c.n);
    });
    if (!c.expect(c.n, out)) throw new Error(`${c.name}: unexpected result ${out}`);
    ns.push(t / c.n);
  }
  const m = median(ns);
  results.push({ name: c.name, nsPerOp: m, perSec: 1e9 / m, spread: `${Math.min(...ns).toFixed(1)}–${Math.max(...ns).toFixed(1)}` });
}

// Zero allocation after init: the stub allocator's top did not move over millions of frames.
if (ex.benchIfaceHeapTop() !== heapTop0) throw new Error("the interface allocated after init");
const st = readIfaceStats(ex.memory, ex.benchIfaceStatsPtr(), ex.benchIfaceStatsCount());
if (st.rx_frames !== ifaceDispositionSum(st)) throw new Error("counters do not account for every frame");

console.log(`# iface benchmark — ${new Date().toISOString().slice(0, 10)} — ${machineFacts()}`);
console.log(`# median of ${RUNS} runs; command: node build/bench/iface.bench.js ${RUNS}`);
console.log("| case | ns per frame (median) | per second | min–max ns |");
console.log("|---|---:|---:|---:|");
for (const r of results) {
  console.log(`| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${(r.perSec / 1e6).toFixed(2)} M | ${r.spread} |`);
}
const ratio = results[3].nsPerOp / results[2].nsPerOp;
console.log(`\nTCP parse + checksum adds ${(results[3].nsPerOp - results[2].nsPerOp).toFixed(1)} ns (×${ratio.toFixed(2)}); ` +
  `the RX ring costs ${(results[0].nsPerOp - results[1].nsPerOp).toFixed(1)} ns per echo. ` +
  `Heap top unchanged (${heapTop0}). Counters: rx_frames=${st.rx_frames}, icmp_tx_echo_reply=${st.icmp_tx_echo_reply}, ip_deliver_tcp=${st.ip_deliver_tcp}.`);
