// init(nowUs) for the whole stack: validate every field of the config block (slabs,
// interface, TCP), grow memory once, carve the slabs (mem/layout.ts stackInit), then
// the interface tables and the host I/O buffer, configure TCP, and join the layers:
//
//   RX ring ──rxPoll──▶ glue/tick.ts rxFrame ──▶ ifaceInput ──proto 6──▶ tcpInput
//   tcp/env.ts ──────▶ glue/tcp-env.ts adapters ──▶ pool, table, chunks, events,
//                                                   ipv4SegmentBegin/Send ──▶ TX ring
//   timer wheel ──────▶ dispatch.ts ──▶ tcpOnTimer / arpOnTimer / reasmOnTimer
//
// Nothing is carved when a field is rejected: every check runs first, each broken
// rule has its own code (config.ts lists them), and memory is grown once for
// everything (the stub allocator must never grow it later).

import {
  cfg, CFG_IO_BUF_SIZE, CFG_RX_BUDGET, CFG_MAC_LO, CFG_MAC_HI, CFG_IPV4_ADDR, CFG_PREFIX_LEN,
  CFG_GATEWAY, CFG_MTU, CFG_ARP_ENTRIES, CFG_ARP_PENDING, CFG_REASM_SLOTS, CFG_REASM_MAX_BYTES,
  CFG_TIME_WAIT_MS, CFG_SND_BUF, CFG_RCV_BUF, CFG_RTO_MIN_MS, CFG_RTO_MAX_MS, CFG_MAX_RETRIES,
  CFG_SYN_RETRIES, CFG_SYNACK_RETRIES, CFG_DELACK_MS, CFG_KEEP_IDLE_MS, CFG_KEEP_INTVL_MS,
  CFG_KEEP_COUNT, CFG_SYNCACHE_MAX, CFG_EPHEMERAL_LOW, CFG_EPHEMERAL_HIGH, CFG_CHALLENGE_ACK_LIMIT, CFG_CONGESTION_CONTROL, E_CONFIG_CC,
  CFG_SLOT_SIZE, CFG_CHUNK_SIZE,
  E_CONFIG_MAC, E_CONFIG_ADDR, E_CONFIG_PREFIX, E_CONFIG_GATEWAY, E_CONFIG_MTU, E_CONFIG_ARP,
  E_CONFIG_REASM, E_CONFIG_TCP_TIMER, E_CONFIG_TCP_RETRIES, E_CONFIG_BUFFER, E_CONFIG_PORTS,
  E_CONFIG_IO_BUFFER, E_CONFIG_BUDGET,
} from "../config";
import {
  OK, E_CONFIG_ZERO, E_CONFIG_TOO_LARGE, E_OUT_OF_MEMORY, E_ALREADY_INITIALIZED,
} from "../errors";
import { ABI_BASE, ABI_INIT_ERROR_OFF, SLOT_HDR_SIZE, abiStamp } from "../abi";
import {
  configCheck, stackBytes, stackInit, stackReady, heapTop, WASM32_BYTES, STACK_CARVE_SLACK,
} from "../mem/layout";
import { setMemstat, memstat, M_TOTAL, M_IFACE, M_IO_BUFFER } from "../mem/stats";
import { setRxHandler, txFrameCapacity } from "../mem/rings";
import { macIsMulticast } from "../util/bytes";
import { maskOf, isUnicastHost, isNetOrBroadcast } from "../iface/route";
import { ifaceInit, ifaceBytes, IFACE_MAX_ARP_ENTRIES, IFACE_MAX_ARP_PENDING, IFACE_MAX_REASM_SLOTS } from "../iface/interface";
import { REASM_MAX_PAYLOAD } from "../iface/reassembly";
import { ifaceAttachTcp } from "../iface/tcp-glue";
import {
  setTimeWaitMs, setRtoBounds, setRetries, setDelAckMs, setKeepalive, setSynCacheMax,
  setAnnounceMss, setDefaultBuffers, setEphemeralRange, setChallengeAckLimit, setCongestionControl,
} from "../tcp/config";
import { installTcpEnv } from "./tcp-env";
import { tickSetup, rxFrame } from "./tick";

