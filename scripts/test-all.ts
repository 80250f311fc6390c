// `npm test`: the forge suite, then the vitest suite, then one line with the totals of both, so that a
// run that executed no test is visible. Exits non-zero if anything failed or nothing ran.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function run(cmd: string, args: string[], opts: { capture?: boolean } = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const forward = (stream: NodeJS.WriteStream) => (buf: Buffer) => {
      stream.write(buf);
      if (opts.capture) output += buf.toString();
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** forge's closing line: "Ran N test suites in …: X tests passed, Y failed, Z skipped (T total tests)". */
export function parseForgeSummary(output: string): Counts | undefined {
  const m = [...output.matchAll(/(\d+) tests passed, (\d+) failed, (\d+) skipped/g)].pop();
  if (!m) return undefined;
  return { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) };
}

async function forge(extra: string[]): Promise<Counts> {
  const bin = join('node_modules', '.bin', 'forge');
  const { code, output } = await run(bin, ['test', '--use', './contracts/tools/solc-forge.cjs', ...extra], { capture: true });
  const counts = parseForgeSummary(output);
  if (!counts) {
    console.error(`forge exited with ${code} and printed no test summary`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

async function vitest(extra: string[]): Promise<Counts> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-vitest-'));
  const report = join(dir, 'report.json');
  const bin = join('node_modules', '.bin', 'vitest');
  const { code } = await run(bin, ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
  if (!existsSync(report)) {
    console.error(`vitest exited with ${code} and wrote no report`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const r = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    numFailedTestSuites: number;
  };
  rmSync(dir, { recursive: true, force: true });
  // A file that fails to load is a failed suite without failed tests, and a crash may leave only the
  // exit code: count whichever says something failed.
  const failed = r.numFailedTests || r.numFailedTestSuites || (code !== 0 ? 1 : 0);
  return { passed: r.numPassedTests, failed, skipped: r.numPendingTests + r.numTodoTests };
}

const only = process.argv[2];
const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
const add = (c: Counts) => {
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
};
if (only !== 'contracts') {
  // Types are part of correctness: a type error fails the run like a failed test.
  const { code } = await run(join('node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.']);
  console.log(code === 0 ? 'typecheck: ok' : 'typecheck: FAILED');
  if (code !== 0) totals.failed += 1;
}
if (only !== 'ts') add(await forge([]));
if (only !== 'contracts') add(await vitest([]));
if (totals.passed + totals.failed === 0) totals.failed = 1; // nothing ran: that is a failure
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
