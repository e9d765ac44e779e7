// The `ustack` command line (bin/ustack.js imports the compiled form of this file).
//
//   ustack serve (--tap NAME | --packet IFACE) --ip A.B.C.D/LEN [--gateway G]
//                [--echo | --http] [--port N] [--netns NS] [--pcap FILE] [--mac M]
//   ustack netns up   [--ns NS] [--tap NAME | --veth NAME] [--kernel-ip A.B.C.D/LEN]
//   ustack netns down [--ns NS]
//   ustack bench      [options]  the CPS benchmark (host/cli/bench.ts)
//   ustack [command] --help

import http from "node:http";
import { readFile } from "node:fs/promises";
import { Stack } from "../stack.ts";
import type { Link } from "../link/link.ts";
import { TapLink } from "../link/tap.ts";
import { PacketLink } from "../link/packet.ts";
import { PcapLink, pcapFileSink } from "../link/pcap.ts";
import { realClock } from "../link/clock.ts";
import { loadLibc } from "../runtime/ffi.ts";
import { netnsAdd, netnsDelete, netnsExists, withinNetns, sysctlIn, ip, checkTestCidr, parseCidr, formatIpv4 } from "../netns.ts";
import { parseIpv4Cidr, ipv4ToU32 } from "../net/core.ts";
import { demoHttpHandler } from "./http-demo.ts";
import { benchMain, BENCH_HELP } from "./bench.ts";

const HELP: Record<string, string> = {
  main: `ustack — a userspace TCP/IP stack (WebAssembly core, Node/Deno host)

Usage:
  ustack serve (--tap NAME | --packet IFACE) --ip A.B.C.D/LEN [options]   run a demo server
  ustack netns up|down [options]                                          test namespace helpers
  ustack bench [options]                                                  CPS benchmark (ustack bench --help)
  ustack <command> --help                                                 help on a command

Demo (as root):
  ustack netns up                    # namespace "ustack0", TAP "utap0", kernel side 198.18.0.1/24
  ustack serve --netns ustack0 --tap utap0 --ip 198.18.0.2/24 --http &
  ip netns exec ustack0 curl http://198.18.0.2/
  ustack netns down
`,
  serve: `ustack serve — run the stack on a TAP device or an interface, with a demo server

Usage: ustack serve (--tap NAME | --packet IFACE) --ip A.B.C.D/LEN [options]

  --tap NAME        attach to (or create) the TAP device NAME
  --packet IFACE    AF_PACKET raw socket bound to interface IFACE (a veth end, a NIC)
  --ip A.B.C.D/LEN  the stack's address and prefix (required)
  --gateway A.B.C.D default gateway (on the prefix)
  --mac MAC         the stack's MAC (default: random locally administered for TAP,
                    the interface's for --packet)
  --echo            echo server (default)
  --http            node:http server: GET /, GET /bytes/N, POST /sink
  --port N          listening port (default 7 with --echo, 80 with --http)
  --netns NS        open the device inside network namespace NS
  --pcap FILE       record every frame to FILE (pcap, readable by tshark)
  --max-seconds S   stop after S seconds (default: run until SIGINT/SIGTERM)

Prints the counters when it stops.
`,
  netns: `ustack netns — create or remove a test namespace (addresses in 198.18.0.0/15 only)

Usage:
  ustack netns up   [--ns NS] [--tap NAME | --veth NAME] [--kernel-ip A.B.C.D/LEN]
  ustack netns down [--ns NS]

  --ns NS             namespace name (default ustack0)
  --tap NAME          a persistent TAP device NAME in the namespace (default utap0)
  --veth NAME         instead: a veth pair NAME (stack end, for --packet) and NAME-k (kernel end)
  --kernel-ip CIDR    the kernel side's address (default 198.18.0.1/24)

"up" prints the matching "ustack serve" command. "down" deletes the namespace and
everything in it; when there is no such namespace it says so and does nothing (exit 0).
`,
  bench: BENCH_HELP,
};

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUED = new Set(["--tap", "--packet", "--ip", "--gateway", "--mac", "--port", "--netns", "--pcap", "--ns", "--veth", "--kernel-ip", "--max-seconds"]);

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
      else if (VALUED.has(a)) {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
        flags.set(a, v);
        i++;
      } else flags.set(a, true);
    } else if (a === "-h") flags.set("--help", true);
    else positional.push(a);
  }
  return { positional, flags };
}