/** Largest host I/O buffer (bytes). */
export const MAX_IO_BUF: u32 = 16 << 20;
/** Largest default buffer: RFC 7323 §2.3, 65535 << 14 ≈ 2^30. */
export const MAX_TCP_BUF: u32 = 1 << 30;
/** Smallest MTU accepted (RFC 1122 §3.3.3: every host reassembles 576-byte datagrams). */
export const MIN_STACK_MTU: u32 = 576;
/** Largest rtoMaxMs (one hour). */
export const MAX_RTO_MS: u32 = 3600000;
/** Ethernet header bytes in a frame. */
const ETH_HDR: u32 = 14;
/** IPv4 + TCP headers without options (the MSS excludes them, RFC 9293 §3.7.1). */
const IP_TCP_HDR: u32 = 40;

/** Checks the interface fields (only when ipv4Addr ≠ 0). OK or the first E_CONFIG_* broken. */
export function ifaceConfigCheck(p: usize): i32 {
  const addr = cfg(p, CFG_IPV4_ADDR);
  if (addr == 0) return OK; // no interface
  const mac = (<u64>(cfg(p, CFG_MAC_HI)) << 32) | <u64>cfg(p, CFG_MAC_LO);
  if (mac == 0 || mac > 0xffff_ffff_ffff || macIsMulticast(mac)) return E_CONFIG_MAC;
  const plen = cfg(p, CFG_PREFIX_LEN);
  if (plen < 1 || plen > 32) return E_CONFIG_PREFIX;
  if (!isUnicastHost(addr)) return E_CONFIG_ADDR;
  const mask = maskOf(plen);
  if (isNetOrBroadcast(addr, mask, plen)) return E_CONFIG_ADDR;
  const gw = cfg(p, CFG_GATEWAY);
  if (gw != 0 && (gw == addr || (gw & mask) != (addr & mask) || !isUnicastHost(gw) || isNetOrBroadcast(gw, mask, plen))) {
    return E_CONFIG_GATEWAY;
  }
  const mtu = cfg(p, CFG_MTU);
  if (mtu < MIN_STACK_MTU || mtu > 65535) return E_CONFIG_MTU;
  if (<u64>mtu + ETH_HDR + SLOT_HDR_SIZE > <u64>cfg(p, CFG_SLOT_SIZE)) return E_CONFIG_MTU;
  const arpE = cfg(p, CFG_ARP_ENTRIES);
  if (arpE < 1 || arpE > IFACE_MAX_ARP_ENTRIES || cfg(p, CFG_ARP_PENDING) > IFACE_MAX_ARP_PENDING) return E_CONFIG_ARP;
  const rs = cfg(p, CFG_REASM_SLOTS);
  const rb = cfg(p, CFG_REASM_MAX_BYTES);
  if (rs > IFACE_MAX_REASM_SLOTS || (rs > 0 && (rb < 8 || rb > REASM_MAX_PAYLOAD))) return E_CONFIG_REASM;
  return OK;
}

