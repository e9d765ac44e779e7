// Every module result code has a Node-style error code (host/errors.ts), so that no
// code ever reaches an application as "EUSTACK<n>".
//
// Two checks: an explicit table of every code and the Node code it must become (a
// changed mapping fails here), and a scan of the module's sources for every
// `export const E_*: i32 = N` (a code added without a mapping fails here).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { errorCodeName, errnoOf, systemError } from "../../host/errors.ts";
import { ERRORS } from "../../host/abi.ts";

/** module code → Node code, one line per code the module defines. */
const EXPECTED: ReadonlyArray<[number, string, string]> = [
  // assembly/errors.ts
  [1, "E_INVALID_HANDLE", "EBADF"],
  [2, "E_STALE_HANDLE", "EBADF"],
  [3, "E_NOT_INITIALIZED", "EINVAL"],
  [4, "E_ALREADY_INITIALIZED", "EINVAL"],
  [10, "E_CONFIG_ZERO", "EINVAL"],
  [11, "E_CONFIG_TOO_LARGE", "EINVAL"],
  [12, "E_CONFIG_SHARDS", "EINVAL"],
  [13, "E_CONFIG_NOT_POW2", "EINVAL"],
  [14, "E_CONFIG_SLOT_SIZE", "EINVAL"],
  [15, "E_CONFIG_CHUNK_SIZE", "EINVAL"],
  [16, "E_CONFIG_COUNT", "EINVAL"],
  [17, "E_CONFIG_VERSION", "EINVAL"],
  [18, "E_OUT_OF_MEMORY", "ENOMEM"],
  [20, "E_ENDPOINTS_EXHAUSTED", "EMFILE"],
  [21, "E_LISTENERS_EXHAUSTED", "EMFILE"],
  [22, "E_SYNCACHE_EXHAUSTED", "ENOBUFS"],
  [23, "E_TIMEWAIT_EXHAUSTED", "ENOBUFS"],
  [24, "E_CHUNKS_EXHAUSTED", "ENOBUFS"],
  [25, "E_TABLE_EXHAUSTED", "ENOBUFS"],
  [26, "E_RX_RING_FULL", "ENOBUFS"],
  [27, "E_TX_RING_FULL", "ENOBUFS"],
  [28, "E_EVENT_RING_FULL", "ENOBUFS"],
  [30, "E_ADDR_IN_USE", "EADDRINUSE"],
  [31, "E_EXISTS", "EADDRINUSE"],
  [32, "E_NOT_FOUND", "EINVAL"],
  [40, "E_BAD_LENGTH", "EINVAL"],
  [41, "E_BAD_ARGUMENT", "EINVAL"],
  // assembly/glue/api.ts
  [45, "E_ADDR_NOT_AVAILABLE", "EADDRNOTAVAIL"],
  // assembly/config.ts
  [50, "E_CONFIG_MAC", "EINVAL"],
  [51, "E_CONFIG_ADDR", "EINVAL"],
  [52, "E_CONFIG_PREFIX", "EINVAL"],
  [53, "E_CONFIG_GATEWAY", "EINVAL"],
  [54, "E_CONFIG_MTU", "EINVAL"],
  [55, "E_CONFIG_ARP", "EINVAL"],
  [56, "E_CONFIG_REASM", "EINVAL"],
  [57, "E_CONFIG_TCP_TIMER", "EINVAL"],
  [58, "E_CONFIG_TCP_RETRIES", "EINVAL"],
  [59, "E_CONFIG_BUFFER", "EINVAL"],
  [60, "E_CONFIG_PORTS", "EINVAL"],
  [61, "E_CONFIG_IO_BUFFER", "EINVAL"],
  [62, "E_CONFIG_BUDGET", "EINVAL"],
  [63, "E_CONFIG_CC", "EINVAL"],
  // assembly/iface/errors.ts
  [101, "E_IF_TRUNCATED", "EINVAL"],
  [102, "E_IF_MALFORMED", "EINVAL"],
  [103, "E_IF_CHECKSUM", "EINVAL"],
  [104, "E_IF_UNSUPPORTED", "EOPNOTSUPP"],
  [105, "E_IF_NOT_FOR_US", "EINVAL"],
  [106, "E_IF_NO_ROUTE", "EHOSTUNREACH"],
  [107, "E_IF_TX_FULL", "ENOBUFS"],
  [108, "E_IF_NO_BUFFER", "ENOBUFS"],
  [109, "E_IF_TOO_BIG", "EMSGSIZE"],
  [110, "E_IF_CONFIG", "EINVAL"],
  [111, "E_IF_STATE", "EINVAL"],
  [112, "E_IF_RATE_LIMITED", "ENOBUFS"],
  [113, "E_IF_PENDING", "EINPROGRESS"],
  [114, "E_IF_HELD", "EINPROGRESS"],
  // assembly/tcp/codes.ts
  [201, "E_CONNREFUSED", "ECONNREFUSED"],
  [202, "E_CONNRESET", "ECONNRESET"],
  [203, "E_TIMEDOUT", "ETIMEDOUT"],
  [204, "E_PIPE", "EPIPE"],
  [205, "E_NOTCONN", "ENOTCONN"],
  [206, "E_BAD_STATE", "EINVAL"],
  [207, "E_NO_PORT", "EADDRNOTAVAIL"],
  [208, "E_AGAIN", "EAGAIN"],
  [209, "E_NO_PENDING", "EAGAIN"],
  [210, "E_ABORTED", "ECONNABORTED"],
];

