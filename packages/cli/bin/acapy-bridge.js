#!/usr/bin/env node
import { main } from "../dist/main.js";

const code = await main(process.argv.slice(2));
// A failed start may leave Redis clients and signal handlers that would keep the process up.
if (code !== 0) process.exit(code);
process.exitCode = code;