/** Checks the TCP and integration fields. OK or the first E_CONFIG_* broken. */
export function tcpConfigCheck(p: usize): i32 {
  const rtoMin = cfg(p, CFG_RTO_MIN_MS);
  const rtoMax = cfg(p, CFG_RTO_MAX_MS);
  const delAck = cfg(p, CFG_DELACK_MS);
  if (rtoMin == 0 || rtoMin > rtoMax || rtoMax > MAX_RTO_MS) return E_CONFIG_TCP_TIMER;
  // RFC 1122 §4.2.3.2 / RFC 5681 §4.2: the delayed-ACK timeout MUST be under 0.5 s.
  if (delAck == 0 || delAck >= 500) return E_CONFIG_TCP_TIMER;
  if (cfg(p, CFG_KEEP_IDLE_MS) == 0 || cfg(p, CFG_KEEP_INTVL_MS) == 0 || cfg(p, CFG_TIME_WAIT_MS) == 0) return E_CONFIG_TCP_TIMER;
  // The engine counts retries in a u8 (tcb.ts): a limit above 255 would never be reached.
  if (!retriesOk(cfg(p, CFG_MAX_RETRIES)) || !retriesOk(cfg(p, CFG_SYN_RETRIES)) ||
      !retriesOk(cfg(p, CFG_SYNACK_RETRIES)) || !retriesOk(cfg(p, CFG_KEEP_COUNT))) return E_CONFIG_TCP_RETRIES;
  const snd = cfg(p, CFG_SND_BUF);
  const rcv = cfg(p, CFG_RCV_BUF);
  if (snd == 0 || rcv == 0 || snd > MAX_TCP_BUF || rcv > MAX_TCP_BUF) return E_CONFIG_BUFFER;
  if (<u64>rcv > maxRcvBuf(cfg(p, CFG_CHUNK_SIZE))) return E_CONFIG_BUFFER;
  const lo = cfg(p, CFG_EPHEMERAL_LOW);
  const hi = cfg(p, CFG_EPHEMERAL_HIGH);
  if (lo == 0 || lo > hi || hi > 65535) return E_CONFIG_PORTS;
  const io = cfg(p, CFG_IO_BUF_SIZE);
  if (io == 0 || io > MAX_IO_BUF) return E_CONFIG_IO_BUFFER;
  if (cfg(p, CFG_RX_BUDGET) == 0) return E_CONFIG_BUDGET;
  if (cfg(p, CFG_SYNCACHE_MAX) == 0) return E_CONFIG_ZERO;
  if (cfg(p, CFG_CONGESTION_CONTROL) > 1) return E_CONFIG_CC;
  return OK;
}

@inline function retriesOk(v: u32): bool { return v >= 1 && v <= 255; }

/** Largest receive buffer a receive queue can count (mem/chunks.ts RQ_MAX_CHUNKS, one chunk of slack). */
export function maxRcvBuf(chunkSize: u32): u64 {
  return <u64>(0xffff - 1) * <u64>chunkSize;
}

/** Every check, in order: slabs (mem/layout.ts), interface, TCP. */
export function fullConfigCheck(p: usize): i32 {
  let rc = configCheck(p);
  if (rc != OK) return rc;
  rc = ifaceConfigCheck(p);
  if (rc != OK) return rc;
  return tcpConfigCheck(p);
}

/** Bytes carved beyond the slabs: interface tables (when configured) and the I/O buffer. */
function extraBytes(p: usize): u64 {
  let b = <u64>cfg(p, CFG_IO_BUF_SIZE) + 16;
  if (cfg(p, CFG_IPV4_ADDR) != 0) {
    b += ifaceBytes(cfg(p, CFG_MTU), cfg(p, CFG_ARP_ENTRIES), cfg(p, CFG_ARP_PENDING),
      cfg(p, CFG_REASM_SLOTS), cfg(p, CFG_REASM_MAX_BYTES));
  }
  return b;
}

// The host I/O buffer (glue/api.ts): data crosses the ABI only by copies through it.
let ioBuf: usize = 0;
let ioSize: u32 = 0;
export function ioBufAddr(): usize { return ioBuf; }
export function ioBufSize(): u32 { return ioSize; }

let ifaceUp: bool = false;
/** True when init configured an interface (ipv4Addr ≠ 0). */
export function interfaceConfigured(): bool { return ifaceUp; }

/**
 * Validates the config block at `p`, carves everything and joins the layers; the
 * timers start at `nowUs`. Returns OK or the code of the first broken rule (nothing
 * carved then; the host may fix the block and call again). Once per instance.
 */
export function integratedInit(p: usize, nowUs: u64): i32 {
  abiStamp();
  const rc = integratedInitInner(p, nowUs);
  store<i32>(ABI_BASE + ABI_INIT_ERROR_OFF, rc);
  return rc;
}

