// A request's logger (fastify's `request.log`), made a pino child only when something is logged
// at a level the service logs. fastify builds one child per request (its reqId binding); a pino
// child copies the bindings and re-applies the redaction paths, ~8 µs per request on the 2-core
// box (17 µs per lifecycle of two requests: docs/benchmarks.md run 19), while most requests log nothing at `warn`, and at `info` only
// fastify's two request lines. The child, once made, is the same as fastify's own would be.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type Write = (this: Logger, ...args: unknown[]) => void;

export class RequestLogger {
  private made: Logger | undefined;

  constructor(
    private readonly root: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions | undefined,
  ) {}

  get level(): string {
    return this.made?.level ?? this.root.level;
  }

  set level(level: string) {
    this.child().level = level;
  }

  /** The pino child (made on first use). */
  child(): Logger;
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger;
  child(bindings?: Bindings, options?: ChildLoggerOptions): Logger {
    this.made ??= this.root.child(this.bindings, this.options);
    return bindings === undefined ? this.made : this.made.child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.root).isLevelEnabled(level);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    const child = this.child();
    (child[level] as Write).apply(child, args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}
}

/**
 * fastify's `childLoggerFactory`: a RequestLogger over the server's logger. A route with a log
 * level or serializers of its own (fastify's `logLevel`, `logSerializers`) gets its child at once,
 * as fastify would make it.
 */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions | undefined): FastifyBaseLogger {
  if (options?.level !== undefined || options?.serializers !== undefined) return logger.child(bindings, options);
  return new RequestLogger(logger as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger;
}
