#!/usr/bin/env node
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// The command is done; if something still holds the event loop (a socket or timer left by a
// stopped platform), do not hang the user's terminal. Unref'd: a clean exit is not delayed.
setTimeout(() => process.exit(code), 2000).unref();
