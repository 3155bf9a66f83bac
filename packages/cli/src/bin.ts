#!/usr/bin/env node
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;

// The command is done. If something still holds the event loop (a socket or a timer left
// behind by a stopped platform), do not hang the user's terminal, but never cut output that
// a slow reader (`| less`) has not taken yet. Unref'd: a clean exit is not delayed.
const exitOnceFlushed = () => {
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) setTimeout(exitOnceFlushed, 100).unref();
  else process.exit(code);
};
setTimeout(exitOnceFlushed, 2000).unref();
