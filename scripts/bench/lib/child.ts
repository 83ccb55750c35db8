// Fork a TypeScript child (through tsx) with an IPC channel, and wait for typed messages.
import { fork, type ChildProcess } from 'node:child_process';

export function forkTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): ChildProcess {
  return fork(script, args, {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function nextMessage<T>(child: ChildProcess, pred: (m: any) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no message from child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMsg = (m: any) => {
      if (pred(m)) {
        cleanup();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child exited (${code}) before the expected message`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
    };
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

export async function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send?.({ type: 'stop' });
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(t);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function waitFor(fn: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return true;
    await sleep(everyMs);
  }
  return false;
}

/**
 * The child's side of a worker process: `report()` every `everyMs` (what it saw since the last one),
 * and on the parent's `stop` (stopChild) the ticker stops, `close()` runs, a last report goes out and
 * the process exits.
 */
export function reportUntilStopped(report: () => void, close: () => Promise<unknown>, everyMs = 25): void {
  const timer = setInterval(report, everyMs);
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    void close()
      .catch(() => {})
      .then(() => {
        report();
        process.exit(0);
      });
  });
}
