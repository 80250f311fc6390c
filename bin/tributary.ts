// The `tributary` command line: one verb per part of the platform. `up` hosts every part in one
// process (chDB and PGlite allow one process per data directory).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { startPlatform, devnetOptions, type PlatformParts } from './platform.ts';
import { startDevnet, TributaryError, type Devnet } from '../contracts/index.ts';
import { registerContributeCommand } from './commands/contribute.ts';
import { registerDatanetCommand } from './commands/datanet.ts';
import { registerTrainCommand } from './commands/train.ts';
import { registerKeysCommand } from './commands/keys.ts';
import { registerAttributionEvalCommand } from './commands/attributionEval.ts';
import { registerAttributionVerifyCommand } from './commands/attributionVerify.ts';
import { registerClaimCommand } from './commands/claim.ts';
import { registerAttributeCommand } from './commands/attribute.ts';

/** A verb whose part has not been built yet: it says so and which issue brings it, instead of pretending. */
function summary(d: Devnet): string {
  const lines = [
    `chain ${d.deployment.chainId} at ${d.rpcUrl} (deployment block ${d.deployment.deploymentBlock.number})`,
    ...Object.entries(d.deployment.contracts).map(([n, a]) => `  ${n.padEnd(22)} ${a}`),
    `  operator ${d.deployment.roles.operator}  attributor ${d.deployment.roles.attributor}`,
    `  signers ${d.deployment.roles.signers.join(', ')} (threshold ${d.deployment.roles.signerThreshold})`,
  ];
  return lines.join('\n');
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function untilSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (sig: string) => {
      if (seen) {
        log.warn(`second ${sig}: exiting now`);
        process.exit(130);
      }
      seen = true;
      log.info(`${sig} received, shutting down`);
      resolve();
    };
    process.on('SIGINT', () => handler('SIGINT'));
    process.on('SIGTERM', () => handler('SIGTERM'));
  });
}

async function runDevnet(c: Config, log: Logger) {
  const devnet = await startDevnet(devnetOptions(c, log));
  // Other verbs find this chain through this file (bin/chainSession.ts) instead of starting their own.
  const runningFile = join(c.dataDir, 'devnet.json');
  writeFileSync(runningFile, JSON.stringify({ pid: process.pid, rpcUrl: devnet.rpcUrl }) + '\n');
  process.stdout.write(summary(devnet) + '\n');
  log.info('devnet ready; Ctrl-C stops it');
  await untilSignal(log);
  rmSync(runningFile, { force: true });
  await devnet.stop();
}

async function runUp(c: Config, log: Logger, opts: { demo: boolean }) {
  const p = await startPlatform(c, log, opts);
  process.stdout.write(summary(p.devnet) + '\n');
  if (p.devnet.deployment.demoAccounts.length > 0) {
    log.info('demo accounts hold OPEN', { token: p.devnet.deployment.contracts.OpenToken, accounts: p.devnet.deployment.demoAccounts });
  }
  log.info(`Tributary is up: http://127.0.0.1:${p.http.port}/healthz`, { dataDir: c.dataDir });
  await untilSignal(log);
  await p.stop();
}

/** One part of the platform as its own process (the chain must already be deployed, or a devnet is started). */
async function runPart(c: Config, log: Logger, parts: PlatformParts) {
  const p = await startPlatform(c, log, { demo: false, parts });
  const what = parts.indexer ? 'indexer' : parts.api ? 'API' : 'inference server';
  log.info(`${what} is up: http://127.0.0.1:${p.http.port}/healthz`, { dataDir: c.dataDir });
  await untilSignal(log);
  await p.stop();
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tributary')
    .description('Tributary: datanets, LoRA serving, proof of attribution and on-chain payouts')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('up')
    .description('start the whole platform in one process (chain, deployment, stores, HTTP), with demo data')
    .option('--no-demo', 'skip the demo data')
    .action(async (opts: { demo: boolean }) => {
      const c = loadConfig();
      await runUp(c, createLogger(c.logLevel), opts);
    });

  program
    .command('devnet')
    .description('start anvil (unless RPC_URL is set), deploy or reuse the contracts, and wait for Ctrl-C')
    .action(async () => {
      const c = loadConfig();
      await runDevnet(c, createLogger(c.logLevel));
    });

  program
    .command('index')
    .description('only the indexer: copy contract events into ClickHouse (with CLICKHOUSE_URL, beside a separate `tributary api`)')
    .action(async () => {
      const c = loadConfig();
      await runPart(c, createLogger(c.logLevel), { indexer: true, api: false });
    });
  program
    .command('api')
    .description('only the API: GraphQL and contribution uploads (with CLICKHOUSE_URL and DATABASE_URL, beside a separate `tributary index`)')
    .action(async () => {
      const c = loadConfig();
      await runPart(c, createLogger(c.logLevel), { indexer: false, api: true, serving: false });
    });
  program
    .command('serve')
    .description('only inference: the OpenAI-compatible /v1 routes, API keys and usage billing (with CLICKHOUSE_URL and DATABASE_URL, beside `tributary index` and `tributary api`)')
    .action(async () => {
      const c = loadConfig();
      await runPart(c, createLogger(c.logLevel), { indexer: false, api: false, serving: true });
    });
  registerTrainCommand(program);
  registerContributeCommand(program);
  registerDatanetCommand(program);

  registerKeysCommand(program);

  registerAttributeCommand(program);
  const attribution = program.command('attribution').description('evaluate attribution methods, and verify a payout batch before co-signing it');
  registerAttributionEvalCommand(attribution);
  registerAttributionVerifyCommand(attribution);
  registerClaimCommand(program);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    // Errors that explain themselves (bad config, a refused transaction or upload, a store that is
    // down): the message, no stack trace.
    if (e instanceof ConfigError || e instanceof TributaryError) {
      process.stderr.write(`tributary: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`tributary: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

