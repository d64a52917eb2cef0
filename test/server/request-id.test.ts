// Request ids: unique within a process, and not shared by two processes (two members).
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { newRequestId } from '../../server/request-id.js';

t.test('ids within one process never repeat', async (t) => {
  const ids = new Set(Array.from({ length: 100_000 }, () => newRequestId()));
  t.equal(ids.size, 100_000);
});

t.test('two processes draw from different prefixes', async (t) => {
  const url = new URL('../../server/request-id.js', import.meta.url).href;
  const script = `import(${JSON.stringify(url)}).then((m) => console.log(m.newRequestId()))`;
  const first = (): string => execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 }).trim();
  const [a, b] = [first(), first()];
  t.match(a, /^[\w-]{13,}$/, 'a prefix of 12 characters, then the counter');
  t.not(a, b, 'the first id of each process differs');
  t.not(a.slice(0, 12), b.slice(0, 12));
});
