// Configuration from environment variables, validated once at start. Every part receives the values it
// needs from here as explicit arguments; no part reads process.env itself.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import { isHex, type Hex } from 'viem';
import { ANVIL_KEYS } from '../contracts/index.ts';

const privateKey = z
  .string()
  .trim()
  .refine((v) => isHex(v) && v.length === 66, { message: 'must be a 0x-prefixed 32-byte hex private key' })
  .transform((v) => v as Hex);

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    );

const seconds = (def: number) => z.coerce.number().int().positive().default(def);

/** The environment variables Tributary reads, with their defaults (see the README's Configuration). */
export const configSchema = z.object({
  TRIBUTARY_DATA_DIR: z.string().trim().min(1).default('./.tributary'),
  RPC_URL: url(['http:', 'https:', 'ws:', 'wss:']).optional(),
  CHAIN_ID: z.coerce.number().int().positive().optional(),
  DEPLOYER_KEY: privateKey.optional(),
  OPERATOR_KEY: privateKey.optional(),
  ATTRIBUTOR_KEY: privateKey.optional(),
  SIGNER_KEYS: z
    .string()
    .trim()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(privateKey).min(1))
    .optional(),
  SIGNER_THRESHOLD: z.coerce.number().int().positive().optional(),
  OWNER_KEY: privateKey.optional(),
  CURATOR_KEY: privateKey.optional(),
  CONTRIBUTOR_KEY: privateKey.optional(),
  PAYER_KEY: privateKey.optional(),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  UPLOAD_DAILY_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  CLICKHOUSE_URL: url(['http:', 'https:']).optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  EPOCH_SECONDS: seconds(3600),
  DISPUTE_WINDOW_SECONDS: seconds(600),
  INDEXER_FINALITY: z.coerce.number().int().min(0).max(1000).default(10),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  BASE_MODEL_DIR: z.string().trim().min(1).optional(),
  TENSOR_BACKEND: z.enum(['wasm', 'webgpu', 'tensorflow', 'cpu']).default('wasm'),
  SERVE_MAX_BATCH: z.coerce.number().int().positive().default(32),
  SERVE_MAX_QUEUE: z.coerce.number().int().positive().default(256),
  ADAPTER_HOST_BUDGET_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  ADAPTER_DEVICE_BUDGET_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  SETTLEMENT_INTERVAL_SECONDS: seconds(60),
  ATTRIBUTION_INTERVAL_SECONDS: seconds(30),
  INFERENCE_TEXT: z.enum(['until-settled', 'keep']).default('until-settled'),
});

export type RawConfig = z.infer<typeof configSchema>;

