import { test } from "node:test";
import assert from "node:assert/strict";
import { instantiate } from "../../host/index.ts";

test("release and debug modules instantiate and tick", async () => {
  for (const flavor of ["release", "debug"] as const) {
    const { exports } = await instantiate(flavor);
    assert.equal(exports.init(5_000_000n), 0);
    assert.equal(exports.tick(6_000_000n), -1n, "no timers pending: tick returns -1");
  }
});
