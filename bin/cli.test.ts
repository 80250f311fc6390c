import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { buildProgram } from './tributary.ts';

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [{ path, cmd: c }, ...allCommands(c, path)];
  });
}

// The verbs of DESIGN.md, no other spellings.
const VERBS = [
  'up', 'devnet', 'index', 'serve', 'api', 'train', 'contribute',
  'datanet create', 'datanet review', 'datanet publish', 'datanet grant',
  'keys create', 'attribute', 'attribution eval', 'attribution verify', 'claim',
];

describe('tributary CLI', () => {
  it('has exactly the verbs of DESIGN.md, each with help text', () => {
    const leaves = allCommands(buildProgram()).filter((c) => c.cmd.commands.length === 0);
    expect(leaves.map((c) => c.path.join(' ')).sort()).toEqual([...VERBS].sort());
    for (const { cmd } of leaves) {
      expect(cmd.description().length).toBeGreaterThan(10);
      expect(cmd.helpInformation()).toMatch(/^Usage: /);
    }
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['bin/tributary.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('prints help for a verb through the installed bin and exits 0', () => {
    const r = cli(['up', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: tributary up');
    expect(r.stdout).toContain('--no-demo');
  });

  it('says what a verb is missing, exiting 2', () => {
    const r = cli(['attribute']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('`tributary attribute` needs --epoch <n> (one ended epoch) or --watch (each epoch as it ends)');
  });

  it('rejects bad configuration before starting anything', () => {
    const r = cli(['up'], { PORT: 'eighty', TRIBUTARY_DATA_DIR: '/nonexistent/should-not-be-created' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Invalid configuration');
    expect(r.stderr).toContain('PORT');
  });

  it('rejects an unknown verb with help', () => {
    const r = cli(['deploy']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown command 'deploy'");
  });
});
