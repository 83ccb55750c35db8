// The three neighbour fakes together (no vitest import, so the chaos harness can use them too).
import type { FailureMode } from './base.js';
import { FakeAlexandria } from './alexandria.js';
import { FakePromptForge } from './promptforge.js';
import { FakeWarren } from './warren.js';

export interface Fakes extends AsyncDisposable {
  promptforge: FakePromptForge;
  warren: FakeWarren;
  alexandria: FakeAlexandria;
  /** Config overrides pointing Dispatch at the fakes. */
  config: { warren: { url: string; token: string }; promptforge: { url: string }; alexandria: { url: string } };
  /** Add an agent to PromptForge (capabilities) and Warren (state) at once. */
  addAgent(id: string, capabilities: string[], state?: string): void;
  /** Every call to all three fails this way until heal(). */
  failAll(mode: FailureMode): void;
  healAll(): void;
  resetCalls(): void;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const [promptforge, warren, alexandria] = await Promise.all([FakePromptForge.start(), FakeWarren.start(), FakeAlexandria.start()]);
  const all = [promptforge, warren, alexandria];
  const close = async () => {
    const results = await Promise.allSettled(all.map((f) => f.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    promptforge,
    warren,
    alexandria,
    config: { warren: { url: warren.url, token: warren.token }, promptforge: { url: promptforge.url }, alexandria: { url: alexandria.url } },
    addAgent(id, capabilities, state = 'ready') {
      promptforge.setPersona(id, capabilities);
      warren.setAgent(id, state);
    },
    failAll(mode) {
      for (const f of all) f.fail(mode);
    },
    healAll() {
      for (const f of all) f.heal();
    },
    resetCalls() {
      for (const f of all) f.resetCalls();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
