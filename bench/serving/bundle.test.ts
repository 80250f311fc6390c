import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'tributary-bench-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench:serving:bundle', () => {
  it('writes a benchmark that runs with plain node from a folder with no node_modules but its own webgpu', () => {
    execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'serving', 'bundle.ts'), '--out', out], { cwd: root, stdio: 'pipe' });
    expect(existsSync(path.join(out, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node'))).toBe(true);
    // Both arms, each its own child (the bundled serve.mjs), on the cpu backend with a small random model.
    const stdout = execFileSync(
      process.execPath,
      [path.join(out, 'serving', 'run.mjs'), '--backend', 'cpu', '--adapter-loader', 'main', '--model', 'random:16,1,2', '--adapters', '1,2', '--alpha', '1', '--requests', '4', '--rate', '50'],
      { cwd: out, env: { ...process.env, TRIBUTARY_BENCH_ARM: path.join(out, 'serving', 'serve.mjs') }, stdio: ['ignore', 'pipe', 'pipe'] },
    ).toString();
    expect(stdout).toContain('tensor backend cpu');
    expect(stdout).toMatch(/\|\s+2 \|\s+1 \| per-adapter \(baseline\) \|/);
    expect(stdout).not.toContain('PROBLEM');
  }, 120_000);

  it('refuses to replace a folder that holds anything but an earlier bundle', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'tributary-not-a-bundle-'));
    try {
      writeFileSync(path.join(other, 'notes.txt'), 'keep me');
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'serving', 'bundle.ts'), '--out', other], { cwd: root, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('the folder holds files that are not an earlier bundle');
      expect(readFileSync(path.join(other, 'notes.txt'), 'utf8')).toBe('keep me');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 60_000);
});