const root = new URL("../../../", import.meta.url); // build/tests/host → repository root
/** Every `export const E_NAME: i32 = N;` in the module's code files. */
function moduleCodes(): Map<string, number> {
  const files = ["assembly/errors.ts", "assembly/config.ts", "assembly/glue/api.ts", "assembly/iface/errors.ts", "assembly/tcp/codes.ts"];
  const out = new Map<string, number>();
  for (const f of files) {
    const src = readFileSync(fileURLToPath(new URL(f, root)), "utf8");
    for (const m of src.matchAll(/^export const (E_[A-Z0-9_]+): i32 = (\d+);/gm)) {
      assert.ok(!out.has(m[1]), `${m[1]} defined twice (${f})`);
      out.set(m[1], Number(m[2]));
    }
  }
  return out;
}

test("every module code maps to the listed Node error code, with an errno", () => {
  for (const [code, name, node] of EXPECTED) {
    assert.equal(errorCodeName(code), node, `${code} ${name}`);
    assert.ok(errnoOf(node) !== undefined && errnoOf(node)! < 0, `${node} has a negative errno`);
    const err = systemError(code, "connect", "198.18.0.2", 80);
    assert.equal(err.code, node);
    assert.equal(err.errno, errnoOf(node));
    assert.equal(err.ustackCode, code);
  }
  // Codes 45 and 50–62 specifically (brief K item 3).
  assert.equal(errorCodeName(45), "EADDRNOTAVAIL");
  for (let c = 50; c <= 62; c++) assert.equal(errorCodeName(c), "EINVAL", `code ${c}`);
  // A code the module does not define still gets a recognisable name.
  assert.equal(errorCodeName(299), "EUSTACK299");
});

test("the list above is the module's list: every E_* constant in its sources, same values, no code twice", () => {
  const src = moduleCodes();
  const listed = new Map(EXPECTED.map(([code, name]) => [name, code]));
  for (const [name, code] of src) {
    assert.equal(listed.get(name), code, `${name} = ${code} in the sources: missing from the list (and from host/errors.ts?) or a different value`);
  }
  for (const [name, code] of listed) assert.equal(src.get(name), code, `${name} = ${code} listed but not in the sources`);
  const values = [...src.values()];
  assert.equal(new Set(values).size, values.length, "two module codes share a value");
  // The host mirror (host/abi.ts ERRORS) holds no code the module does not define.
  for (const [name, code] of Object.entries(ERRORS)) {
    if (code === 0) continue;
    assert.equal(src.get(name), code, `host/abi.ts ERRORS.${name}`);
  }
});
