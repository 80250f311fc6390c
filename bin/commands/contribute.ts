// `tributary contribute --datanet <id> --file <path>`: upload a file of rows and submit the contribution,
// signing both the upload and the transactions with CONTRIBUTOR_KEY. With a `tributary up` running for
// the data dir, the upload goes to it over HTTP (it holds the stores: chDB and PGlite allow one process
// each); otherwise this process opens the stores itself and runs the same upload service.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { formatOpen, parseOpen } from '../../contracts/index.ts';
import {
  CLICKHOUSE_MIGRATIONS,
  DEFAULT_ROW_LIMITS,
  migrate,
  openClickHouse,
  openFsContentStore,
  openPostgres,
} from '../../schema/index.ts';
import { uploadContribution, uploadJson, type UploadJson } from '../../api/index.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { openChainSession, type ChainSession } from '../chainSession.ts';
import { runningUpPort } from '../runningUp.ts';
import { postContribution, sendContributionTransactions, signUpload, type ContributionFile } from '../contributionClient.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

function parseId(v: string): bigint {
  if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) === 0n) throw new InvalidArgumentError(`--datanet must be a positive integer, got "${v}"`);
  return BigInt(v.trim());
}

function parseStake(v: string): bigint {
  try {
    return parseOpen(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Runs the upload service in this process, on the data dir's (or the configured) stores. */
async function uploadLocally(c: Config, log: Logger, session: ChainSession, key: Hex, file: ContributionFile): Promise<UploadJson> {
  log.info('no `tributary up` is running: opening the stores in this process');
  const ch = await openClickHouse({ url: c.clickhouseUrl, dataDir: c.dataDir });
  try {
    await migrate(ch, CLICKHOUSE_MIGRATIONS);
    const pg = await openPostgres({ url: c.databaseUrl, dataDir: c.dataDir, log: (m: string) => log.info(m) });
    try {
      const content = await openFsContentStore({ root: join(c.dataDir, 'content') });
      const result = await uploadContribution(
        {
          clickhouse: ch.client,
          db: pg.db,
          content,
          chain: session,
          limits: { maxFileBytes: c.uploadMaxBytes, dailyBytes: c.uploadDailyBytes, rows: { maxRowBytes: DEFAULT_ROW_LIMITS.maxRowBytes, maxRows: DEFAULT_ROW_LIMITS.maxRows } },
        },
        { ...file, contributor: privateKeyToAddress(key), signature: await signUpload(session, key, file.datanetId, file.bytes) },
      );
      return uploadJson(result);
    } finally {
      await pg.close();
    }
  } finally {
    await ch.close();
  }
}

export function registerContributeCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return program
    .command('contribute')
    .description('upload a file of rows to a datanet and submit the contribution, signing with CONTRIBUTOR_KEY')
    .requiredOption('--datanet <id>', 'the datanet to contribute to', parseId)
    .requiredOption('--file <path>', 'a .txt or .md (one row per line), .csv or .jsonl file')
    .option('--stake <OPEN>', "OPEN to lock with the contribution, e.g. 10 (default: the datanet's required stake)", parseStake)
    .addOption(new Option('--json', 'print the upload and the contribution as JSON (amounts in wei)'))
    .action(async (o: { datanet: bigint; file: string; stake?: bigint; json?: boolean }) => {
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      const key = c.contributorKey;
      if (!key) throw new ConfigError(['CONTRIBUTOR_KEY: required to sign `tributary contribute` when RPC_URL is set (the contributor\'s private key, 0x-prefixed)']);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(o.file));
      } catch (e) {
        throw new ConfigError([`--file: cannot read ${o.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
      }
      const file: ContributionFile = { datanetId: o.datanet, filename: basename(o.file), bytes, ...(o.stake !== undefined ? { stake: o.stake } : {}) };

      const session = await openChainSession(c, log);
      try {
        const port = runningUpPort(c.dataDir);
        const upload = port
          ? await postContribution({ baseUrl: `http://127.0.0.1:${port}`, chain: session, key, ...file })
          : await uploadLocally(c, log, session, key, file);
        const sent = await sendContributionTransactions(session, key, upload);
        if (o.json) return out(toJson({ upload, contribution: sent }) + '\n');
        const lines = [
          `uploaded ${upload.filename}: ${upload.rowCount} ${upload.shape} rows, content hash ${upload.contentHash}${upload.created ? '' : ' (uploaded before)'}`,
          `contribution ${sent.contributionId} to datanet ${upload.datanetId} with stake ${formatOpen(BigInt(upload.contribution.stake))} in tx ${sent.txHash} (block ${sent.blockNumber})`,
        ];
        if (upload.duplicateRows > 0) lines.push(`  ${upload.duplicateRows} of its rows belong to earlier contributions: they are flagged and earn nothing here`);
        lines.push(`  upload quota: ${upload.quota.usedBytes} of ${upload.quota.limitBytes} bytes used today (UTC)`);
        out(lines.join('\n') + '\n');
      } finally {
        await session.close();
      }
    });
}
