// The Raft core must be a pure, deterministic state machine (notes §5 item 1; etcd-io/raft
// README): no I/O modules, no wall clock, no ambient randomness, no timers, no process access.
// This test scans every .ts file under core/raft (comments stripped, string contents kept only
// for import specifiers) and fails on anything that would break that.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/raft; the sources live at <repo>/core/raft.
const repo = [join(here, '..', '..', '..'), join(here, '..', '..')].find((dir) => {
  try {
    return statSync(join(dir, 'core', 'raft', 'types.ts')).isFile();
  } catch {
    return false;
  }
});
if (repo === undefined) throw new Error(`purity test: cannot find core/raft from ${here}`);
const coreDir = join(repo, 'core', 'raft');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** Removes // and /* *\/ comments, leaving string and template literals in place. */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) i++;
      i += 2;
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      out += src.slice(start, i);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface Finding {
  readonly line: number;
  readonly what: string;
}

const forbidden: [RegExp, string][] = [
  [/\bDate\s*\.\s*now\b/, 'Date.now (wall clock)'],
  [/\bnew\s+Date\b/, 'new Date (wall clock)'],
  [/\bperformance\s*\.\s*now\b/, 'performance.now (wall clock)'],
  [/\bMath\s*\.\s*random\b/, 'Math.random (use config.random)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, 'timer'],
  [/\bprocess\b/, 'process'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'dynamic import()'],
  [/\bglobalThis\b/, 'globalThis'],
  [/\b(async|await)\b/, 'async code (the core runs to completion)'],
];

/** Everything that breaks purity in one source text. */
export function findImpurities(source: string): Finding[] {
  const code = stripComments(source);
  const findings: Finding[] = [];
  const lines = code.split('\n');
  lines.forEach((text, idx) => {
    const line = idx + 1;
    const spec = /\b(?:from|import)\s*['"]([^'"]+)['"]/.exec(text);
    if (spec !== null) {
      const name = spec[1]!;
      if (builtins.has(name) || builtins.has(name.split('/')[0]!) || name.startsWith('node:')) {
        findings.push({ line, what: `imports Node built-in '${name}'` });
      } else if (!name.startsWith('./') && !name.startsWith('../')) {
        findings.push({ line, what: `imports package '${name}' (the core has no dependencies)` });
      }
    }
    // Look for forbidden identifiers outside string literals.
    const bare = text.replace(/(['"`])(?:\\.|(?!\1).)*\1/g, '""');
    for (const [re, what] of forbidden) if (re.test(bare)) findings.push({ line, what });
  });
  return findings;
}

t.test('the scanner itself catches each kind of impurity (so this test can fail)', async (t) => {
  const bad = [
    "import { readFileSync } from 'node:fs';",
    "import * as net from 'net';",
    "import { x } from 'fs/promises';",
    "import ws from 'ws';",
    'const now = Date.now();',
    'const r = Math.random();',
    'setTimeout(() => {}, 1);',
    'const id = setInterval(f, 5);',
    'if (process.env.X) {}',
    "const m = require('os');",
  ];
  for (const line of bad) t.ok(findImpurities(line).length > 0, `flags: ${line}`);
  const good = [
    "import { RaftLog } from './log.js';",
    '// Raft never reaches for Math.random itself; Date.now is banned too',
    '/* setTimeout in a comment */ const a = 1;',
    "const msg = 'process the entries';",
    'const randomness = config.random();',
  ];
  for (const line of good) t.same(findImpurities(line), [], `accepts: ${line}`);
});

t.test('core/raft is pure: no Node built-ins, no clock, no Math.random, no timers, no process', async (t) => {
  const files = tsFiles(coreDir);
  t.ok(files.length >= 10, `found ${files.length} source files under core/raft`);
  for (const file of files) {
    const findings = findImpurities(readFileSync(file, 'utf8'));
    t.same(
      findings.map((f) => `${relative(repo, file)}:${f.line}: ${f.what}`),
      [],
      `${relative(repo, file)} is pure`,
    );
  }
});
