// A workflow run's steps laid out for drawing: one column per dependency depth (a step sits one
// column right of its deepest dependency), steps in a column in definition order. Pure: positions
// in abstract units, the view scales them.

/** depth of each step: 0 without dependencies, else 1 + the deepest dependency's depth. */
export function stepDepths(steps) {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const depth = new Map();
  const visit = (id, seen) => {
    if (depth.has(id)) return depth.get(id);
    const step = byId.get(id);
    if (!step || seen.has(id)) return 0; // unknown or cyclic (runs cannot have cycles): no crash
    seen.add(id);
    const d = (step.depends_on ?? []).reduce((m, dep) => Math.max(m, visit(dep, seen) + 1), 0);
    seen.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const s of steps) visit(s.step_id, new Set());
  return depth;
}

/**
 * {nodes:[{step, col, row, x, y}], edges:[{from, to, path}], width, height} for boxes of
 * w×h with gaps gx/gy. Edges go from the right side of a dependency to the left side of its step.
 */
export function layoutRun(steps, { w = 180, h = 56, gx = 64, gy = 20 } = {}) {
  const depths = stepDepths(steps);
  const columns = [];
  const nodes = new Map();
  for (const step of steps) {
    const col = depths.get(step.step_id) ?? 0;
    columns[col] ??= [];
    const row = columns[col].length;
    columns[col].push(step);
    nodes.set(step.step_id, { step, col, row, x: col * (w + gx), y: row * (h + gy) });
  }
  const edges = [];
  for (const step of steps) {
    const to = nodes.get(step.step_id);
    for (const dep of step.depends_on ?? []) {
      const from = nodes.get(dep);
      if (!from) continue;
      const x1 = from.x + w;
      const y1 = from.y + h / 2;
      const x2 = to.x;
      const y2 = to.y + h / 2;
      const mx = (x1 + x2) / 2;
      edges.push({ from: dep, to: step.step_id, path: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` });
    }
  }
  const rows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  return {
    nodes: [...nodes.values()],
    edges,
    width: Math.max(1, columns.length) * (w + gx) - gx,
    height: rows * (h + gy) - gy,
    box: { w, h },
  };
}
