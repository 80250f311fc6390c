// One behaviour suite, run on PGlite always and on a real PostgreSQL server when TEST_DATABASE_URL is set
// (.ci/run sets it): `describeOnEveryStore(name, suite)` registers the suite once per store kind, each
// test getting a fresh, empty database. Call it at the top level of a test file.
import { afterAll, describe, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openPostgres, type OperationalStore } from '../connect.ts';
import { createScratchDatabase } from './scratchDatabase.ts';

/** A fresh, empty database: `open()` may be called again after `close()`, on the same database. */
export interface StoreFixture {
  open(): Promise<OperationalStore>;
  dispose(): Promise<void>;
}

export function describeOnEveryStore(name: string, suite: (name: string, fresh: () => Promise<StoreFixture>) => void): void {
  // PGlite: initdb takes seconds, so it runs once into a template directory that each test copies (a
  // fresh database, as CREATE DATABASE gives on a server); the migrations run on every copy.
  const templateRoot = mkdtempSync(join(tmpdir(), 'tributary-pglite-template-'));
  let template: Promise<string> | undefined;
  const pgliteTemplate = () =>
    (template ??= (async () => {
      const dir = join(templateRoot, 'pglite');
      const client = await PGlite.create(dir);
      await client.close();
      return dir;
    })());
  afterAll(() => rmSync(templateRoot, { recursive: true, force: true }));

  suite(`${name} on PGlite`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-opstore-'));
    cpSync(await pgliteTemplate(), join(dataDir, 'pglite'), { recursive: true });
    return {
      open: () => openPostgres({ dataDir }),
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  });

  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    describe.skip(`${name} on PostgreSQL (set TEST_DATABASE_URL; .ci/run does)`, () => {
      it('runs the same suite against a real server', () => {});
    });
    return;
  }
  suite(`${name} on PostgreSQL`, async () => {
    const scratch = await createScratchDatabase(serverUrl);
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-opstore-'));
    return {
      open: () => openPostgres({ url: scratch.url, dataDir }),
      dispose: async () => {
        rmSync(dataDir, { recursive: true, force: true });
        await scratch.drop();
      },
    };
  });
}
