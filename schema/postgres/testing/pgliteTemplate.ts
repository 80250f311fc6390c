// Test fixture: a fresh PGlite data dir per call, copied from one initdb'd template
// (initdb takes seconds; a copy does not), migrated on open.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

export interface PgliteTemplate {
  /** A new data dir (for openPostgres({ dataDir })) holding an empty PGlite database. */
  freshDataDir(): Promise<string>;
  dispose(): void;
}

export function pgliteTemplate(): PgliteTemplate {
  const root = mkdtempSync(join(tmpdir(), 'tributary-pglite-template-'));
  let template: Promise<string> | undefined;
  const dirs: string[] = [];
  return {
    async freshDataDir() {
      const src = await (template ??= (async () => {
        const dir = join(root, 'pglite');
        const client = await PGlite.create(dir);
        await client.close();
        return dir;
      })());
      const dataDir = mkdtempSync(join(tmpdir(), 'tributary-pglite-'));
      cpSync(src, join(dataDir, 'pglite'), { recursive: true });
      dirs.push(dataDir);
      return dataDir;
    },
    dispose() {
      for (const d of [root, ...dirs]) rmSync(d, { recursive: true, force: true });
    },
  };
}
