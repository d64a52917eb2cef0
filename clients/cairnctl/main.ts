#!/usr/bin/env node
// The cairnctl executable: runs one command line with the process's stdio and environment
// and sets the exit code (0 ok, 1 failure, 2 usage). Everything else is in run.ts.
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
});