/** The resolved configuration: defaults applied, keys filled in for the devnet. */
export interface Config {
  dataDir: string;
  /** Unset: spawn anvil from npm with its state in the data dir. */
  rpcUrl: string | undefined;
  chainId: number | undefined;
  deployerKey: Hex;
  operatorKey: Hex;
  attributorKey: Hex;
  signerKeys: Hex[];
  signerThreshold: number;
  /**
   * Keys the user verbs sign with: a datanet owner (`datanet create|publish|grant`), a curator
   * (`datanet review`, defaults to the owner key) and a contributor (`contribute`). On the devnet they
   * default to demo accounts 7 and 5; on a remote chain they are unset until given.
   */
  ownerKey: Hex | undefined;
  curatorKey: Hex | undefined;
  contributorKey: Hex | undefined;
  /** The payer that signs `keys create` grants; on the devnet demo account 8 (a demo payer with escrow). */
  payerKey: Hex | undefined;
  /** Largest contribution file accepted, in bytes. */
  uploadMaxBytes: number;
  /** Bytes one address may upload per UTC day. */
  uploadDailyBytes: number;
  port: number;
  /** Unset: chDB in the data dir. */
  clickhouseUrl: string | undefined;
  /** Unset: PGlite in the data dir. */
  databaseUrl: string | undefined;
  epochSeconds: number;
  disputeWindowSeconds: number;
  /** Blocks behind the head before the indexer treats a block as final. */
  indexerFinality: number;
  logLevel: RawConfig['LOG_LEVEL'];
  /** The base model directory served and trained on (default: the shipped serving/models/tributary-tiny). */
  baseModelDir: string;
  tensorBackend: RawConfig['TENSOR_BACKEND'];
  serveMaxBatch: number;
  serveMaxQueue: number;
  adapterHostBudgetBytes: number;
  adapterDeviceBudgetBytes: number;
  /** How often usage is settled on-chain through InferenceRouter. */
  settlementIntervalSeconds: number;
  /** How often `up` (and `attribute --watch`) checks for an ended epoch to attribute and pay out. */
  attributionIntervalSeconds: number;
  /** `until-settled`: an inference's prompt and output are blanked once its epoch's payout is final (hashes stay). */
  inferenceText: RawConfig['INFERENCE_TEXT'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** Validates `env` and resolves defaults. Throws a ConfigError listing every problem at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset, as shells and .env files often leave them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = i.path.join('.') || '(env)';
        const value = typeof cleaned[key] === 'string' && !key.endsWith('KEY') && !key.endsWith('KEYS') ? ` (got "${cleaned[key]}")` : '';
        return `${key}: ${i.message}${value}`;
      }),
    );
  }
  const c = parsed.data;
  const remote = c.RPC_URL !== undefined;
  // On a remote chain, the devnet's well-known keys would be a disaster: require them explicitly.
  const issues: string[] = [];
  const need = (name: 'DEPLOYER_KEY' | 'OPERATOR_KEY' | 'ATTRIBUTOR_KEY', fallback: Hex): Hex => {
    const v = c[name];
    if (v) return v;
    if (remote) issues.push(`${name}: required when RPC_URL is set (the devnet default is anvil's well-known key)`);
    return fallback;
  };
  const deployerKey = need('DEPLOYER_KEY', ANVIL_KEYS[0]);
  const operatorKey = need('OPERATOR_KEY', ANVIL_KEYS[1]);
  const attributorKey = need('ATTRIBUTOR_KEY', ANVIL_KEYS[2]);
  const signerKeys = c.SIGNER_KEYS ?? [ANVIL_KEYS[2], ANVIL_KEYS[3]];
  if (remote && !c.SIGNER_KEYS) issues.push('SIGNER_KEYS: required when RPC_URL is set');
  const signerThreshold = c.SIGNER_THRESHOLD ?? signerKeys.length;
  if (signerThreshold > signerKeys.length) {
    issues.push(`SIGNER_THRESHOLD: ${signerThreshold} is more than the ${signerKeys.length} SIGNER_KEYS given`);
  }
  if (c.DISPUTE_WINDOW_SECONDS >= c.EPOCH_SECONDS) {
    issues.push(
      `DISPUTE_WINDOW_SECONDS: ${c.DISPUTE_WINDOW_SECONDS} must be shorter than EPOCH_SECONDS (${c.EPOCH_SECONDS}), or batches would queue up behind each other`,
    );
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    dataDir: resolve(c.TRIBUTARY_DATA_DIR),
    rpcUrl: c.RPC_URL,
    chainId: c.CHAIN_ID,
    deployerKey,
    operatorKey,
    attributorKey,
    signerKeys,
    signerThreshold,
    ownerKey: c.OWNER_KEY ?? (remote ? undefined : ANVIL_KEYS[7]),
    curatorKey: c.CURATOR_KEY ?? c.OWNER_KEY ?? (remote ? undefined : ANVIL_KEYS[7]),
    contributorKey: c.CONTRIBUTOR_KEY ?? (remote ? undefined : ANVIL_KEYS[5]),
    payerKey: c.PAYER_KEY ?? (remote ? undefined : ANVIL_KEYS[8]),
    uploadMaxBytes: c.UPLOAD_MAX_BYTES,
    uploadDailyBytes: c.UPLOAD_DAILY_BYTES,
    port: c.PORT,
    clickhouseUrl: c.CLICKHOUSE_URL,
    databaseUrl: c.DATABASE_URL,
    epochSeconds: c.EPOCH_SECONDS,
    disputeWindowSeconds: c.DISPUTE_WINDOW_SECONDS,
    indexerFinality: c.INDEXER_FINALITY,
    logLevel: c.LOG_LEVEL,
    baseModelDir: resolve(c.BASE_MODEL_DIR ?? fileURLToPath(new URL('../serving/models/tributary-tiny', import.meta.url))),
    tensorBackend: c.TENSOR_BACKEND,
    serveMaxBatch: c.SERVE_MAX_BATCH,
    serveMaxQueue: c.SERVE_MAX_QUEUE,
    adapterHostBudgetBytes: c.ADAPTER_HOST_BUDGET_BYTES,
    adapterDeviceBudgetBytes: c.ADAPTER_DEVICE_BUDGET_BYTES,
    settlementIntervalSeconds: c.SETTLEMENT_INTERVAL_SECONDS,
    attributionIntervalSeconds: c.ATTRIBUTION_INTERVAL_SECONDS,
    inferenceText: c.INFERENCE_TEXT,
  };
}
