import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { migrationsFolder } from './connect.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-migrations-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('the checked-in migrations match tables.ts (run drizzle-kit generate after changing it)', () => {
  // drizzle-kit generate on a copy: a stale migrations folder makes it write a new migration.
  cpSync(migrationsFolder, join(dir, 'migrations'), { recursive: true });
  const bin = resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'drizzle-kit');
  const tables = join(import.meta.dirname, 'tables.ts');
  // drizzle-kit prefixes `out` with './', so it runs inside the copy's parent with a relative path.
  const r = spawnSync(bin, ['generate', '--dialect', 'postgresql', '--schema', tables, '--out', 'migrations'], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('No schema changes, nothing to migrate');
  expect(readdirSync(join(dir, 'migrations')).sort()).toEqual(readdirSync(migrationsFolder).sort());
});
