// Deno suite (run by `npm test` through `npx deno test`): the same host code runs
// unmodified under Deno.
import { instantiate } from "../../host/index.ts";

function assertEq<T>(a: T, b: T, msg: string): void {
  if (a !== b) throw new Error(`${msg}: ${String(a)} !== ${String(b)}`);
}

Deno.test("release module instantiates and ticks under Deno", async () => {
  const { exports } = await instantiate("release");
  assertEq(typeof exports.init, "function", "init exported");
  assertEq(typeof exports.tick, "function", "tick exported");
});
