// as-pect configuration: the core's unit specs live in tests/assembly/.
// The count reporter tallies passes and failures so scripts/test.js can print
// one summary line covering both the as-pect specs and Node's test runner.
export default {
  // ASPECT_ENTRIES="tests/assembly/wheel*.spec.ts" narrows a run to some spec files.
  entries: process.env.ASPECT_ENTRIES ? process.env.ASPECT_ENTRIES.split(",") : ["tests/assembly/**/*.spec.ts"],
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  reporter: "tests/assembly/count-reporter.js",
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
