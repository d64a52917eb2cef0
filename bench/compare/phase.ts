// One phase: one load generator process against one system. Its JSON lines drive the phase:
// on `start` and `end` the members' CPU (and the load generator's, and the machine's) is read
// from /proc, on `leader` that member is killed, and `result` is the outcome.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { toArgs } from '../cairn-load/options.js';
import type { LoadEvent, LoadOptions, LoadResult } from '../cairn-load/options.js';
import { killChild, trackChild } from './cleanup.js';
import { sampleCpu } from './proc.js';
import type { CpuSample } from './proc.js';
import type { System } from './systems.js';

export interface PhaseOutcome {
  result: LoadResult;
  /** Members' CPU in the measured window, summed. */
  serverCpuSec: number;
  loadgenCpuSec: number;
  /** Busy CPU of everything else on the machine in the window: other tenants' noise. */
  foreignCpuSec: number;
}

interface Tally { start?: CpuSample; end?: CpuSample; result?: LoadResult; kills: Promise<void>[] }

function onLine(line: string, system: System, pid: number | undefined, tally: Tally): void {
  let event: LoadEvent;
  try {
    event = JSON.parse(line) as LoadEvent;
  } catch {
    return; // not ours (a library's log line)
  }
  if (event.event === 'start') tally.start = sampleCpu(system.memberPids(), pid);
  else if (event.event === 'end') tally.end = sampleCpu(system.memberPids(), pid);
  else if (event.event === 'leader') tally.kills.push(system.killEndpoint(event.endpoint));
  else if (event.event === 'result') {
    const { event: _drop, ...result } = event;
    tally.result = result;
  }
}

function outcome(tally: Tally): PhaseOutcome {
  const { start, end, result } = tally;
  if (start === undefined || end === undefined || result === undefined) throw new Error('load generator ended without start, end and result');
  const serverCpuSec = end.members - start.members;
  const loadgenCpuSec = end.loadgen - start.loadgen;
  return { result, serverCpuSec, loadgenCpuSec, foreignCpuSec: Math.max(0, end.machine - start.machine - serverCpuSec - loadgenCpuSec) };
}

/** Runs `command` with the load options; bounded by `timeoutMs`, killed on any failure. */
export async function runPhase(system: System, command: readonly string[], options: LoadOptions, timeoutMs: number): Promise<PhaseOutcome> {
  const [cmd, ...args] = command;
  const child = spawn(cmd!, [...args, ...toArgs(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  const tally: Tally = { kills: [] };
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => { stderr.push(chunk.toString()); if (stderr.length > 100) stderr.shift(); });
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, system, child.pid, tally));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${system.kind} ${options.workload} took over ${timeoutMs} ms`)), timeoutMs);
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    await Promise.all(tally.kills);
    if (code !== 0) throw new Error(`${system.kind} load generator exited with ${code}`);
    return outcome(tally);
  } catch (error) {
    const tail = stderr.join('').split('\n').slice(-15).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail}`);
  } finally {
    clearTimeout(timer);
    await killChild(child);
  }
}
