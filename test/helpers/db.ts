// A fresh, migrated database per test file, cloned from the template made in global setup.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect, type Sql } from '../../src/store/db.js';

export interface TestDatabase {
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(opts: { template?: string | null } = {}): Promise<TestDatabase> {
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const template = opts.template === undefined ? inject('templateDb') : opts.template;
  const admin = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(template ? `create database ${name} template ${template}` : `create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const sql = connect(url, { max: 5, applicationName: 'dispatch-test' });
  return {
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 1 });
      const a = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