function integratedInitInner(p: usize, nowUs: u64): i32 {
  if (stackReady()) return E_ALREADY_INITIALIZED;
  const rc = fullConfigCheck(p);
  if (rc != OK) return rc;
  // One grow for the slabs, the interface tables and the I/O buffer.
  const slabs = stackBytes(p);
  const extra = extraBytes(p);
  const top0 = <u64>heapTop();
  const need = top0 + slabs + extra + STACK_CARVE_SLACK;
  if (need > WASM32_BYTES) return E_CONFIG_TOO_LARGE;
  const havePages = <u64>memory.size();
  const needPages = (need + 0xffff) >> 16;
  if (needPages > havePages) {
    if (memory.grow(<i32>(needPages - havePages)) < 0) return E_OUT_OF_MEMORY;
  }
  const src = stackInit(p, nowUs); // validates the slab part again (cheap) and carves it
  if (src != OK) return src;

  // Host I/O buffer.
  ioSize = cfg(p, CFG_IO_BUF_SIZE);
  ioBuf = heap.alloc(<usize>ioSize);
  memory.fill(ioBuf, 0, ioSize);

  // Interface (after the rings: the TX capacity bounds its payload; after the timers).
  const addr = cfg(p, CFG_IPV4_ADDR);
  const mtu = cfg(p, CFG_MTU);
  let ifBytes: u64 = 0;
  if (addr != 0) {
    const mac = (<u64>(cfg(p, CFG_MAC_HI)) << 32) | <u64>cfg(p, CFG_MAC_LO);
    ifBytes = ifaceBytes(mtu, cfg(p, CFG_ARP_ENTRIES), cfg(p, CFG_ARP_PENDING), cfg(p, CFG_REASM_SLOTS), cfg(p, CFG_REASM_MAX_BYTES));
    const irc = ifaceInit(mac, addr, cfg(p, CFG_PREFIX_LEN), cfg(p, CFG_GATEWAY), mtu,
      cfg(p, CFG_ARP_ENTRIES), cfg(p, CFG_ARP_PENDING), cfg(p, CFG_REASM_SLOTS), cfg(p, CFG_REASM_MAX_BYTES));
    // ifaceConfigCheck applies ifaceInit's rules (and stricter ones), so this cannot fail.
    if (irc != OK) return irc;
    ifaceAttachTcp(); // after ifaceInit, which resets the protocol-6 hook
    ifaceUp = true;
  }

  // TCP settings (tcp/config.ts) and the environment.
  setTimeWaitMs(cfg(p, CFG_TIME_WAIT_MS));
  setRtoBounds(cfg(p, CFG_RTO_MIN_MS), cfg(p, CFG_RTO_MAX_MS));
  setRetries(cfg(p, CFG_MAX_RETRIES), cfg(p, CFG_SYN_RETRIES), cfg(p, CFG_SYNACK_RETRIES));
  setDelAckMs(cfg(p, CFG_DELACK_MS));
  setKeepalive(cfg(p, CFG_KEEP_IDLE_MS), cfg(p, CFG_KEEP_INTVL_MS), cfg(p, CFG_KEEP_COUNT));
  setSynCacheMax(cfg(p, CFG_SYNCACHE_MAX));
  setDefaultBuffers(cfg(p, CFG_SND_BUF), cfg(p, CFG_RCV_BUF));
  setEphemeralRange(<u16>cfg(p, CFG_EPHEMERAL_LOW), <u16>cfg(p, CFG_EPHEMERAL_HIGH));
  setChallengeAckLimit(cfg(p, CFG_CHALLENGE_ACK_LIMIT));
  setCongestionControl(cfg(p, CFG_CONGESTION_CONTROL));
  // RFC 9293 §3.7.1: MSS = the largest IP datagram we can take − 40 (IPv4 + TCP headers);
  // the datagram is bounded by the MTU and by what a ring slot holds.
  let ipMax = mtu;
  const slotIp = txFrameCapacity() - ETH_HDR;
  if (slotIp < ipMax) ipMax = slotIp;
  setAnnounceMss(<u16>(ipMax - IP_TCP_HDR));
  installTcpEnv();

  tickSetup(cfg(p, CFG_RX_BUDGET), nowUs);
  if (addr != 0) setRxHandler(rxFrame);

  setMemstat(M_IFACE, ifBytes);
  setMemstat(M_IO_BUFFER, <u64>ioSize);
  setMemstat(M_TOTAL, memstat(M_TOTAL) + ifBytes + <u64>ioSize);
  return OK;
}
