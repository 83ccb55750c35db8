// GET /api/v1/stats response.
import { Type, type Static } from '@sinclair/typebox';
import { named } from './components.js';

const Count = (description: string) => Type.Integer({ minimum: 0, description });

export const StatsSchema = named(
  'Stats',
  Type.Object(
    {
      waiting: Count('Tasks waiting for their dependencies'),
      pending: Count('Tasks waiting for an agent'),
      assigned: Count('Tasks assigned, not yet started'),
      running: Count('Tasks reporting progress'),
      input_required: Count("Tasks waiting for their requester's answer (still holding their agent's slot)"),
      completed: Count('Tasks completed'),
      failed: Count('Tasks failed for good'),
      timed_out: Count('Tasks whose last attempt timed out with no retries left'),
      cancelled: Count('Tasks cancelled'),
      in_progress: Count('assigned + running (MissionControl)'),
      total: Count('Tasks of every status'),
      avg_completion_ms: Type.Integer({ minimum: 0, description: 'Mean time from creation to completion over completed tasks (0 when none)' }),
      oldest_pending_ms: Type.Integer({
        minimum: 0,
        description: 'How long the longest-waiting pending task has waited since it was created or last re-queued (0 when none)',
      }),
    },
    { additionalProperties: false, description: 'Queue statistics' },
  ),
);
export type Stats = Static<typeof StatsSchema>;

// GET /api/v1/stats/timeline response.
export const StatsTimelineSchema = named(
  'StatsTimeline',
  Type.Object(
    {
      minutes: Type.Array(
        Type.Object(
          {
            at: Type.String({ format: 'date-time', description: 'Start of the minute, UTC' }),
            created: Count('Tasks created in that minute'),
            finished: Count('Tasks that reached a terminal status (completed, failed, timed_out, cancelled) in that minute'),
          },
          { additionalProperties: false },
        ),
        { description: 'The last 60 minutes, oldest first; the last one is the current, partial minute' },
      ),
    },
    { additionalProperties: false, description: 'Tasks created and finished per minute over the last hour' },
  ),
);
