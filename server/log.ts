// The member's logger: one line per event on stderr, prefixed with the member's name, so
// several members in one terminal (npm run cluster) stay readable.
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string): void;
}

export function consoleLogger(name: string): Logger {
  return {
    log(level, message) {
      process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} [${name}] ${message}\n`);
    },
  };
}
