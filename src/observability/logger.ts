// pino options shared by the service and its tests. Secrets never reach a log line.
import pino, { type Logger, type LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'config.server.admin_token',
  'config.warren.token',
  'config.database.url',
  'config.intake.*.secret',
  '*.secret',
  '*.admin_token',
  '*.token',
  '*.password',
];

export function loggerOptions(level: string, format: 'json' | 'pretty'): LoggerOptions {
  return {
    level,
    base: { service: 'dispatch' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(format === 'pretty' ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  };
}

export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  return pino(loggerOptions(level, format));
}

export type { Logger };
