// Flow control use cases (CONTRACT §20, docs/flow-control.md): the limits (config + api), a key's
// state, pauses. The enforcement itself is the scheduler's (assignment/flow.ts) and dispatch_assign's.
import type { ServiceContext } from '../context.js';
import {
  configLimits,
  limitFor,
  limitProblems,
  mergeLimits,
  normalLimit,
  pauseProblem,
  standingOf,
  tokensAt,
  type FlowLimit,
  type FlowLimitSpec,
  type FlowStanding,
} from '../core/flow.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { Db } from '../store/db.js';
import { apiLimits, deleteLimit as deleteApiLimit, keyState, putLimit as putApiLimit, setPause } from '../store/flow.js';

/** The limits in force: config ones not overridden, and the api ones (burst defaults filled in). */
export async function limitsInForce(ctx: Pick<ServiceContext, 'config'>, db: Db): Promise<FlowLimit[]> {
  return mergeLimits(configLimits(ctx.config.flow.limits), await apiLimits(db)).map(normalLimit);
}

export async function listLimits(ctx: ServiceContext): Promise<{ limits: FlowLimit[] }> {
  return { limits: await limitsInForce(ctx, ctx.sql) };
}

export async function putLimit(ctx: ServiceContext, key: string, body: FlowLimitSpec): Promise<FlowLimit> {
  const problems = limitProblems(body);
  if (problems.length) throw new ValidationError(`body is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  const stored = await putApiLimit(ctx.sql, key, body, ctx.clock.now());
  ctx.signals.emit('assign-needed'); // a looser limit may free held tasks now
  return normalLimit(stored);
}

export async function deleteLimit(ctx: ServiceContext, key: string): Promise<void> {
  if (!(await deleteApiLimit(ctx.sql, key))) throw new NotFoundError('api flow limit');
  ctx.signals.emit('assign-needed');
}

export interface FlowKeyView {
  key: string;
  limit_key: string | null;
  tokens: number | null;
  capacity: number | null;
  active: number;
  concurrency: number | null;
  paused_until: string | null;
}

/** A key's state now, and its standing (explain reads that). */
export async function keyStanding(ctx: Pick<ServiceContext, 'config' | 'clock'>, db: Db, key: string): Promise<{ view: FlowKeyView; standing: FlowStanding }> {
  const [limits, state] = await Promise.all([limitsInForce(ctx, db), keyState(db, key)]);
  const now = ctx.clock.now().getTime();
  const limit = limitFor(key, limits);
  const tokens = limit ? tokensAt(limit, state, now) : null;
  const paused = state.paused_until && state.paused_until.getTime() > now ? state.paused_until.toISOString() : null;
  return {
    view: {
      key,
      limit_key: limit?.key ?? null,
      tokens: tokens === null ? null : Math.round(Math.max(0, tokens) * 1000) / 1000,
      capacity: limit?.rate !== undefined ? (limit.burst ?? limit.rate) : null,
      active: state.active,
      concurrency: limit?.concurrency ?? null,
      paused_until: paused,
    },
    standing: standingOf(key, limit, state, now),
  };
}

export async function keyView(ctx: ServiceContext, key: string): Promise<FlowKeyView> {
  return (await keyStanding(ctx, ctx.sql, key)).view;
}

export async function pauseKey(ctx: ServiceContext, key: string, until: string): Promise<FlowKeyView> {
  const now = ctx.clock.now();
  const at = new Date(until);
  const problem = pauseProblem(at.getTime(), now.getTime());
  if (problem) throw new ValidationError(`until ${problem}`, [{ field: 'until', message: problem }]);
  await setPause(ctx.sql, key, at, now);
  return keyView(ctx, key);
}

export async function unpauseKey(ctx: ServiceContext, key: string): Promise<void> {
  await setPause(ctx.sql, key, null, ctx.clock.now());
  ctx.signals.emit('assign-needed');
}
