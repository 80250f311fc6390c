import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadConfig, ConfigError } from './config.ts';
import { ANVIL_KEYS } from '../contracts/index.ts';

const KEY = `0x${'11'.repeat(32)}`;

describe('loadConfig()', () => {
  it('applies the documented defaults for the embedded devnet', () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe(resolve('./.tributary'));
    expect(c.port).toBe(4000);
    expect(c.rpcUrl).toBeUndefined();
    expect(c.clickhouseUrl).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.deployerKey).toBe(ANVIL_KEYS[0]);
    expect(c.operatorKey).toBe(ANVIL_KEYS[1]);
    expect(c.signerKeys).toEqual([ANVIL_KEYS[2], ANVIL_KEYS[3]]);
    expect(c.signerThreshold).toBe(2);
    expect(c.epochSeconds).toBe(3600);
    expect(c.disputeWindowSeconds).toBe(600);
  });

  it('gives the user verbs demo keys on the devnet only, and takes upload limits', () => {
    const dev = loadConfig({});
    expect([dev.ownerKey, dev.curatorKey, dev.contributorKey]).toEqual([ANVIL_KEYS[7], ANVIL_KEYS[7], ANVIL_KEYS[5]]);
    expect([dev.uploadMaxBytes, dev.uploadDailyBytes]).toEqual([10 * 1024 * 1024, 10 * 1024 * 1024]);
    const remote = { RPC_URL: 'http://127.0.0.1:8545', DEPLOYER_KEY: KEY, OPERATOR_KEY: KEY, ATTRIBUTOR_KEY: KEY, SIGNER_KEYS: KEY };
    const r = loadConfig(remote);
    expect([r.ownerKey, r.curatorKey, r.contributorKey]).toEqual([undefined, undefined, undefined]);
    const owner = `0x${'22'.repeat(32)}`;
    expect(loadConfig({ ...remote, OWNER_KEY: owner }).curatorKey).toBe(owner); // the owner may curate
    const c = loadConfig({ UPLOAD_MAX_BYTES: '1024', UPLOAD_DAILY_BYTES: '4096', CONTRIBUTOR_KEY: owner });
    expect([c.uploadMaxBytes, c.uploadDailyBytes, c.contributorKey]).toEqual([1024, 4096, owner]);
    expect(() => loadConfig({ UPLOAD_DAILY_BYTES: '-5' })).toThrow(ConfigError);
  });

  it('takes the serving settings, with defaults for the shipped model on wasm', () => {
    const d = loadConfig({});
    expect(d).toMatchObject({ tensorBackend: 'wasm', serveMaxBatch: 32, serveMaxQueue: 256, settlementIntervalSeconds: 60, inferenceText: 'until-settled' });
    expect(d.baseModelDir).toBe(resolve('serving/models/tributary-tiny'));
    const c = loadConfig({
      BASE_MODEL_DIR: '/models/gpt2',
      TENSOR_BACKEND: 'webgpu',
      SERVE_MAX_BATCH: '8',
      SERVE_MAX_QUEUE: '16',
      ADAPTER_HOST_BUDGET_BYTES: '1000',
      ADAPTER_DEVICE_BUDGET_BYTES: '500',
      SETTLEMENT_INTERVAL_SECONDS: '5',
      INFERENCE_TEXT: 'keep',
    });
    expect(c).toMatchObject({
      baseModelDir: '/models/gpt2',
      tensorBackend: 'webgpu',
      serveMaxBatch: 8,
      serveMaxQueue: 16,
      adapterHostBudgetBytes: 1000,
      adapterDeviceBudgetBytes: 500,
      settlementIntervalSeconds: 5,
      inferenceText: 'keep',
    });
    expect(() => loadConfig({ TENSOR_BACKEND: 'cuda', INFERENCE_TEXT: 'never' })).toThrow(/TENSOR_BACKEND[\s\S]*INFERENCE_TEXT|INFERENCE_TEXT[\s\S]*TENSOR_BACKEND/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', RPC_URL: '  ' }).port).toBe(4000);
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({
      TRIBUTARY_DATA_DIR: '/tmp/x',
      RPC_URL: 'http://127.0.0.1:8545',
      CHAIN_ID: '10',
      DEPLOYER_KEY: KEY,
      OPERATOR_KEY: KEY,
      ATTRIBUTOR_KEY: KEY,
      SIGNER_KEYS: `${KEY}, ${KEY}`,
      SIGNER_THRESHOLD: '1',
      PORT: '8080',
      CLICKHOUSE_URL: 'http://localhost:8123',
      DATABASE_URL: 'postgres://u:p@localhost/db',
      EPOCH_SECONDS: '86400',
      DISPUTE_WINDOW_SECONDS: '3600',
    });
    expect(c).toMatchObject({
      dataDir: '/tmp/x',
      rpcUrl: 'http://127.0.0.1:8545',
      chainId: 10,
      port: 8080,
      signerThreshold: 1,
      clickhouseUrl: 'http://localhost:8123',
      databaseUrl: 'postgres://u:p@localhost/db',
      epochSeconds: 86400,
    });
    expect(c.signerKeys).toHaveLength(2);
  });

  it('lists every problem at once, naming the variable and the bad value', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', RPC_URL: 'localhost:8545', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('(got "eighty")');
    expect(msg).toContain('RPC_URL: must be a URL');
    expect(msg).toContain('DATABASE_URL: must be a URL starting with postgres:// or postgresql://');
    expect((err as ConfigError).issues).toHaveLength(3);
  });

  it('never prints a private key in an error', () => {
    expect(() => loadConfig({ DEPLOYER_KEY: '0x1234secret' })).toThrow(/DEPLOYER_KEY: must be a 0x-prefixed 32-byte hex private key$/m);
    try {
      loadConfig({ DEPLOYER_KEY: '0x1234secret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('secret');
    }
  });

  it('refuses the well-known devnet keys on a remote chain', () => {
    expect(() => loadConfig({ RPC_URL: 'https://rpc.example.org' })).toThrow(
      /DEPLOYER_KEY: required when RPC_URL is set[\s\S]*OPERATOR_KEY[\s\S]*ATTRIBUTOR_KEY[\s\S]*SIGNER_KEYS/,
    );
  });

  it('refuses a threshold above the number of signers and a dispute window as long as an epoch', () => {
    expect(() => loadConfig({ SIGNER_KEYS: KEY, SIGNER_THRESHOLD: '2' })).toThrow(/SIGNER_THRESHOLD: 2 is more than the 1 SIGNER_KEYS/);
    expect(() => loadConfig({ EPOCH_SECONDS: '60', DISPUTE_WINDOW_SECONDS: '60' })).toThrow(/must be shorter than EPOCH_SECONDS/);
  });
});