export class UsageError extends Error {}

function str(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function checkKnown(args: Args, known: string[]): void {
  for (const k of args.flags.keys()) {
    if (k !== "--help" && !known.includes(k)) throw new UsageError(`unknown option ${k}`);
  }
}

/** Runs the CLI; returns the exit code. `out` receives normal output. */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  // `bench` parses its own options (host/cli/bench.ts).
  if (argv[0] === "bench") return benchMain(argv.slice(1), out);
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    out(`ustack: ${(e as Error).message}\n`);
    return 2;
  }
  const cmd = args.positional[0];
  const help = args.flags.has("--help");
  try {
    switch (cmd) {
      case undefined:
        out(HELP.main);
        return help ? 0 : 2;
      case "help":
        out(HELP[args.positional[1] ?? "main"] ?? HELP.main);
        return 0;
      case "serve":
        if (help) { out(HELP.serve); return 0; }
        return await serve(args, out);
      case "netns":
        if (help) { out(HELP.netns); return 0; }
        return await netns(args, out);
      case "bench":
        out(HELP.bench);
        return help ? 0 : 2;
      default:
        out(`ustack: unknown command "${cmd}"\n\n${HELP.main}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      out(`ustack ${cmd}: ${e.message}\n(see: ustack ${cmd} --help)\n`);
      return 2;
    }
    // Library errors carry their own "ustack: " prefix; print one prefix, not two.
    out(`ustack ${cmd}: ${(e as Error).message.replace(/^ustack: /, "")}\n`);
    return 1;
  }
}

async function openLink(args: Args): Promise<Link> {
  const tap = str(args, "--tap");
  const packet = str(args, "--packet");
  if ((tap ? 1 : 0) + (packet ? 1 : 0) !== 1) throw new UsageError("give exactly one of --tap NAME or --packet IFACE");
  const ns = str(args, "--netns");
  const mac = str(args, "--mac");
  const libc = await loadLibc();
  const open = (): Link => (tap ? TapLink.openSync(libc, { name: tap, mac }) : PacketLink.openSync(libc, { ifname: packet!, mac }));
  return ns ? withinNetns(libc, ns, open) : open();
}

async function serve(args: Args, out: (s: string) => void): Promise<number> {
  checkKnown(args, ["--tap", "--packet", "--ip", "--gateway", "--mac", "--echo", "--http", "--port", "--netns", "--pcap", "--max-seconds"]);
  const ipText = str(args, "--ip");
  if (!ipText) throw new UsageError("--ip A.B.C.D/LEN is required");
  // The forms, before any device is opened (Stack.create checks the rest: unicast, subnet).
  const gatewayText = str(args, "--gateway");
  try {
    parseIpv4Cidr(ipText, "--ip");
    if (gatewayText !== undefined) ipv4ToU32(gatewayText, "--gateway");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (args.flags.has("--echo") && args.flags.has("--http")) throw new UsageError("--echo and --http exclude each other");
  const httpMode = args.flags.has("--http");
  const port = Number(str(args, "--port") ?? (httpMode ? 80 : 7));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError("--port must be 1..65535");
  const maxSeconds = str(args, "--max-seconds") === undefined ? Infinity : Number(str(args, "--max-seconds"));
  if (!(maxSeconds > 0)) throw new UsageError("--max-seconds must be a positive number");
  const device = await openLink(args);
  let link: Link = device;
  const pcapPath = str(args, "--pcap");
  if (pcapPath) {
    try {
      link = new PcapLink(device, await pcapFileSink(pcapPath), realClock);
    } catch (e) {
      await device.close();
      throw e;
    }
  }
  let stack: Stack;
  try {
    // USTACK_WASM: run another build of the core (developers; default build/ustack.wasm).
    const wasmPath = process.env.USTACK_WASM;
    const wasm = wasmPath ? new Uint8Array(await readFile(wasmPath)) : undefined;
    stack = await Stack.create({ link, ipv4: ipText, gateway: gatewayText, wasm });
  } catch (e) {
    await link.close();
    throw e;
  }
  const server = stack.net.createServer((socket) => {
    if (httpMode) httpServer.emit("connection", socket);
    else {
      socket.on("error", () => undefined);
      socket.pipe(socket);
    }
  });
  const httpServer = http.createServer(demoHttpHandler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  out(`ustack: ${httpMode ? "http" : "echo"} server on ${stack.address}:${port} (${device.kind} ${device.name}${pcapPath ? `, recorded to ${pcapPath}` : ""}, MAC ${stack.mac}); Ctrl-C stops\n`);
  let failure: Error | null = null;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // The stack stops by itself when its link dies (the TAP device deleted, ...).
    stack.once("error", (e: Error) => { failure = e; resolve(); });
    if (Number.isFinite(maxSeconds)) setTimeout(stop, maxSeconds * 1000).unref();
  });
  const s = stack.stats();
  await stack.close();
  const nonzero = (o: Record<string, unknown>) => Object.entries(o).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`).join(" ");
  out(`ustack: stopped.\n  core: ${nonzero(s.core)}\n  iface: ${nonzero(s.iface)}\n  tcp: ${nonzero(s.tcp)}\n  link: ${nonzero(s.link)}\n`);
  if (failure !== null) {
    const f = failure as Error & { code?: string; cause?: unknown };
    process.stderr.write(`ustack serve: ${f.code ?? "error"}: ${f.message}\n`);
    return 1;
  }
  return 0;
}

async function netns(args: Args, out: (s: string) => void): Promise<number> {
  const sub = args.positional[1];
  const ns = str(args, "--ns") ?? "ustack0";
  if (sub === "down") {
    checkKnown(args, ["--ns"]);
    if (!netnsExists(ns)) {
      out(`ustack: no namespace ${ns}; nothing to remove\n`);
      return 0;
    }
    netnsDelete(ns);
    out(`ustack: namespace ${ns} removed\n`);
    return 0;
  }
  if (sub !== "up") throw new UsageError(`expected "up" or "down" (got ${sub === undefined ? "nothing" : `"${sub}"`})`);
  checkKnown(args, ["--ns", "--tap", "--veth", "--kernel-ip"]);
  if (args.flags.has("--tap") && args.flags.has("--veth")) throw new UsageError("--tap and --veth exclude each other");
  const kernelIp = str(args, "--kernel-ip") ?? "198.18.0.1/24";
  const cidr = checkTestCidr(kernelIp);
  const stackIp = `${formatIpv4((cidr.addr + 1) >>> 0)}/${cidr.prefix}`;
  parseCidr(stackIp);
  if (netnsExists(ns)) throw new Error(`namespace ${ns} already exists (ustack netns down --ns ${ns})`);
  const libc = await loadLibc();
  netnsAdd(ns);
  try {
    const veth = str(args, "--veth");
    if (veth) {
      const kernelEnd = `${veth}-k`;
      ip(["-n", ns, "link", "add", veth, "type", "veth", "peer", "name", kernelEnd]);
      sysctlIn(libc, ns, `net.ipv6.conf.${veth}.disable_ipv6`, "1");
      sysctlIn(libc, ns, `net.ipv6.conf.${kernelEnd}.disable_ipv6`, "1");
      ip(["-n", ns, "addr", "add", kernelIp, "dev", kernelEnd]);
      ip(["-n", ns, "link", "set", kernelEnd, "up"]);
      ip(["-n", ns, "link", "set", veth, "up"]);
      out(`ustack: namespace ${ns}: veth ${veth} (stack end) / ${kernelEnd} (kernel, ${kernelIp})\n` +
        `  ustack serve --netns ${ns} --packet ${veth} --ip ${stackIp} --http\n` +
        `  ip netns exec ${ns} curl http://${stackIp.split("/")[0]}/\n`);
    } else {
      const tap = str(args, "--tap") ?? "utap0";
      const link = withinNetns(libc, ns, () => TapLink.openSync(libc, { name: tap, persist: true }));
      await link.close(); // the device persists
      sysctlIn(libc, ns, `net.ipv6.conf.${tap}.disable_ipv6`, "1");
      ip(["-n", ns, "addr", "add", kernelIp, "dev", tap]);
      ip(["-n", ns, "link", "set", tap, "up"]);
      out(`ustack: namespace ${ns}: TAP ${tap} (kernel side ${kernelIp})\n` +
        `  ustack serve --netns ${ns} --tap ${tap} --ip ${stackIp} --http\n` +
        `  ip netns exec ${ns} curl http://${stackIp.split("/")[0]}/\n`);
    }
  } catch (e) {
    netnsDelete(ns);
    throw e;
  }
  return 0;
}
