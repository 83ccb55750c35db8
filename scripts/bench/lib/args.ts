// `--key=value` / `--key value` options with defaults; numbers and comma lists parsed by callers.
export function parseArgs(argv = process.argv.slice(2)): Map<string, string> {
  const m = new Map<string, string>();
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[k + 1] !== undefined && !argv[k + 1]!.startsWith('--')) m.set(a.slice(2), argv[++k]!);
    else m.set(a.slice(2), 'true');
  }
  return m;
}

export function numList(v: string | undefined, dflt: number[]): number[] {
  if (!v) return dflt;
  return v
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
}

export function num(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) ? n : dflt;
}
