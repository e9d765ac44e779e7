// as-pect configuration: the core's unit specs live in tests/assembly/.
// The count reporter tallies passes and failures so scripts/test.js can print
// one summary line covering both the as-pect specs and Node's test runner.
export default {
  entries: ["tests/assembly/**/*.spec.ts"],
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  reporter: "tests/assembly/count-reporter.js",
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
