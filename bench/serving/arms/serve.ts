// A run of the serving benchmark in its own process (arm.ts runs it): reads its arguments from the file
// named on the command line, serves the workload (serveWorkload.ts) and prints one result line.
import { readFileSync } from 'node:fs';
import { printResult, type ArmArgs } from '../arm.ts';
import { serveWorkload } from '../serveWorkload.ts';

try {
  const args = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ArmArgs;
  printResult(await serveWorkload(args));
  process.exit(0);
} catch (err) {
  process.stderr.write(`the serving arm failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
