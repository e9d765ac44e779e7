#!/usr/bin/env node
// The `ustack` command: a shim over the compiled CLI (build/host/cli/main.js; `npm run build`).
import { main } from "../build/host/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
