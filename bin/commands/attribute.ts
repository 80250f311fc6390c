// `tributary attribute --epoch N | --watch`: attribute an ended epoch's settled inferences to the data that
// shaped them and post its payout batch (attribution/epochs/attributeEpoch.ts), or keep doing so for each
// epoch as it ends.
//
// Like `train`, this process opens the data dir's stores itself: ClickHouse (chDB, or CLICKHOUSE_URL), the
// operational store (PGlite, or DATABASE_URL) where the batch lifecycle is kept, and the content store.
// With embedded chDB it first brings ClickHouse up to the chain head with the indexer (and, watching, keeps
// the indexer running). `tributary up` attributes every ended epoch itself (ATTRIBUTION_INTERVAL_SECONDS)
// and holds the embedded stores, so then the command refuses and says so.
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { formatOpen, TributaryError } from '../../contracts/index.ts';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, openFsContentStore, openPostgres, syncContentRows, syncTrainingRecords } from '../../schema/index.ts';
import { startIndexer } from '../../indexer/index.ts';
import { useTensorBackend } from '../../serving/index.ts';
import { attributeEpoch, startEpochSchedule, type AttributeEpochProgress, type AttributeEpochResult } from '../../attribution/index.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { openChainSession, runningChain } from '../chainSession.ts';
import { attributionContext } from '../attributionPart.ts';
import { indexToHead } from '../indexToHead.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

interface AttributeOptions {
  epoch?: bigint;
  watch?: boolean;
  json?: boolean;
}

function epochArg(v: string): bigint {
  if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) === 0n) throw new InvalidArgumentError(`--epoch must be a positive integer, got "${v}"`);
  return BigInt(v.trim());
}

const short = (h: string) => `${h.slice(0, 10)}…`;

export function attributeSummary(r: AttributeEpochResult): string {
  if (r.alreadyPosted) return `epoch ${r.epoch} is already paid out: batch root ${r.root} (score file ${r.scoreFileHash}), ${formatOpen(r.total)}; nothing to do\n`;
  const span = r.fromEpoch === r.epoch ? `epoch ${r.epoch}` : `epochs ${r.fromEpoch}–${r.epoch}`;
  const lines = [
    `${span}: ${r.inferences} settled inference${r.inferences === 1 ? '' : 's'}, ${r.attributed} attributed; pool ${formatOpen(r.poolTotal)}`,
    `  paid ${formatOpen(r.total)} to ${r.amounts.length} account${r.amounts.length === 1 ? '' : 's'}; ${formatOpen(r.rolledOver)} rolls over`,
    `  batch root ${r.root} (score file ${r.scoreFileHash}): ${r.drive?.status ?? 'not posted'}${r.drive?.txHash ? ` in tx ${r.drive.txHash}` : ''}${r.drive?.recovered ? ' (found on chain after a restart)' : ''}`,
  ];
  for (const a of r.amounts) lines.push(`    ${a.account}  ${formatOpen(a.amount)}`);
  const reasons = new Map<string, number>();
  for (const u of r.unattributed) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
  if (reasons.size) lines.push(`  not attributed (their pool share rolls over): ${[...reasons].map(([why, n]) => `${n} ${why}`).join(', ')}`);
  for (const f of r.flags) {
    lines.push(`  flagged: contribution ${f.contributionId} (${short(f.account)}) influenced ${f.negativeInferences} of ${f.inferences} inferences negatively (mean ${f.meanInfluence.toExponential(2)}); a curator decides`);
  }
  lines.push(`  ${r.seconds.toFixed(1)} s`);
  return lines.join('\n') + '\n';
}

/** A bar on stderr while inferences are scored (drawn only on a terminal). */
function progressBar(): { onProgress: (p: AttributeEpochProgress) => void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: 'attributing |{bar}| {value}/{total} inferences | ETA {eta}s', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress(p) {
      if (p.phase === 'pools') {
        bar.start(p.attributable, 0);
        started = true;
      } else if (p.phase === 'scoring' && started) bar.update(p.done);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

export function registerAttributeCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return program
    .command('attribute')
    .description('attribute an ended epoch\'s inferences to contributions and post its payout batch (or --watch: every epoch as it ends)')
    .addOption(new Option('--epoch <n>', 'the epoch to attribute (it must have ended)').argParser(epochArg).conflicts('watch'))
    .addOption(new Option('--watch', 'keep running: attribute each epoch as it ends (every ATTRIBUTION_INTERVAL_SECONDS)').conflicts('epoch'))
    .addOption(new Option('--json', 'print the result as JSON (amounts in wei, as decimal strings)'))
    .action(async (o: AttributeOptions) => {
      if (o.epoch === undefined && !o.watch) throw new TributaryError('`tributary attribute` needs --epoch <n> (one ended epoch) or --watch (each epoch as it ends)');
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      const up = runningChain(c.dataDir);
      if (up?.source === 'up' && !c.clickhouseUrl) {
        throw new TributaryError(`\`tributary up\` is running for ${c.dataDir} (pid ${up.pid}) and holds its stores, so \`tributary attribute\` cannot open them`, {
          details: `\`up\` attributes each ended epoch itself every ${c.attributionIntervalSeconds} s (ATTRIBUTION_INTERVAL_SECONDS); stop it (Ctrl-C) to run this command`,
        });
      }
      const session = await openChainSession(c, log);
      try {
        const ch = await openClickHouse({ url: c.clickhouseUrl, dataDir: c.dataDir });
        try {
          await migrate(ch, CLICKHOUSE_MIGRATIONS);
          const content = await openFsContentStore({ root: join(c.dataDir, 'content') });
          await syncContentRows(ch.client, content);
          await syncTrainingRecords(ch.client, content);
          const pg = await openPostgres({ url: c.databaseUrl, dataDir: c.dataDir });
          try {
            await useTensorBackend(c.tensorBackend);
            const ctx = attributionContext(c, log, { ch, pg, content, chain: session });
            if (o.watch) {
              await watch();
              return;
            }
            if (ch.embedded) await indexToHead(ch, session, c, log);
            const bar = o.json ? undefined : progressBar();
            let r: AttributeEpochResult;
            try {
              r = await attributeEpoch(ctx, { epoch: o.epoch!, onProgress: (p) => bar?.onProgress(p) });
            } finally {
              bar?.stop();
            }
            out(o.json ? toJson(r) + '\n' : attributeSummary(r));

            async function watch(): Promise<void> {
              const indexer = ch.embedded ? startIndexer({ rpcUrl: session.rpcUrl, deployment: session.deployment, clickhouse: ch, finality: c.indexerFinality, log }) : undefined;
              const schedule = startEpochSchedule(ctx, { intervalMs: c.attributionIntervalSeconds * 1000, log, onEpoch: (r) => out(o.json ? toJson(r) + '\n' : attributeSummary(r)) });
              log.info(`watching for ended epochs every ${c.attributionIntervalSeconds} s (Ctrl-C stops)`);
              await schedule.tick();
              await new Promise<void>((resolve) => {
                const stop = () => resolve();
                process.once('SIGINT', stop);
                process.once('SIGTERM', stop);
              });
              await schedule.stop();
              await indexer?.stop();
            }
          } finally {
            await pg.close();
          }
        } finally {
          await ch.close();
        }
      } finally {
        await session.close();
      }
    });
}
