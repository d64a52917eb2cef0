// CPU time from /proc: a process's utime+stime, and the whole machine's busy time, so a phase
// can charge the members for what they spent and tell how busy the other tenants were.
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc's utime/stime (USER_HZ: 100 on every Linux port we run on). */
const TICKS = 100;

/** utime+stime of one process in seconds; 0 when it is gone (a killed member in failover). */
export function processCpuSec(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the whole line are 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function sumCpuSec(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuSec(pid), 0);
}

/** CPU seconds the whole machine spent busy (all but idle and iowait) since boot. */
export function machineBusySec(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (total - idle) / TICKS;
}

export interface CpuSample { members: number; loadgen: number; machine: number }

export function sampleCpu(memberPids: readonly number[], loadgenPid: number | undefined): CpuSample {
  return { members: sumCpuSec(memberPids), loadgen: loadgenPid === undefined ? 0 : processCpuSec(loadgenPid), machine: machineBusySec() };
}
