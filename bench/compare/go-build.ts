// Gets the etcd side ready: etcd itself, the Go toolchain and clientv3's sources from Debian's
// packages (installed with apt-get if missing, saying so), then builds bench/etcd-load into the
// git-ignored bench/.build in GOPATH mode (Debian ships the sources, not modules). The binary
// is rebuilt only when a .go file is newer; it is never committed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const GOCODE = '/usr/share/gocode';
const CLIENTV3 = join(GOCODE, 'src/go.etcd.io/etcd/clientv3/client.go');

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function aptInstall(packages: readonly string[]): void {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args: string[]): boolean => {
    const [cmd, ...rest] = [...sudo, ...args];
    console.log(`bench: running ${[cmd, ...rest].join(' ')}`);
    return spawnSync(cmd!, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (run(['apt-get', 'install', '-y', ...packages])) return;
  // A fresh machine may not have package lists yet.
  if (run(['apt-get', 'update']) && run(['apt-get', 'install', '-y', ...packages])) return;
  throw new Error(`could not install ${packages.join(' ')}; install them and run again`);
}

/** Installs what is missing: etcd-server (etcd 3.4), golang-go and golang-etcd-server-dev. */
export function ensureTools(): void {
  const missing: string[] = [];
  if (!onPath('etcd')) missing.push('etcd-server');
  if (!onPath('go')) missing.push('golang-go');
  if (!existsSync(CLIENTV3)) missing.push('golang-etcd-server-dev');
  if (missing.length === 0) return;
  console.log(`bench: missing ${missing.join(', ')} (etcd and Go clientv3 for the etcd side of the comparison)`);
  aptInstall(missing);
}

function newestMtime(dir: string): number {
  return Math.max(...readdirSync(dir).filter((f) => f.endsWith('.go')).map((f) => statSync(join(dir, f)).mtimeMs));
}

/** Builds (if stale) and returns the path of the etcd-load binary. */
export function buildEtcdLoad(repoRoot: string): string {
  ensureTools();
  const source = join(repoRoot, 'bench/etcd-load');
  const outDir = join(repoRoot, 'bench/.build');
  const binary = join(outDir, 'etcd-load');
  if (existsSync(binary) && statSync(binary).mtimeMs > newestMtime(source)) return binary;
  mkdirSync(outDir, { recursive: true });
  console.log(`bench: building ${binary} from bench/etcd-load (go build, GOPATH=${GOCODE}, GO111MODULE=off)`);
  const env = { ...process.env, GOPATH: GOCODE, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: join(outDir, 'go-cache') };
  const built = spawnSync('go', ['build', '-o', binary, '.'], { cwd: source, env, stdio: 'inherit', timeout: 600_000 });
  if (built.status !== 0) throw new Error('go build of bench/etcd-load failed (see above)');
  return binary;
}
