// `npm run cluster`: three members on loopback (clients 4001-4003, peers 7001-7003) in the
// foreground, each log line prefixed with its member's name; Ctrl-C stops them all.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const names = ['infra1', 'infra2', 'infra3'];
const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${7001 + i}`).join(',');
const children: ChildProcess[] = [];

names.forEach((name, i) => {
  const child = spawn(process.execPath, [
    MAIN, '--name', name,
    '--listen-client-urls', `http://127.0.0.1:${4001 + i}`, '--advertise-client-urls', `http://127.0.0.1:${4001 + i}`,
    '--listen-peer-urls', `http://127.0.0.1:${7001 + i}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${7001 + i}`,
    '--initial-cluster', initialCluster,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line !== '') process.stdout.write(`${name.padEnd(7)}| ${line}\n`);
  };
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  child.on('exit', (code, signal) => process.stdout.write(`${name.padEnd(7)}| exited (${signal ?? code})\n`));
  children.push(child);
});

let stopping = false;
function stopAll(): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  // Members that do not stop within 5 s are killed, so Ctrl-C always returns the terminal.
  const deadline = setTimeout(() => { for (const c of children) c.kill('SIGKILL'); }, 5000);
  deadline.unref();
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
