// Duplicate ACK detection with SACK (RFC 6675 §2 "DupAck"). A Linux receiver keeps
// opening its window while it SACKs out-of-order data, so its duplicate ACKs rarely
// carry the same window; RFC 5681's "same window" rule alone would leave every loss
// to the retransmission timer. Found by the impaired TAP interop run.
import * as k from "./tcp-kit";
import { rin, rout, tmpl, inject, next, drain, listener, pending } from "./tcp-kit";
import { TCP_FLAG_ACK, TCP_FLAG_SYN } from "../../assembly/wire/tcp";
import { tcpSend, tcpSetOption, tcpAccept, OPT_NODELAY } from "../../assembly/tcp/api";
import { statFastRetransmits } from "../../assembly/tcp/config";

let src: usize = 0;
let iss: u32 = 0;

/** Handshake with SACK-permitted (and MSS 1460) from the peer. */
function establishedSack(sack: bool): u32 {
  k.setup();
  const l = listener();
  tmpl(TCP_FLAG_SYN, 1000, 0);
  rin.mss = 1460;
  rin.sackPermitted = sack;
  inject();
  if (!next()) return 0;
  iss = rout.seq;
  tmpl(TCP_FLAG_ACK, 1001, rout.seq + 1);
  inject();
  drain();
  const c = tcpAccept(l);
  if (src == 0) src = heap.alloc(16384);
  tcpSetOption(c, OPT_NODELAY, 1);
  return c;
}

function sendSix(c: u32): void {
  tcpSend(c, src, 1460 * 6);
  while (next()) {}
}

describe("duplicate ACKs (RFC 5681 §2, RFC 6675 §2)", () => {
  test("three ACKs at SND.UNA that SACK outstanding data trigger fast retransmit even as the window grows", () => {
    const c = establishedSack(true);
    sendSix(c);
    const before = statFastRetransmits;
    for (let i = 1; i <= 3; i++) {
      tmpl(TCP_FLAG_ACK, 1001, iss + 1);
      rin.window = <u16>(20000 + i * 1000); // Linux opens the window as it reads
      rin.sackCount = 1;
      rin.setSack(0, iss + 1 + 1460, iss + 1 + 1460 * (i + 1));
      inject();
    }
    expect(statFastRetransmits - before).toBe(1);
    expect(next()).toBe(true);
    expect(rout.seq).toBe(iss + 1, "the head is retransmitted");
    expect(rout.payloadLen).toBe(1460);
  });

  test("without SACK, ACKs whose window changes are window updates, not duplicates (RFC 5681 §2)", () => {
    const c = establishedSack(false);
    sendSix(c);
    const before = statFastRetransmits;
    for (let i = 1; i <= 3; i++) {
      tmpl(TCP_FLAG_ACK, 1001, iss + 1);
      rin.window = <u16>(20000 + i * 1000);
      inject();
    }
    expect(statFastRetransmits - before).toBe(0);
    expect(pending()).toBe(0);
  });

  test("SACK blocks outside the outstanding data do not count", () => {
    const c = establishedSack(true);
    sendSix(c);
    const before = statFastRetransmits;
    for (let i = 1; i <= 3; i++) {
      tmpl(TCP_FLAG_ACK, 1001, iss + 1);
      rin.window = <u16>(20000 + i * 1000);
      rin.sackCount = 1;
      rin.setSack(0, iss + 1 + 1460 * 7, iss + 1 + 1460 * 8); // beyond SND.MAX
      inject();
    }
    expect(statFastRetransmits - before).toBe(0);
  });
});
