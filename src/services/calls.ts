// Call tasks (CONTRACT §18.1, docs/calls.md): the create-time checks of a `call` (its fields
// against http_work, its host against the private-address rule), and a task's attempts.
import type { ServiceContext } from '../context.js';
import { DispatchError, NotFoundError, ValidationError } from '../errors.js';
import { callUrl } from '../core/calls.js';
import { attemptsOf, type Attempt, type AttemptEvent } from '../core/attempts.js';
import { allowedHostSet, checkTarget, resolveAll, type TargetErrors } from '../callbacks/target.js';
import { eventsOfTask } from '../store/events.js';
import { taskExists } from '../store/tasks.js';
import { templateCallProblems, type TaskTemplate } from './new-task.js';

/** How a call's refused host is answered: 400 call_not_allowed (§18.1). */
export const CALL_TARGET_ERRORS: TargetErrors = {
  unresolved: (host, details) => new DispatchError('call_not_allowed', 400, `call url host ${host} does not resolve`, details),
  refused: (why, details) =>
    new DispatchError('call_not_allowed', 400, `call url is not allowed: ${why}; list the host in http_work.allowed_hosts to allow it`, details),
};

/**
 * The call of a create body, checked (nothing is stored when it fails): its fields (a path
 * without http_work.base_url, an unknown credential, a reserved header, a timeout above the
 * task's → 400 validation_failed), then its host (a loopback, private or link-local address, or
 * none, unless in http_work.allowed_hosts → 400 call_not_allowed). The executor checks the
 * address again at connect (DNS rebinding).
 */
export async function checkCall(
  ctx: Pick<ServiceContext, 'config'>,
  body: TaskTemplate,
  resolve: (host: string) => Promise<string[]> = resolveAll,
): Promise<void> {
  if (!body.call) return;
  const problems = templateCallProblems(body, ctx.config, '');
  if (problems.length) throw new ValidationError(`call is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  const url = callUrl(body.call.url, ctx.config.http_work.base_url);
  await checkTarget(url, allowedHostSet(ctx.config.http_work.allowed_hosts), resolve, CALL_TARGET_ERRORS);
}

/** GET /api/v1/tasks/:id/attempts: every attempt of the task, from its events (core/attempts.ts). */
export async function taskAttempts(ctx: Pick<ServiceContext, 'sql'>, id: string): Promise<Attempt[]> {
  const events = await eventsOfTask(ctx.sql, id);
  if (events.length === 0 && !(await taskExists(ctx.sql, id))) throw new NotFoundError('task');
  return attemptsOf(events as unknown as AttemptEvent[]);
}
