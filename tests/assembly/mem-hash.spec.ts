// Keyed hash: SipHash round function against the paper's SipHash-2-4 vectors
// (Aumasson & Bernstein 2012, Appendix A; key 00..0f, message 00..0e), and the
// stack's SipHash-1-3 forms agreeing with each other.

import {
  sipHash, hashKeyed2, hashKeyedWords, hashKeyed4, hashTuple, hashSetSecret, tupleWord0,
  tupleWord1, hashIsn, hashPortOffset,
} from "../../assembly/util/hash";

const K0: u64 = 0x0706050403020100;
const K1: u64 = 0x0f0e0d0c0b0a0908;
const MSG = memory.data(64);

describe("SipHash", () => {
  test("SipHash-2-4 reference vectors (paper, Appendix A)", () => {
    for (let i = 0; i < 64; i++) store<u8>(MSG + i, <u8>i);
    // 15-byte message 00..0e: a129ca6149be45e5 (the paper's worked example).
    expect(sipHash(K0, K1, MSG, 15, 2, 4)).toBe(0xa129ca6149be45e5);
    // Empty message: bytes 31 0e 0e dd 47 db 6f 72 (vectors_sip64[0]).
    expect(sipHash(K0, K1, MSG, 0, 2, 4)).toBe(0x726fdb47dd0e0e31);
  });

  test("hashKeyed2 / hashKeyed4 equal SipHash-1-3 over the same bytes", () => {
    store<u64>(MSG, 0x1122334455667788);
    store<u64>(MSG + 8, 0x99aabbccddeeff00);
    store<u64>(MSG + 16, 42);
    store<u64>(MSG + 24, 7);
    expect(hashKeyed2(K0, K1, 0x1122334455667788, 0x99aabbccddeeff00)).toBe(sipHash(K0, K1, MSG, 16, 1, 3));
    expect(hashKeyedWords(K0, K1, MSG, 2)).toBe(sipHash(K0, K1, MSG, 16, 1, 3));
    expect(hashKeyed4(K0, K1, 0x1122334455667788, 0x99aabbccddeeff00, 42, 7)).toBe(hashKeyedWords(K0, K1, MSG, 4));
    expect(sipHash(K0, K1, MSG, 16, 1, 3)).not.toBe(sipHash(K0, K1, MSG, 16, 2, 4));
  });

  test("tuple hash depends on the key and on every field; derived keys differ", () => {
    hashSetSecret(1, 2);
    const a = hashTuple(0x0a000001, 80, 0x0a000002, 40000);
    expect(hashTuple(0x0a000001, 80, 0x0a000002, 40001)).not.toBe(a);
    expect(hashTuple(0x0a000001, 81, 0x0a000002, 40000)).not.toBe(a);
    expect(hashTuple(0x0a000003, 80, 0x0a000002, 40000)).not.toBe(a);
    expect(hashTuple(0x0a000001, 80, 0x0a000004, 40000)).not.toBe(a);
    expect(hashTuple(0x0a000001, 40000, 0x0a000002, 80)).not.toBe(a, "ports are not symmetric");
    expect(a).toBe(hashKeyed2(1, 2, tupleWord0(0x0a000001, 0x0a000002), tupleWord1(80, 40000)));
    expect(hashIsn(0x0a000001, 80, 0x0a000002, 40000)).not.toBe(<u32>a, "ISN key differs from the table key");
    const port = hashPortOffset(0x0a000001, 0x0a000002, 80);
    hashSetSecret(1, 3);
    expect(hashTuple(0x0a000001, 80, 0x0a000002, 40000)).not.toBe(a);
    expect(hashPortOffset(0x0a000001, 0x0a000002, 80)).not.toBe(port);
  });
});
