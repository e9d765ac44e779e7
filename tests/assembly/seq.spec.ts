// Sequence-space comparisons across the 2^32 wrap (HC-01, RFC 9293 §3.4).
import { seqLt, seqLe, seqGt, seqGe, seqMax, seqMin, seqInWindow, seqBetween, seqDiff } from "../../assembly/util/seq";

describe("seq ordering", () => {
  test("plain numbers far from the wrap", () => {
    expect(seqLt(1, 2)).toBe(true);
    expect(seqLt(2, 1)).toBe(false);
    expect(seqLt(5, 5)).toBe(false);
    expect(seqLe(5, 5)).toBe(true);
    expect(seqGt(3, 2)).toBe(true);
    expect(seqGe(3, 3)).toBe(true);
  });
  test("HC-01: 0xFFFFFFF0 precedes 0x00000055 (the stream crossed 2^32)", () => {
    expect(seqLt(0xfffffff0, 0x00000055)).toBe(true);
    expect(seqGt(0x00000055, 0xfffffff0)).toBe(true);
    expect(seqLe(0xffffffff, 0)).toBe(true);
    expect(seqGe(0, 0xffffffff)).toBe(true);
    expect(seqDiff(0x00000055, 0xfffffff1)).toBe(100);
    expect(seqMax(0xfffffff1, 0x55)).toBe(0x55);
    expect(seqMin(0xfffffff1, 0x55)).toBe(0xfffffff1);
  });
  test("picotcp #118: values around 0x7fxxxxxx and 0x80000000", () => {
    expect(seqLt(0x7ffffff0, 0x80000010)).toBe(true);
    expect(seqGt(0x80000010, 0x7ffffff0)).toBe(true);
    // a large window added to a sequence number still compares correctly
    const nxt: u32 = 0x7fff0000;
    const right: u32 = nxt + 0x00100000;
    expect(seqLt(nxt, right)).toBe(true);
    expect(seqLt(right - 1, right)).toBe(true);
  });
  test("exactly 2^31 apart is the documented limit: ordering is antisymmetric below it", () => {
    const a: u32 = 100;
    const b: u32 = a + 0x7fffffff;
    expect(seqLt(a, b)).toBe(true);
    expect(seqLt(b, a)).toBe(false);
  });
});

describe("seq windows", () => {
  test("inWindow across the wrap (FreeRTOS #216: RCV.NXT + RCV.WND wraps)", () => {
    const rcvNxt: u32 = 0xfffff000;
    const wnd: u32 = 0x2000;
    expect(seqInWindow(0xfffff000, rcvNxt, wnd)).toBe(true);
    expect(seqInWindow(0xffffffff, rcvNxt, wnd)).toBe(true);
    expect(seqInWindow(0x00000fff, rcvNxt, wnd)).toBe(true);
    expect(seqInWindow(0x00001000, rcvNxt, wnd)).toBe(false);
    expect(seqInWindow(0xffffefff, rcvNxt, wnd)).toBe(false);
    expect(seqInWindow(rcvNxt, rcvNxt, 0)).toBe(false);
  });
  test("between is inclusive and wrap-safe (ACK acceptability SND.UNA ≤ SEG.ACK ≤ SND.NXT)", () => {
    expect(seqBetween(0x2e9, 0xffffff00, 0x2e9)).toBe(true);
    expect(seqBetween(0xffffff00, 0xffffff00, 0x2e9)).toBe(true);
    expect(seqBetween(0x2ea, 0xffffff00, 0x2e9)).toBe(false);
    expect(seqBetween(0xfffffeff, 0xffffff00, 0x2e9)).toBe(false);
  });
  test("exhaustive check against i64 reference on a sweep around the wrap", () => {
    // reference: unwrap both to i64 near a known base and compare
    const base: i64 = 0x100000000;
    let bad = 0;
    for (let i: i64 = -300; i <= 300; i += 7) {
      for (let j: i64 = -300; j <= 300; j += 11) {
        const a = <u32>(base + i);
        const b = <u32>(base + j);
        if (seqLt(a, b) != (i < j)) bad++;
        if (seqLe(a, b) != (i <= j)) bad++;
        if (seqGt(a, b) != (i > j)) bad++;
        if (seqGe(a, b) != (i >= j)) bad++;
      }
    }
    expect(bad).toBe(0);
  });
});
