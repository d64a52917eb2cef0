#!/usr/bin/env node
// The cairnctl executable: runs one command line with the process's stdio and environment
// and sets the exit code (0 ok, 1 failure, 2 usage). Everything else is in run.ts.
// SIGINT/SIGTERM abort io.signal so long-running commands (watch, lock, elect, agent,
// service register) can clean up — withdraw, deregister, stop children — before exiting;
// a second signal, or a command that has not finished 5 s later, exits at once.
import { runCli } from './run.js';

const GRACE_MS = 5_000;
const stopping = new AbortController();
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping.signal.aborted) process.exit(130);
  stopping.abort(new Error(`cairnctl: ${signal}`));
  setTimeout(() => process.exit(130), GRACE_MS).unref();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  signal: stopping.signal,
});
process.removeListener('SIGINT', onSignal);
process.removeListener('SIGTERM', onSignal);
