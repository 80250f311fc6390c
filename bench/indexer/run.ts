// The indexer benchmark (issue #3): `npm run bench:indexer [-- --quick] [--json] [--repeat N]`.
// See README.md beside this file for what each arm does and what the numbers mean.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runBenchmark } from './benchmark.ts';
import { formatSummaries, summarize } from './report.ts';
import { workloadSpec, type WorkloadName } from './workload.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    workload: { type: 'string', multiple: true },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: tsx bench/indexer/run.ts [--quick] [--json] [--repeat N] [--workload dense|sparse]… [--keep]
  --quick      a small smoke run (20 × 1000 events dense, 1,000 transactions sparse)
  --json       print the results as JSON instead of a table
  --repeat N   run each arm N times (interleaved) and report medians (default 1)
  --workload   dense or sparse (default: both)
  --keep       keep the temp dir (chains, stores)
`);
  process.exit(0);
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write(`--repeat must be a positive integer, got ${values.repeat}\n`);
  process.exit(2);
}
const names = (values.workload ?? ['dense', 'sparse']) as WorkloadName[];
for (const n of names) {
  if (n !== 'dense' && n !== 'sparse') {
    process.stderr.write(`--workload must be dense or sparse, got ${n}\n`);
    process.exit(2);
  }
}

const load0 = loadavg();
const started = performance.now();
const reports = await runBenchmark({
  workloads: names.map((n) => workloadSpec(n, values.quick)),
  repeat,
  keep: values.keep,
  log: (line) => process.stderr.write(`${line}\n`),
});
const summaries = reports.map(summarize);
const machine = {
  cores: availableParallelism(),
  node: process.version,
  loadAverageBefore: load0.map((l) => +l.toFixed(2)),
  loadAverageAfter: loadavg().map((l) => +l.toFixed(2)),
  seconds: +((performance.now() - started) / 1000).toFixed(1),
};
if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine, quick: values.quick, summaries, reports }, null, 2)}\n`);
} else {
  process.stdout.write(`\n${formatSummaries(summaries)}\n\n`);
  process.stdout.write(
    `${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageBefore[0]} before and ${machine.loadAverageAfter[0]} after (other processes share the cores); ${machine.seconds} s in all${values.quick ? '; --quick' : ''}\n`,
  );
}
process.exit(summaries.some((s) => s.problems.length > 0) ? 1 : 0);
