// The console's views, one per URL hash (docs/console.md).
import { useState } from 'preact/hooks';
import { api, query } from './api.js';
import { layoutRun } from './graph.js';
import { duration, json, label, parseAnswer, RETRYABLE, STATUSES, TERMINAL, when } from './format.js';
import { ActionButton, html, Problem, Status, useData } from './ui.js';

const NOT_COUNTS = new Set(['avg_completion_ms', 'oldest_pending_ms']);

// ---------- overview: #/ ----------

export function Overview() {
  const stats = useData(() => api('/stats'), []);
  const timeline = useData(() => api('/stats/timeline'), []);
  const s = stats.data;
  return html`<section aria-labelledby="h-overview">
    <h1 id="h-overview">Overview</h1>
    <${Problem} error=${stats.error} />
    ${
      s &&
      html`<ul class="cards">
          ${Object.entries(s)
            .filter(([k, v]) => !NOT_COUNTS.has(k) && typeof v === 'number')
            .map(
              ([k, v]) =>
                html`<li class=${`card status-${k}`}>
                  <a href=${STATUSES.includes(k) ? `#/tasks${query({ status: k })}` : '#/tasks'}>
                    <span class="count" data-testid=${`stat-${k}`}>${v}</span>
                    <span class="what">${label(k)}</span>
                  </a>
                </li>`,
            )}
        </ul>
        <p class="facts">
          Oldest pending: <strong data-testid="oldest-pending">${s.pending > 0 ? duration(s.oldest_pending_ms) : 'none'}</strong> · Mean time to complete:
          <strong>${s.completed > 0 ? duration(s.avg_completion_ms) : '—'}</strong>
        </p>`
    }
    <h2>Last hour</h2>
    <${Problem} error=${timeline.error} />
    ${timeline.data && html`<${Chart} minutes=${timeline.data.minutes} />`}
  </section>`;
}

function Chart({ minutes }) {
  // Two bars per minute (created, finished) in a stretched SVG; the labels are HTML, so they
  // stay readable at any width.
  const H = 100;
  const max = Math.max(1, ...minutes.map((m) => Math.max(m.created, m.finished)));
  const created = minutes.reduce((a, m) => a + m.created, 0);
  const finished = minutes.reduce((a, m) => a + m.finished, 0);
  const bar = (n) => (n / max) * H;
  return html`<figure class="chart">
    <div class="chart-max">${max} per minute</div>
    <svg viewBox=${`0 0 ${minutes.length * 3} ${H}`} preserveAspectRatio="none" role="img" aria-labelledby="chart-title" data-testid="timeline-chart">
      <title id="chart-title">Tasks per minute over the last hour: ${created} created, ${finished} finished</title>
      ${minutes.map(
        (m, i) =>
          html`<g key=${m.at}>
            <title>${when(m.at)}: ${m.created} created, ${m.finished} finished</title>
            <rect class="created" x=${i * 3 + 0.2} y=${H - bar(m.created)} width="1.2" height=${bar(m.created)} />
            <rect class="finished" x=${i * 3 + 1.5} y=${H - bar(m.finished)} width="1.2" height=${bar(m.finished)} />
          </g>`,
      )}
    </svg>
    <div class="chart-axis"><span>60 min ago</span><span>now</span></div>
    <figcaption><span class="key created"></span> created (${created}) <span class="key finished"></span> finished (${finished})</figcaption>
  </figure>`;
}

// ---------- tasks: #/tasks?status=&assignee=&scope=&requester=&limit=&cursor= ----------

const FILTERS = ['status', 'assignee', 'scope', 'requester'];

export function Tasks({ params, go }) {
  const limit = params.limit || '50';
  const list = useData(
    () => api(`/tasks${query({ ...pick(params, FILTERS), limit, cursor: params.cursor })}`),
    [params.status, params.assignee, params.scope, params.requester, limit, params.cursor],
  );
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    go('tasks', { ...Object.fromEntries(FILTERS.map((k) => [k, String(f.get(k) ?? '').trim()])), limit: String(f.get('limit')) });
  };
  const filtered = FILTERS.some((k) => params[k]);
  return html`<section aria-labelledby="h-tasks">
    <h1 id="h-tasks">Tasks</h1>
    <form class="filters" onSubmit=${submit} aria-label="Filter tasks" key=${JSON.stringify(params)}>
      <label
        >Status
        <select name="status" data-testid="filter-status" value=${params.status ?? ''}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${label(s)}</option>`)}
          <option value="failed,timed_out">failed or timed out</option>
        </select>
      </label>
      ${['assignee', 'scope', 'requester'].map(
        (k) =>
          html`<label
            >${label(k)[0].toUpperCase() + label(k).slice(1)}
            <input name=${k} data-testid=${`filter-${k}`} value=${params[k] ?? ''} autocomplete="off" spellcheck="false"
          /></label>`,
      )}
      <label
        >Per page
        <select name="limit" value=${limit}>
          ${['2', '25', '50', '100', '500'].map((n) => html`<option value=${n}>${n}</option>`)}
        </select>
      </label>
      <button type="submit" data-testid="filter-apply">Apply</button>
      ${filtered && html`<a href="#/tasks" class="button secondary">Clear</a>`}
    </form>
    <${Problem} error=${list.error} />
    ${list.data && html`<${TaskTable} tasks=${list.data.tasks} onChange=${list.reload} />`}
    <nav class="pager" aria-label="Pages">
      ${params.cursor && html`<a href=${`#/tasks${query({ ...pick(params, FILTERS), limit })}`}>First page</a>`}
      ${
        list.data?.next_cursor &&
        html`<a data-testid="next-page" href=${`#/tasks${query({ ...pick(params, FILTERS), limit, cursor: list.data.next_cursor })}`}>Next page</a>`
      }
    </nav>
  </section>`;
}

function TaskTable({ tasks, retry = false, onChange }) {
  if (tasks.length === 0) return html`<p class="empty">No tasks.</p>`;
  return html`<div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Status</th>
          <th scope="col" class="opt">Priority</th>
          <th scope="col" class="opt">Scope</th>
          <th scope="col">Requester</th>
          <th scope="col">Assignee</th>
          <th scope="col" class="opt">Created</th>
          ${
            retry &&
            html`<th scope="col">Error</th>
              <th scope="col"><span class="sr-only">Actions</span></th>`
          }
        </tr>
      </thead>
      <tbody>
        ${tasks.map(
          (t) =>
            html`<tr data-testid="task-row" data-task-id=${t.id} key=${t.id}>
              <td><a href=${`#/tasks/${t.id}`}>${t.title}</a></td>
              <td><${Status} status=${t.status} /></td>
              <td class="opt">${t.priority}</td>
              <td class="opt">${t.scope ?? '—'}</td>
              <td>${t.requester}</td>
              <td>${t.assignee ?? '—'}</td>
              <td class="opt">${when(t.created_at)}</td>
              ${
                retry &&
                html`<td class="wrap">${t.error ?? '—'}</td>
                  <td>
                    <${ActionButton}
                      data-testid="retry-button"
                      aria-label=${`Retry ${t.title}`}
                      action=${() => api(`/tasks/${t.id}/retry`, { method: 'POST', body: {} })}
                      onDone=${onChange}
                      >Retry<//
                    >
                  </td>`
              }
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

// ---------- failed: #/failed ----------

export function Failed() {
  const list = useData(() => api(`/tasks${query({ status: 'failed,timed_out', limit: 100 })}`), []);
  return html`<section aria-labelledby="h-failed">
    <h1 id="h-failed">Failed and timed out</h1>
    <p class="hint">A retry puts the task back in the queue with its retries restored (it waits again if a dependency is not completed).</p>
    <${Problem} error=${list.error} />
    ${list.data && html`<${TaskTable} tasks=${list.data.tasks} retry=${true} onChange=${list.reload} />`}
    ${list.data?.next_cursor && html`<p><a href="#/tasks?status=failed%2Ctimed_out">All of them…</a></p>`}
  </section>`;
}

// ---------- one task: #/tasks/<id> ----------

const aboutTask = (id) => (ev) => ev.correlation_id === id || ev.data?.task?.id === id;

export function TaskDetail({ id }) {
  const task = useData(() => api(`/tasks/${id}`), [id], aboutTask(id));
  const events = useData(() => api(`/tasks/${id}/events`), [id], aboutTask(id));
  const attempts = useData(() => api(`/tasks/${id}/attempts`), [id], aboutTask(id));
  const [armed, setArmed] = useState(false);
  const t = task.data;
  const refresh = () => {
    void task.reload();
    void events.reload();
    void attempts.reload();
  };
  return html`<section aria-labelledby="h-task">
    <p><a href="#/tasks">← Tasks</a></p>
    <${Problem} error=${task.error} />
    ${
      t &&
      html`<h1 id="h-task">${t.title} <${Status} status=${t.status} /></h1>
        <div class="actions">
          ${
            RETRYABLE.has(t.status) &&
            html`<${ActionButton} data-testid="retry-button" action=${() => api(`/tasks/${id}/retry`, { method: 'POST', body: {} })} onDone=${refresh}
              >Retry<//
            >`
          }
          ${
            !TERMINAL.has(t.status) &&
            (armed
              ? html`<${ActionButton}
                    class="danger"
                    data-testid="cancel-confirm"
                    action=${() => api(`/tasks/${id}`, { method: 'PATCH', body: { status: 'cancelled' } })}
                    onDone=${() => {
                      setArmed(false);
                      refresh();
                    }}
                    >Really cancel this task<//
                  ><button type="button" class="secondary" onClick=${() => setArmed(false)}>Keep it</button>`
              : html`<button type="button" data-testid="cancel-button" onClick=${() => setArmed(true)}>Cancel…</button>`)
          }
        </div>
        <dl class="fields">
          ${field('ID', html`<code>${t.id}</code>`)} ${field('Requester', t.requester)} ${field('Assignee', t.assignee)} ${field('Owner', t.owner)}
          ${field('Scope', t.scope)} ${field('Capabilities', t.capabilities?.join(', '))} ${field('Priority', t.priority)}
          ${field('Retries', `${t.retry_count} of ${t.max_retries}`)} ${field('Timeout', duration(t.timeout_ms))} ${field('Error', t.error)}
          ${t.parent_id && field('Parent', html`<a href=${`#/tasks/${t.parent_id}`}>${t.parent_id}</a>`)}
          ${
            t.depends_on?.length > 0 &&
            field(
              'Depends on',
              t.depends_on.map((d) => html`<a href=${`#/tasks/${d}`}>${d.slice(0, 8)}</a> `),
            )
          }
          ${t.workflow_run_id && field('Workflow run', html`<a href=${`#/runs/${t.workflow_run_id}`}>${t.workflow_run_id}</a> (step ${t.step_id})`)}
          ${field('Created', when(t.created_at))} ${field('Assigned', when(t.assigned_at))} ${field('Started', when(t.started_at))}
          ${field('Finished', when(t.completed_at))} ${t.not_before && field('Not before', when(t.not_before))}
          ${t.start_at && field('Starts at', when(t.start_at))}
          ${t.duration_ms != null && field('Window', html`<span data-testid="window-duration">${duration(t.duration_ms)}</span>${t.dry_run ? ' (dry run)' : ''}`)}
          ${t.until && field('Until', html`<span data-testid="window-until" title=${t.until}>${when(t.until)}</span>`)}
          ${t.target != null && field('Target', html`<code data-testid="window-target">${JSON.stringify(t.target)}</code>`)}
          ${t.call && field('Call', html`<code data-testid="task-call">${t.call.method} ${t.call.url}</code>`)}
          ${t.call?.credential && field('Credential', t.call.credential)}
        </dl>
        ${t.input && html`<${InputBox} task=${t} onDone=${refresh} />`}
        ${
          t.description &&
          html`<h2>Description</h2>
            <p class="wrap">${t.description}</p>`
        }
        <h2>Context</h2>
        <pre tabindex="0">${json(t.context)}</pre>
        ${
          t.progress &&
          html`<h2>Progress</h2>
            <pre tabindex="0">${json(t.progress)}</pre>`
        }
        ${
          t.result !== null &&
          t.result !== undefined &&
          html`<h2>Result</h2>
            <pre tabindex="0">${json(t.result)}</pre>`
        }`
    }
    ${
      attempts.data?.attempts.length > 0 &&
      html`<h2>Attempts</h2>
        <${Attempts} attempts=${attempts.data.attempts} />`
    }
    <h2>Timeline</h2>
    <${Problem} error=${events.error} />
    ${events.data && html`<${Timeline} events=${events.data.events} />`}
  </section>`;
}

/** The assignee's question (input_required) with an answer box; once answered, the question and its answer. */
function InputBox({ task, onDone }) {
  const [answer, setAnswer] = useState('');
  const waiting = task.status === 'input_required';
  return html`<section class="input-box" aria-labelledby="h-input">
    <h2 id="h-input">${waiting ? 'Input required' : 'Question'}</h2>
    <p class="wrap" data-testid="input-question">${task.input.question}</p>
    ${
      task.input.schema &&
      html`<details>
        <summary>Answer schema</summary>
        <pre tabindex="0">${json(task.input.schema)}</pre>
      </details>`
    }
    ${
      waiting
        ? html`<label for="input-answer">Answer (JSON, or plain text)</label>
            <textarea id="input-answer" data-testid="input-answer" value=${answer} onInput=${(e) => setAnswer(e.currentTarget.value)}></textarea>
            <div class="actions">
              <${ActionButton}
                data-testid="answer-button"
                disabled=${answer.trim() === ''}
                action=${() => api(`/tasks/${task.id}/input`, { method: 'POST', body: { answer: parseAnswer(answer) } })}
                onDone=${() => {
                  setAnswer('');
                  onDone();
                }}
                >Send answer<//
              >
            </div>`
        : task.input.answered_at && html`<pre tabindex="0" data-testid="input-given">${json(task.input.answer)}</pre>`
    }
  </section>`;
}

const field = (name, value) =>
  value === null || value === undefined || value === ''
    ? null
    : html`<div>
        <dt>${name}</dt>
        <dd>${value}</dd>
      </div>`;

/** GET /tasks/:id/attempts: who, how it ended, and for a call its status code, error and streamed log. */
function Attempts({ attempts }) {
  return html`<table class="attempts" data-testid="task-attempts">
    <thead>
      <tr>
        <th>#</th>
        <th>Agent</th>
        <th>Outcome</th>
        <th>Duration</th>
        <th>Status</th>
        <th>Error / log</th>
      </tr>
    </thead>
    <tbody>
      ${attempts.map(
        (a) =>
          html`<tr data-testid="attempt-row" data-outcome=${a.outcome} key=${a.attempt}>
            <td>${a.attempt}</td>
            <td>${a.agent}</td>
            <td><${Status} status=${a.outcome} /></td>
            <td>${a.duration_ms === null ? '…' : duration(a.duration_ms)}</td>
            <td data-testid="attempt-status">${a.status_code ?? (a.status_code === null ? '—' : '')}</td>
            <td>
              ${a.error && html`<span class="wrap">${a.error}</span>`}
              ${
                a.log &&
                html`<details>
                  <summary>Streamed log</summary>
                  <pre tabindex="0" data-testid="attempt-log">${a.log}</pre>
                </details>`
              }
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function Timeline({ events }) {
  return html`<ol class="timeline" data-testid="task-timeline" aria-live="polite">
    ${events.map((ev) => {
      const d = ev.data ?? {};
      const facts = [
        d.agent && `agent ${d.agent}`,
        d.from_agent && `from ${d.from_agent}`,
        d.score !== undefined && `score ${d.score}`,
        d.woke && 'woken',
        d.reason && `reason ${d.reason}`,
        d.will_retry !== undefined && (d.will_retry ? 'will retry' : 'no retry left'),
        ev.type === 'task.progress' && d.task?.progress?.message,
        ev.type === 'task.progress' && d.task?.progress?.percent !== undefined && `${d.task.progress.percent} %`,
        (ev.type === 'task.failed' || ev.type === 'task.timeout') && d.task?.error,
      ].filter(Boolean);
      return html`<li data-testid="timeline-event" data-type=${ev.type} key=${ev.id}>
        <time datetime=${ev.timestamp}>${when(ev.timestamp)}</time>
        <strong>${ev.type.replace(/^task\./, '')}</strong>
        ${facts.length > 0 && html`<span class="facts">${facts.join(' · ')}</span>`}
      </li>`;
    })}
  </ol>`;
}

// ---------- agents: #/agents ----------

export function Agents() {
  const list = useData(() => api('/agents'), []);
  return html`<section aria-labelledby="h-agents">
    <h1 id="h-agents">Agents</h1>
    <p class="hint">A drained agent gets no new work; what it is doing continues.</p>
    <${Problem} error=${list.error} />
    ${
      list.data &&
      (list.data.agents.length === 0
        ? html`<p class="empty">No agents known.</p>`
        : html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">State</th>
                  <th scope="col" class="opt">Capabilities</th>
                  <th scope="col">Active / limit</th>
                  <th scope="col">Drained</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${list.data.agents.map(
                  (a) =>
                    html`<tr data-testid="agent-row" data-agent-id=${a.id} key=${a.id}>
                      <td><a href=${`#/tasks${query({ assignee: a.id })}`}>${a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id}</a></td>
                      <td><span class=${`badge state-${a.state}`}>${a.state}</span></td>
                      <td class="opt">${a.capabilities.join(', ') || '—'}</td>
                      <td>${a.active_tasks} / ${a.max_concurrent}</td>
                      <td>${a.drained ? 'yes' : 'no'}</td>
                      <td>
                        ${
                          a.drained
                            ? html`<${ActionButton}
                                data-testid="undrain-button"
                                aria-label=${`Undrain ${a.id}`}
                                action=${() => api(`/agents/${encodeURIComponent(a.id)}/drain`, { method: 'DELETE' })}
                                onDone=${list.reload}
                                >Undrain<//
                              >`
                            : html`<${ActionButton}
                                data-testid="drain-button"
                                aria-label=${`Drain ${a.id}`}
                                action=${() => api(`/agents/${encodeURIComponent(a.id)}/drain`, { method: 'POST', body: {} })}
                                onDone=${list.reload}
                                >Drain<//
                              >`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`)
    }
  </section>`;
}

// ---------- schedules: #/schedules ----------

export function Schedules({ features }) {
  const list = useData(() => (features.schedules ? api('/schedules?limit=100') : Promise.resolve(null)), [features.schedules]);
  const missing = !features.schedules || list.error?.status === 404;
  return html`<section aria-labelledby="h-schedules">
    <h1 id="h-schedules">Schedules</h1>
    ${
      missing
        ? html`<p class="empty" data-testid="schedules-unavailable">schedules are not available on this server</p>`
        : html`<${Problem} error=${list.error} /> ${
              list.data &&
              (list.data.schedules.length === 0
                ? html`<p class="empty">No schedules.</p>`
                : html`<div class="table-wrap">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">Name</th>
                          <th scope="col" class="opt">When</th>
                          <th scope="col">Next run</th>
                          <th scope="col" class="opt">Last run</th>
                          <th scope="col">Paused</th>
                          <th scope="col"><span class="sr-only">Actions</span></th>
                        </tr>
                      </thead>
                      <tbody>
                        ${list.data.schedules.map((s) => html`<${ScheduleRow} s=${s} key=${s.id} onChange=${list.reload} />`)}
                      </tbody>
                    </table>
                  </div>`)
            }`
    }
  </section>`;
}

function ScheduleRow({ s, onChange }) {
  const [next, setNext] = useState(null);
  const rule = s.cron ? `cron ${s.cron}` : `at ${s.calendar?.time?.join(', ')}`;
  return html`<tr data-testid="schedule-row" data-schedule-id=${s.id}>
    <td>${s.name}<br /><small>${s.requester} → ${s.workflow ? `workflow ${s.workflow.key}` : s.task?.title}</small></td>
    <td class="opt">${rule} (${s.timezone})</td>
    <td>
      ${s.paused ? '—' : when(s.next_run_at)}
      ${
        next
          ? html`<ul class="next">
              ${next.map((o) => html`<li>${when(o)}</li>`)}
            </ul>`
          : html`<button
              type="button"
              class="link"
              aria-label=${`Next runs of ${s.name}`}
              onClick=${() =>
                api(`/schedules/${s.id}/preview?count=5`).then(
                  (r) => setNext(r.occurrences),
                  () => setNext([]),
                )}
            >
              next 5…
            </button>`
      }
    </td>
    <td class="opt">${when(s.last_run_at)}</td>
    <td>${s.paused ? 'yes' : 'no'}</td>
    <td class="buttons">
      ${
        s.paused
          ? html`<${ActionButton}
              data-testid="resume-button"
              aria-label=${`Resume ${s.name}`}
              action=${() => api(`/schedules/${s.id}`, { method: 'PATCH', body: { paused: false } })}
              onDone=${onChange}
              >Resume<//
            >`
          : html`<${ActionButton}
              data-testid="pause-button"
              aria-label=${`Pause ${s.name}`}
              action=${() => api(`/schedules/${s.id}`, { method: 'PATCH', body: { paused: true } })}
              onDone=${onChange}
              >Pause<//
            >`
      }
      <${ActionButton}
        data-testid="trigger-button"
        aria-label=${`Run ${s.name} now`}
        action=${() => api(`/schedules/${s.id}/trigger`, { method: 'POST', body: {} })}
        onDone=${onChange}
        >Run now<//
      >
    </td>
  </tr>`;
}

// ---------- runs: #/runs and #/runs/<id> ----------

export function Runs() {
  const list = useData(() => api('/runs?limit=50'), []);
  return html`<section aria-labelledby="h-runs">
    <h1 id="h-runs">Workflow runs</h1>
    <${Problem} error=${list.error} />
    ${
      list.data &&
      (list.data.runs.length === 0
        ? html`<p class="empty">No runs.</p>`
        : html`<ul class="runs">
            ${list.data.runs.map(
              (r) =>
                html`<li key=${r.id}>
                  <a href=${`#/runs/${r.id}`}>${r.workflow_key} v${r.version}</a> <${Status} status=${r.status} />
                  <small>${r.requester} · ${when(r.created_at)} · ${r.steps.length} steps</small>
                </li>`,
            )}
          </ul>`)
    }
  </section>`;
}

const aboutRun = (id) => (ev) => ev.correlation_id === id || ev.data?.task?.workflow_run_id === id;

export function RunGraph({ id }) {
  const run = useData(() => api(`/runs/${id}`), [id], aboutRun(id));
  const r = run.data;
  const g = r && layoutRun(r.steps);
  return html`<section aria-labelledby="h-run">
    <p><a href="#/runs">← Runs</a></p>
    <${Problem} error=${run.error} />
    ${
      r &&
      html`<h1 id="h-run">${r.workflow_key} v${r.version} <${Status} status=${r.status} /></h1>
        <p class="facts">
          Run <code>${r.id}</code> · requested by ${r.requester} · started ${when(r.created_at)}${r.completed_at ? ` · ended ${when(r.completed_at)}` : ''}
        </p>
        <div class="graph-wrap" tabindex="0" aria-label="Steps of the run, by dependency depth">
          <div class="graph" style=${`width:${g.width}px;height:${g.height}px`}>
            <svg width=${g.width} height=${g.height} aria-hidden="true">
              <defs>
                <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">
                  <path d="M0,0 L8,4 L0,8 z" />
                </marker>
              </defs>
              ${g.edges.map((e) => html`<path d=${e.path} class="edge" marker-end="url(#arrow)" key=${`${e.from}>${e.to}`} />`)}
            </svg>
            ${g.nodes.map(
              (n) =>
                html`<a
                  class=${`step status-${n.step.status}`}
                  href=${`#/tasks/${n.step.task_id}`}
                  data-testid="run-step"
                  data-step-id=${n.step.step_id}
                  data-status=${n.step.status}
                  style=${`left:${n.x}px;top:${n.y}px;width:${g.box.w}px;height:${g.box.h}px`}
                  key=${n.step.step_id}
                >
                  <span class="step-id">${n.step.step_id}</span>
                  <span class="step-status">${n.step.status.replace('_', ' ')}</span>
                </a>`,
            )}
          </div>
        </div>`
    }
  </section>`;
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => obj[k]).map((k) => [k, obj[k]]));
}

// ---------- flow control: #/flow ----------

/** A limit's numbers as one phrase: "10 per 60 s (burst 10) · 4 at once". */
function limitText(l) {
  const parts = [];
  if (l.rate !== undefined) parts.push(`${l.rate} per ${duration(l.per_ms)} (burst ${l.burst ?? l.rate})`);
  if (l.concurrency !== undefined) parts.push(`${l.concurrency} at once`);
  return parts.join(' · ');
}

export function Flow({ params, go }) {
  const limits = useData(() => api('/flow/limits'), []);
  const key = params.key ?? '';
  const state = useData(() => (key ? api(`/flow/keys/${encodeURIComponent(key)}`) : Promise.resolve(null)), [key]);
  const [draft, setDraft] = useState(key);
  const [minutes, setMinutes] = useState('15');
  const k = state.data;
  return html`<section aria-labelledby="h-flow">
    <h1 id="h-flow">Flow control</h1>
    <p class="hint">Limits by flow key or prefix (<code>user:*</code>); the longest matching pattern applies. A held key's tasks stay pending.</p>
    <h2>Limits</h2>
    <${Problem} error=${limits.error} />
    ${
      limits.data &&
      (limits.data.limits.length === 0
        ? html`<p class="empty">No limits.</p>`
        : html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Pattern</th>
                  <th scope="col">Limit</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                ${limits.data.limits.map(
                  (l) =>
                    html`<tr data-testid="flow-limit-row" data-key=${l.key} key=${l.key}>
                      <td>
                        <a href=${`#/flow${query({ key: l.key.replace(/\*$/, '') || l.key })}`}><code>${l.key}</code></a>
                      </td>
                      <td>${limitText(l)}</td>
                      <td>${l.source}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`)
    }
    <h2>A key</h2>
    <form class="filters" onSubmit=${(e) => (e.preventDefault(), go('flow', draft ? { key: draft } : {}))}>
      <label>Flow key <input data-testid="flow-key-input" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} placeholder="user:42" /></label>
      <button type="submit">Show</button>
    </form>
    <${Problem} error=${state.error} />
    ${
      k &&
      html`<dl class="fields" data-testid="flow-key-state" data-paused=${k.paused_until ? 'yes' : 'no'}>
          <div>
            <dt>Key</dt>
            <dd><code>${k.key}</code></dd>
          </div>
          <div>
            <dt>Limit</dt>
            <dd>${k.limit_key ? html`<code>${k.limit_key}</code>` : 'none'}</dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>${k.tokens === null ? '—' : `${k.tokens} / ${k.capacity}`}</dd>
          </div>
          <div>
            <dt>Active</dt>
            <dd>${k.active}${k.concurrency === null ? '' : ` / ${k.concurrency}`}</dd>
          </div>
          <div>
            <dt>Paused until</dt>
            <dd>${k.paused_until ? when(k.paused_until) : 'not paused'}</dd>
          </div>
        </dl>
        <div class="actions">
          ${
            k.paused_until
              ? html`<${ActionButton}
                  data-testid="unpause-button"
                  action=${() => api(`/flow/keys/${encodeURIComponent(k.key)}/pause`, { method: 'DELETE' })}
                  onDone=${state.reload}
                  >Resume<//
                >`
              : html`<label>Minutes <input type="number" min="1" max="1440" value=${minutes} onInput=${(e) => setMinutes(e.currentTarget.value)} /></label>
                  <${ActionButton}
                    data-testid="pause-button"
                    action=${() =>
                      api(`/flow/keys/${encodeURIComponent(k.key)}/pause`, {
                        method: 'POST',
                        body: { until: new Date(Date.now() + Number(minutes) * 60_000).toISOString() },
                      })}
                    onDone=${state.reload}
                    >Pause<//
                  >`
          }
        </div>`
    }
  </section>`;
}
