// Small formatting helpers shared by the views.

export const STATUSES = ['waiting', 'pending', 'assigned', 'running', 'input_required', 'completed', 'failed', 'timed_out', 'cancelled'];
export const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
export const RETRYABLE = new Set(['failed', 'timed_out', 'cancelled']);

/** 3725000 → "1 h 2 min"; 42000 → "42 s". */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** ISO → "2025-01-31 14:03:07" in the browser's time zone, or "—". */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const label = (key) => key.replace(/_/g, ' ');
export const json = (v) => JSON.stringify(v, null, 2);

/** A typed answer: JSON when it parses as JSON, else the text itself. */
export function parseAnswer(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
