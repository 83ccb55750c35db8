// ESLint 9 flat config: typescript-eslint's recommended set plus the rules that keep the shape
// of docs/style.md true — a pure core, SQL only in store/, no import cycles, no dropped promises.
// Deliberately no stylistic rules: formatting is Prettier's job (npm run format:check).
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const TS = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'packages/*/src/**/*.ts', 'packages/*/scripts/**/*.ts', '*.ts'];

// src/ outside store/: no SQL. Every query in the codebase is a tagged template on a pool or a
// transaction named sql, tx or db (bare or as a property: deps.sql`…`), or sql.unsafe(text).
const NO_SQL = [
  {
    selector: 'TaggedTemplateExpression[tag.name=/^(sql|tx|db)$/]',
    message: 'SQL lives in src/store/ only: add or reuse a store function.',
  },
  {
    selector: 'TaggedTemplateExpression[tag.property.name=/^(sql|tx|db)$/]',
    message: 'SQL lives in src/store/ only: add or reuse a store function.',
  },
  {
    selector: "CallExpression[callee.property.name='unsafe']",
    message: 'SQL lives in src/store/ only: add or reuse a store function.',
  },
];
const NO_POSTGRES = {
  name: 'postgres',
  message: 'Only src/store/ and the composition roots (src/main.ts, test/, scripts/) talk to Postgres; use the Sql/Tx/Db types from store/db.js.',
};

// src/core/: pure decisions on plain data. No I/O modules, no clock, no randomness, no timers:
// time and random come in as arguments (docs/style.md, "One clock, passed into SQL").
const CORE_IO_MESSAGE = 'src/core/ is pure: no I/O. Take the data as an argument; the shell (scheduler/, services/, store/) does the I/O.';
const CORE_NO_IO_IMPORTS = {
  paths: [NO_POSTGRES, ...builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: CORE_IO_MESSAGE }))],
  patterns: [
    { group: ['node:*'], message: CORE_IO_MESSAGE },
    { group: ['postgres', 'undici', 'undici/*', 'fastify', 'fastify/*', '@fastify/*', '@nats-io/*', 'pino', 'pino-*'], message: CORE_IO_MESSAGE },
  ],
};
const CORE_CLOCK_MESSAGE = 'src/core/ is pure: take `now` (or a random source) as an argument.';
const CORE_NO_CLOCK_SYNTAX = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: CORE_CLOCK_MESSAGE },
  { selector: "CallExpression[callee.name='Date']", message: CORE_CLOCK_MESSAGE },
];
const CORE_NO_CLOCK_PROPERTIES = [
  { object: 'Date', property: 'now', message: CORE_CLOCK_MESSAGE },
  { object: 'Math', property: 'random', message: CORE_CLOCK_MESSAGE },
  { object: 'performance', property: 'now', message: CORE_CLOCK_MESSAGE },
  { object: 'process', property: 'hrtime', message: CORE_CLOCK_MESSAGE },
];
const CORE_NO_TIMER_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'performance', 'fetch'].map((name) => ({
  name,
  message: 'src/core/ is pure: no timers or I/O; the loop shell owns time.',
}));

export default defineConfig(
  { ignores: ['node_modules/', '**/dist/', 'coverage/', '.data/', '.data-swarm/', 'docs/', 'packages/*/src/generated/'] },

  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  // The operator console (console/): browser ES modules, served as they are (no build step).
  {
    files: ['console/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // TypeScript: type-aware parsing (tsconfig.json covers src/, test/, scripts/), so rules such as
  // no-floating-promises can see types.
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: TS })),
  {
    files: TS,
    languageOptions: {
      // vitest.config.ts sits outside tsconfig.json's include: it gets a default project.
      parserOptions: { projectService: { allowDefaultProject: ['*.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Follow `./x.js` specifiers to x.ts and parse .ts dependencies, or no-cycle sees no graph.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // A promise nobody awaits loses its rejection: around loops and timers that is a silent stall.
      // Deliberate fire-and-forget is written `void p`.
      '@typescript-eslint/no-floating-promises': 'error',
      // Modules form layers (docs/style.md "Shape"); a cycle means a layer reaches back up.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Unused arguments named _x are deliberate (interface conformance, positional callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // Tests and scripts read JSON bodies, NATS messages and child-process output as `any` and let
  // expect() (or the bench's own checks) do the typing: no-explicit-any there would only add casts.
  // It stays on in src/.
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // No SQL outside src/store/ (the composition root src/main.ts builds pools but runs no SQL).
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/main.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [NO_POSTGRES] }],
      'no-restricted-syntax': ['error', ...NO_SQL],
    },
  },
  // The layers (docs/architecture.md): use cases never reach up into HTTP, and the scheduler gets
  // the use cases it runs (the deadline sweeps) from the composition root. A later block for the
  // same rule replaces the options, so each repeats NO_POSTGRES.
  {
    files: ['src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_POSTGRES],
          patterns: [{ group: ['../http/*', '../http/**'], message: 'services/ never imports http/: move what both need to core/ or schemas/.' }],
        },
      ],
    },
  },
  {
    files: ['src/assignment/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_POSTGRES],
          patterns: [{ group: ['../services/*', '../services/**'], message: 'assignment/ never imports services/: app.ts hands it the use cases it runs.' }],
        },
      ],
    },
  },
  // The pure core; a later block for the same rule replaces the options, so it repeats NO_SQL.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', CORE_NO_IO_IMPORTS],
      'no-restricted-syntax': ['error', ...NO_SQL, ...CORE_NO_CLOCK_SYNTAX],
      'no-restricted-properties': ['error', ...CORE_NO_CLOCK_PROPERTIES],
      'no-restricted-globals': ['error', ...CORE_NO_TIMER_GLOBALS],
    },
  },
);
