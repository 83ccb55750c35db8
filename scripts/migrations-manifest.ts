// `npm run migrations:manifest`: record each new migration's checksum.
// The manifest freezes the migrations that have landed: migrations/checksums.txt (0001–0017,
// frozen itself) plus one file per later migration, migrations/checksums/<migration>.sha256. This
// script only ever adds a file — like a migration, an entry is never edited once it lands — and
// refuses (exit 1) when a listed migration changed or is gone, because databases that applied the
// old text would refuse to start (see migrate() in src/store/db.ts). test/migrations.test.ts fails
// on any mismatch and on any migration without an entry.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MIGRATIONS_DIR, readMigrations, type Migration } from '../src/store/db.js';

export const MANIFEST_FILE = 'checksums.txt';
/** One `<migration>.sha256` file per migration after those in checksums.txt. */
export const MANIFEST_DIR = 'checksums';

export interface ManifestEntry {
  name: string;
  checksum: string;
}

/** `<file> <sha256>` per line; `#` lines and blank lines are ignored. */
export function parseManifest(text: string): ManifestEntry[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name, checksum, ...rest] = l.split(/\s+/);
      if (!name || !checksum || rest.length > 0 || !/^[0-9a-f]{64}$/.test(checksum)) {
        throw new Error(`migration manifest: malformed line "${l}" (want "<file> <sha256>")`);
      }
      return { name, checksum };
    });
}

export interface ManifestCheck {
  entries: ManifestEntry[];
  /** Landed migrations whose file changed, was renamed or removed, or is listed twice. */
  problems: string[];
  /** Migration files with no manifest entry yet. */
  unlisted: Migration[];
}

export function checkManifest(dir = MIGRATIONS_DIR): ManifestCheck {
  const file = path.join(dir, MANIFEST_FILE);
  const sub = path.join(dir, MANIFEST_DIR);
  const texts = [
    ...(existsSync(file) ? [readFileSync(file, 'utf8')] : []),
    ...(existsSync(sub)
      ? readdirSync(sub)
          .filter((f) => f.endsWith('.sha256'))
          .sort()
          .map((f) => readFileSync(path.join(sub, f), 'utf8'))
      : []),
  ];
  const entries = texts.flatMap(parseManifest);
  const migrations = readMigrations(dir);
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) problems.push(`${e.name} is listed twice`);
    seen.add(e.name);
    const m = byName.get(e.name);
    if (!m) problems.push(`${e.name} (sha256 ${e.checksum}) has landed but the file no longer exists`);
    else if (m.checksum !== e.checksum) problems.push(`${e.name} has landed with sha256 ${e.checksum}, but the file now has sha256 ${m.checksum}`);
  }
  return { entries, problems, unlisted: migrations.filter((m) => !seen.has(m.name)) };
}

function main(): void {
  const check = checkManifest();
  if (check.problems.length > 0) {
    console.error(`migrations-manifest: landed migrations changed:\n  - ${check.problems.join('\n  - ')}`);
    console.error('migrations are frozen once they land: restore the file and add a new migration');
    process.exit(1);
  }
  if (check.unlisted.length === 0) {
    console.log(`migrations-manifest: the manifest lists all ${check.entries.length} migrations`);
    return;
  }
  mkdirSync(path.join(MIGRATIONS_DIR, MANIFEST_DIR), { recursive: true });
  for (const m of check.unlisted) {
    writeFileSync(path.join(MIGRATIONS_DIR, MANIFEST_DIR, `${m.name}.sha256`), `${m.name} ${m.checksum}\n`);
    console.log(`migrations-manifest: added ${MANIFEST_DIR}/${m.name}.sha256 ${m.checksum}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
