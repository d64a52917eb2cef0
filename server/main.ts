// The `cairn` member process: parse flags, start the member and its client port, and stop
// cleanly on SIGTERM or SIGINT. SIGKILL at any instant loses no acknowledged write: nothing
// is acknowledged before it is durable on a quorum.
import { startRecipeServices } from '../recipes/index.js';
import { startClientServer } from './client-server.js';
import type { ClientServer } from './client-server.js';
import { FlagError, parseFlags } from './flags.js';
import { consoleLogger } from './log.js';
import { Member } from './member.js';

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`cairn: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = consoleLogger(flags.name);
  const member = await Member.start(flags, logger);
  const clientUrl = flags.listenClientUrls[0]!;
  let client: ClientServer;
  try {
    client = await startClientServer(member, {
      host: clientUrl.hostname, port: Number(clientUrl.port), maxConnections: flags.maxConnections,
      maxRequestBytes: flags.maxRequestBytes, maxInflight: flags.maxInflightPerConnection,
      maxSubscriptions: flags.maxSubscriptionsPerConnection, maxStreamBufferBytes: flags.maxWatchBufferBytes,
    });
  } catch (error) {
    await member.stop();
    throw error;
  }
  const recipes = startRecipeServices(member, logger);
  logger.log('info', `serving clients on http://${clientUrl.hostname}:${client.port} (JSON-RPC at /rpc), peers on ${flags.listenPeerUrls[0]!.toString()}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log('info', `${signal}: stopping`);
    void recipes.stop().then(() => Promise.all([client.close(), member.stop()])).then(
      () => process.exit(0),
      (error: Error) => {
        logger.log('error', `stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error & { code?: string }) => {
  process.stderr.write(`cairn: ${error.message}${error.code !== undefined ? ` (${error.code})` : ''}\n`);
  process.exit(1);
});
