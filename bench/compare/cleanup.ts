// Everything `npm run bench` starts is registered here, so that it is all stopped and its temp
// dirs removed however the run ends: normally, on an error, on Ctrl-C or SIGTERM, or (SIGKILL
// of the members only, synchronously) on a plain process exit.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';

export interface Teardown {
  /** The orderly way: kill, wait, remove the dirs. */
  destroy(): Promise<void>;
  /** Synchronous last resort for process exit. */
  pids(): number[];
  dirs(): string[];
}

const live = new Set<Teardown>();
const children = new Set<ChildProcess>();

export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

export function track<T extends Teardown>(t: T): T {
  live.add(t);
  return t;
}

export async function release(t: Teardown): Promise<void> {
  live.delete(t);
  await t.destroy();
}

/** A load generator: killed with the rest if the run is interrupted while it runs. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export async function releaseAll(): Promise<void> {
  await Promise.all([...children].map((c) => killChild(c)));
  await Promise.all([...live].map((t) => release(t)));
}

function lastResort(): void {
  for (const c of children) c.kill('SIGKILL');
  for (const t of live) {
    for (const pid of t.pids()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    for (const dir of t.dirs()) rmSync(dir, { recursive: true, force: true });
  }
}

/** Ctrl-C and SIGTERM stop everything and exit; exit kills what is left. Bounded: 10 s. */
export function installHandlers(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every member and load generator`);
    setTimeout(() => { lastResort(); process.exit(1); }, 10_000).unref();
    void releaseAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', lastResort);
}
