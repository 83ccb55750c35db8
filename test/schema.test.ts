// docs/schema.sql is the schema the migrations build (npm run schema), committed so a
// newcomer can read it. This checks it against a database migrated by the suite's global setup.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchema, SCHEMA_FILE } from '../scripts/schema.js';
import { createTestDatabase } from './helpers/db.js';

describe('docs/schema.sql', () => {
  it('is what the migrations build (run `npm run schema` when this fails)', async () => {
    const db = await createTestDatabase();
    try {
      const rendered = await renderSchema(db.sql as never);
      expect(rendered).toContain('create table tasks (');
      expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(rendered);
    } finally {
      await db.drop();
    }
  });
});
