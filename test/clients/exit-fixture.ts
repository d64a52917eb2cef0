// Run as a child process by client.test.ts: leaves a call hanging, a call backing off for a
// long time and a watch open, closes the client and the mock member, and then simply
// returns. The process exits on its own only if close() left no socket or timer behind.
import { connect, isCairnError } from '../../clients/index.js';
import { MockServer, waitUntil } from './mock-server.js';

const server = await MockServer.start();
server.on('kv.get', () => 'hang');
server.on('kv.set', () => ({ error: { code: 301, message: 'no leader', data: { retryable: true } } }));
server.on('kv.watch', () => ({ result: { subscription: 'w', index: 1 } }));
const client = await connect({ endpoints: [server.url], retryBaseMs: 30_000, retryMaxMs: 60_000, random: () => 0.999 });
const code = (e: unknown): string => (isCairnError(e) ? String(e.code) : String(e));
const get = client.get('/k').then(() => 'answered', code);
const set = client.set('/k', 'v', { timeoutMs: 120_000 }).then(() => 'answered', code);
const watch = (async () => {
  for await (const event of client.watch('/k')) return `event ${event.index}`;
  return 'ended';
})();
await waitUntil(() => ['kv.get', 'kv.set', 'kv.watch'].every((m) => server.calls(m).length === 1), 'all three calls');
client.close();
await server.close();
process.stdout.write(`closed: get ${await get}, set ${await set}, watch ${await watch}\n`);
