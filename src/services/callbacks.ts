// Callbacks (docs/callbacks.md): the create-time checks of callback_url/callback_events, and a
// task's deliveries for GET /api/v1/tasks/:id/deliveries.
import type { ServiceContext } from '../context.js';
import { DispatchError, NotFoundError, ValidationError } from '../errors.js';
import { allowedHostSet, checkCallbackTarget, parseCallbackUrl } from '../callbacks/target.js';
import { deliveriesOfTask, type DeliveryRow } from '../store/callbacks.js';
import { taskExists } from '../store/tasks.js';

export interface Delivery {
  event_id: string;
  type: string;
  status: DeliveryRow['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

/**
 * The callback fields of a create body, checked: no secret → 400 callbacks_disabled; not an
 * absolute http(s) URL → 400 validation_failed; a host that is or resolves to a non-public
 * address, unless allowed → 400 callback_not_allowed. Resolves to the columns to store.
 */
export async function checkCallback(
  ctx: Pick<ServiceContext, 'config'>,
  body: { callback_url?: string; callback_events?: string[] },
): Promise<{ callback_url: string | null; callback_events: string[] | null }> {
  if (body.callback_url === undefined) {
    if (body.callback_events !== undefined) {
      throw new ValidationError('callback_events needs a callback_url', [{ field: 'callback_events', message: 'needs callback_url' }]);
    }
    return { callback_url: null, callback_events: null };
  }
  if (!ctx.config.webhooks.secret) {
    throw new DispatchError('callbacks_disabled', 400, 'callbacks are disabled: no webhooks.secret is configured to sign them');
  }
  const url = parseCallbackUrl(body.callback_url);
  await checkCallbackTarget(url, allowedHostSet(ctx.config.webhooks.allowed_hosts));
  const events = body.callback_events;
  return { callback_url: body.callback_url, callback_events: events ? (events.includes('*') ? ['*'] : events) : null };
}

export async function taskDeliveries(ctx: Pick<ServiceContext, 'sql'>, taskId: string): Promise<Delivery[]> {
  const rows = await deliveriesOfTask(ctx.sql, taskId);
  if (rows.length === 0 && !(await taskExists(ctx.sql, taskId))) throw new NotFoundError('task');
  return rows.map((r) => ({
    event_id: r.event_id,
    type: r.type,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    next_attempt_at: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    delivered_at: r.delivered_at ? r.delivered_at.toISOString() : null,
  }));
}
