// as-pect reporter that appends one JSON line per spec file ({file, total, pass})
// to the file named by ASPECT_COUNTS, so scripts/test.js can sum them up.
import { appendFileSync } from "node:fs";

class CountReporter {
  stdout = null;
  stderr = null;
  onEnter() {}
  onExit() {}
  onFinish(ctx) {
    const out = process.env.ASPECT_COUNTS;
    if (!out) return;
    const failed = [];
    const walk = (node) => {
      for (const c of node.children ?? []) {
        if (c.type === 1 /* test */ && !c.pass) failed.push(c.name);
        walk(c);
      }
    };
    try { walk(ctx.rootNode); } catch { /* shape differs: counts still written */ }
    appendFileSync(out, JSON.stringify({
      file: ctx.fileName, total: ctx.testCount, pass: ctx.testPassCount, failed,
    }) + "\n");
  }
}
export default new CountReporter();
