import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeEventLog,
  encodeAbiParameters,
  encodeEventTopics,
  getAbiItem,
  getAddress,
  toEventSelector,
  type Abi,
  type AbiEvent,
  type Hex,
} from 'viem';
import { artifacts } from '../../contracts/index.ts';
import { abiColumnCodec, snakeCase } from './abiColumns.ts';
import { openClickHouse, type ClickHouseStore } from './connect.ts';
import { RowEncodingError } from './errors.ts';
import { eventRowTsv, eventTable, eventTableByTopic, EVENT_TABLES, insertEventRows, type EventTable, type LogPosition } from './eventTables.ts';
import { migrate } from './migrate.ts';
import { CLICKHOUSE_MIGRATIONS } from './migrations/index.ts';

// chDB binds one data dir per process, and migrating 70-odd tables takes about a second, so the
// tests of this file share one migrated database; each test writes to event tables of its own.
let dir: string;
let shared: ClickHouseStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-events-'));
  shared = await openClickHouse({ dataDir: dir, database: 'events' });
  await migrate(shared, CLICKHOUSE_MIGRATIONS);
});
afterAll(async () => {
  await shared?.close();
  rmSync(dir, { recursive: true, force: true });
});
const migrated = (fn: (store: ClickHouseStore) => Promise<void>) => fn(shared);

const rows = async <T = Record<string, unknown>>(store: ClickHouseStore, query: string, query_params?: Record<string, unknown>) =>
  (await store.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

/** Encodes a log the way the chain does, then decodes it with viem, as the indexer will. */
function decodedArgs(abi: Abi, eventName: string, args: Record<string, unknown>): unknown {
  const event = getAbiItem({ abi, name: eventName }) as AbiEvent;
  const topics = encodeEventTopics({ abi, eventName, args } as Parameters<typeof encodeEventTopics>[0]);
  const plain = event.inputs.filter((i) => !i.indexed);
  const data = encodeAbiParameters(plain, plain.map((i) => args[i.name!]));
  return decodeEventLog({ abi, topics: topics as [Hex, ...Hex[]], data, eventName } as Parameters<typeof decodeEventLog>[0]).args;
}

const hash = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}`;
const position = (over: Partial<LogPosition> = {}): LogPosition => ({
  blockNumber: 42n,
  blockHash: `0x${'ab'.repeat(32)}`,
  timestampMs: 1_700_000_000_123,
  logIndex: 3,
  transactionHash: `0x${'cd'.repeat(32)}`,
  address: getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3'),
  ...over,
});
const hexOf = (col: string) => `concat('0x', lower(hex(${col}))) AS ${col}`;
const insertRows = (store: ClickHouseStore, t: EventTable, lines: string[]) => insertEventRows(store.client, t, lines);

const payerA = getAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8');
const payerB = getAddress('0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc');
const settledArgs = (over: Record<string, unknown> = {}) => ({
  requestId: hash(0xfeed),
  modelId: 7n,
  payer: payerA,
  epoch: 3n,
  batchNumber: 1n,
  modelOwner: getAddress('0x90f79bf6eb2c4f870365e785982e1f101e93b906'),
  tokensIn: 1200n,
  tokensOut: 340n,
  fee: 2n ** 255n + 1n,
  ownerAmount: 2n ** 256n - 1n,
  poolAmount: 0n,
  treasuryAmount: 123456789012345678901234567890n,
  ...over,
});

describe('event tables', () => {
  it('store a decoded InferenceSettled log as TSV and read it back exactly', async () => {
    await migrated(async (store) => {
      const t = eventTable('InferenceRouter', 'InferenceSettled');
      const args = settledArgs();
      expect(await insertRows(store, t, [eventRowTsv(t, position(), decodedArgs(artifacts.InferenceRouter.abi, 'InferenceSettled', args))])).toBe(1);
      const got = await rows(
        store,
        `SELECT block_number, ${hexOf('block_hash')}, block_timestamp, toUnixTimestamp64Milli(block_timestamp) AS ms, log_index,
                ${hexOf('tx_hash')}, ${hexOf('contract')}, ${hexOf('request_id')}, model_id, ${hexOf('payer')}, epoch, batch_number,
                ${hexOf('model_owner')}, tokens_in, tokens_out, fee, owner_amount, pool_amount, treasury_amount, sign
         FROM ${t.table}`,
      );
      expect(got).toEqual([
        {
          block_number: '42',
          block_hash: `0x${'ab'.repeat(32)}`,
          block_timestamp: '2023-11-14 22:13:20.123',
          ms: '1700000000123',
          log_index: 3,
          tx_hash: `0x${'cd'.repeat(32)}`,
          contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
          request_id: hash(0xfeed),
          model_id: '7',
          payer: payerA.toLowerCase(),
          epoch: '3',
          batch_number: '1',
          model_owner: '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
          tokens_in: '1200',
          tokens_out: '340',
          fee: '57896044618658097711785492504343953926634992332820282019728792003956564819969',
          owner_amount: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
          pool_amount: '0',
          treasury_amount: '123456789012345678901234567890',
          sign: 1,
        },
      ]);
      expect(BigInt((got[0] as { fee: string }).fee)).toBe(2n ** 255n + 1n);
    });
  });

  it('store arrays, bytes and awkward strings exactly (ProposalCreated, VoteCast)', async () => {
    await migrated(async (store) => {
      const description = "Tabs\tnewlines\nCR\r quotes ' \" backslashes \\ \\t NUL \0 and ünïcødé 🌊";
      const args = {
        proposalId: 2n ** 200n,
        proposer: payerA,
        targets: [payerA, payerB],
        values: [0n, 2n ** 256n - 1n],
        signatures: ["it's", 'a\tb\\'],
        calldatas: ['0x', '0xdeadbeef00'],
        voteStart: 10n,
        voteEnd: 20n,
        description,
      };
      const proposal = eventTable('TributaryGovernor', 'ProposalCreated');
      const vote = eventTable('TributaryGovernor', 'VoteCast');
      const abi = artifacts.TributaryGovernor.abi;
      await insertRows(store, proposal, [eventRowTsv(proposal, position(), decodedArgs(abi, 'ProposalCreated', args))]);
      await insertRows(store, vote, [
        eventRowTsv(vote, position({ logIndex: 4 }), decodedArgs(abi, 'VoteCast', { voter: payerB, proposalId: 1n, support: 2, weight: 5n, reason: '' })),
      ]);
      expect(
        await rows(
          store,
          `SELECT proposal_id, arrayMap(x -> concat('0x', lower(hex(x))), targets) AS targets, values, signatures,
                  arrayMap(x -> concat('0x', lower(hex(x))), calldatas) AS calldatas, vote_start, vote_end, description
           FROM ${proposal.table}`,
        ),
      ).toEqual([
        {
          proposal_id: (2n ** 200n).toString(),
          targets: [payerA.toLowerCase(), payerB.toLowerCase()],
          values: ['0', (2n ** 256n - 1n).toString()],
          signatures: ["it's", 'a\tb\\'],
          calldatas: ['0x', '0xdeadbeef00'],
          vote_start: '10',
          vote_end: '20',
          description,
        },
      ]);
      expect(await rows(store, `SELECT ${hexOf('voter')}, support, weight, reason FROM ${vote.table}`)).toEqual([
        { voter: payerB.toLowerCase(), support: 2, weight: '5', reason: '' },
      ]);
    });
  });

  it('select rows by address through a {addr:String} query parameter', async () => {
    await migrated(async (store) => {
      const t = eventTable('InferenceRouter', 'InferenceRejected');
      const abi = artifacts.InferenceRouter.abi;
      const rejected = (requestId: Hex, payer: Hex) =>
        decodedArgs(abi, 'InferenceRejected', { requestId, modelId: 1n, payer, operator: payerB, batchNumber: 4n, fee: 9n, reason: 1 });
      await insertRows(store, t, [
        eventRowTsv(t, position({ logIndex: 0 }), rejected(hash(1), payerA)),
        eventRowTsv(t, position({ logIndex: 1 }), rejected(hash(2), payerB)),
        eventRowTsv(t, position({ logIndex: 2 }), rejected(hash(3), payerB)),
      ]);
      const byPayer = (addr: string) =>
        rows(store, `SELECT ${hexOf('request_id')}, reason FROM ${t.table} WHERE payer = unhex(substring({addr:String}, 3)) ORDER BY log_index`, { addr });
      // Checksummed or lower-case input: unhex reads both.
      expect(await byPayer(payerB)).toEqual([
        { request_id: hash(2), reason: 1 },
        { request_id: hash(3), reason: 1 },
      ]);
      expect(await byPayer(payerA.toLowerCase())).toEqual([{ request_id: hash(1), reason: 1 }]);
      // A value that tries to break out of the parameter is just a string that matches nothing.
      expect(await byPayer("0x' OR 1=1 --")).toEqual([]);
    });
  });

  it('collapse a row with its cancelling row, and keep the new canonical row after a reorg', async () => {
    await migrated(async (store) => {
      const t = eventTable('InferenceRouter', 'Deposited');
      const args = { payer: payerA, from: payerA, amount: 10n ** 18n, balance: 10n ** 18n };
      const oldBlock = position({ blockHash: `0x${'aa'.repeat(32)}` });
      const newBlock = position({ blockHash: `0x${'bb'.repeat(32)}` });
      const abi = artifacts.InferenceRouter.abi;
      await insertRows(store, t, [eventRowTsv(t, oldBlock, decodedArgs(abi, 'Deposited', args))]);
      // The reorg: cancel the old block's row, then write the new block's row at the same height and index.
      await insertRows(store, t, [
        eventRowTsv(t, oldBlock, decodedArgs(abi, 'Deposited', args), -1),
        eventRowTsv(t, newBlock, decodedArgs(abi, 'Deposited', { ...args, amount: 5n, balance: 5n })),
      ]);
      expect(
        await rows(store, `SELECT ${hexOf('block_hash')}, sum(sign) AS n, sum(amount * sign) AS amount FROM ${t.table} GROUP BY block_hash ORDER BY block_hash`),
      ).toEqual([
        { block_hash: `0x${'aa'.repeat(32)}`, n: '0', amount: '0' },
        { block_hash: `0x${'bb'.repeat(32)}`, n: '1', amount: '5' },
      ]);
      expect(await rows(store, `SELECT ${hexOf('block_hash')}, amount FROM ${t.table} FINAL`)).toEqual([
        { block_hash: `0x${'bb'.repeat(32)}`, amount: '5' },
      ]);
      await store.client.command({ query: `OPTIMIZE TABLE ${t.table} FINAL` });
      expect(await rows(store, `SELECT count() AS c FROM ${t.table}`)).toEqual([{ c: '1' }]);
    });
  });

  it('store an event without parameters', async () => {
    await migrated(async (store) => {
      const t = eventTable('OpenToken', 'EIP712DomainChanged');
      expect(t.columns.map((c) => c.name)).toEqual(['block_number', 'block_hash', 'block_timestamp', 'log_index', 'tx_hash', 'contract', 'sign']);
      await insertRows(store, t, [eventRowTsv(t, position(), undefined)]);
      expect(await rows(store, `SELECT block_number, sign FROM ${t.table}`)).toEqual([{ block_number: '42', sign: 1 }]);
    });
  });
});

describe('eventRowTsv()', () => {
  const t = eventTable('InferenceRouter', 'FeeSharesSet');
  const line = (args: unknown, pos: Partial<LogPosition> = {}) => () => eventRowTsv(t, position(pos), args);

  it('writes one TSV line in column order, from named or positional args', () => {
    const expected =
      ['42', 'ab'.repeat(32), '2023-11-14 22:13:20.123', '3', 'cd'.repeat(32), '5FbDB2315678afecb367f032d93F642f64180aa3', '5000', '4000', '1000', '-1'].join('\t') + '\n';
    expect(eventRowTsv(t, position(), { ownerBps: 5000, poolBps: 4000, treasuryBps: 1000 }, -1)).toBe(expected);
    expect(eventRowTsv(t, position(), [5000, 4000, 1000], -1)).toBe(expected);
  });

  it('fills the hex columns of binary values, whose DEFAULT stores the bytes', () => {
    const deposited = eventTable('InferenceRouter', 'Deposited');
    expect(deposited.insertColumns).toEqual([
      'block_number',
      'block_hash_hex',
      'block_timestamp',
      'log_index',
      'tx_hash_hex',
      'contract_hex',
      'payer_hex',
      'from_hex',
      'amount',
      'balance',
      'sign',
    ]);
    const proposal = eventTable('TributaryGovernor', 'ProposalCreated');
    expect(proposal.params.map((p) => p.hex?.defaultExpr)).toEqual([
      undefined,
      'unhex(proposer_hex)',
      'arrayMap(x1 -> unhex(x1), targets_hex)',
      undefined,
      undefined,
      'arrayMap(x1 -> unhex(x1), calldatas_hex)',
      undefined,
      undefined,
      undefined,
    ]);
    expect(abiColumnCodec({ type: 'bytes32[][]', name: 'x' }, false).hex?.toStored('x_hex')).toBe(
      'arrayMap(x2 -> arrayMap(x1 -> unhex(x1), x2), x_hex)',
    );
  });

  it('refuses values that do not fit their column, naming the parameter', () => {
    expect(line({ ownerBps: 70000, poolBps: 0, treasuryBps: 0 })).toThrow(RowEncodingError);
    expect(line({ ownerBps: 70000, poolBps: 0, treasuryBps: 0 })).toThrow(
      'InferenceRouter.FeeSharesSet.ownerBps: expected a value in [0, 65535] for uint16, got 70000\n' +
        '  the decoded event does not match the ABI the tables were built from; retrying will not help',
    );
    expect(line({ ownerBps: 1.5, poolBps: 0, treasuryBps: 0 })).toThrow(
      'InferenceRouter.FeeSharesSet.ownerBps: expected an integer (bigint or safe number) for uint16, got 1.5',
    );
    expect(line({ ownerBps: 1, poolBps: 0 })).toThrow(
      'InferenceRouter.FeeSharesSet.treasuryBps: expected an integer (bigint or safe number) for uint16, got undefined',
    );
    expect(line({ ownerBps: 1, poolBps: 0, treasuryBps: 0 }, { blockHash: '0x12' })).toThrow(
      'InferenceRouter.FeeSharesSet blockHash: expected 0x-prefixed hex of 32 bytes, got "0x12"',
    );
    expect(line({ ownerBps: 1, poolBps: 0, treasuryBps: 0 }, { timestampMs: 1.7e9 + 0.5 })).toThrow(
      'InferenceRouter.FeeSharesSet timestampMs: expected milliseconds since 1970 as a non-negative integer, got 1700000000.5',
    );
    const deposited = eventTable('InferenceRouter', 'Deposited');
    expect(() => eventRowTsv(deposited, position(), { payer: '0x1234', from: payerA, amount: 1n, balance: 1n })).toThrow(
      'InferenceRouter.Deposited.payer: expected 0x-prefixed hex of 20 bytes, got "0x1234"',
    );
    expect(() => eventRowTsv(deposited, position(), { payer: payerA, from: payerA, amount: -1n, balance: 1n })).toThrow(
      `InferenceRouter.Deposited.amount: expected a value in [0, ${2n ** 256n - 1n}] for uint256, got -1n`,
    );
  });
});

describe('event table lookup', () => {
  it('finds a table by contract and event name, or by contract and topic0', () => {
    const t = eventTable('InferenceRouter', 'InferenceSettled');
    expect(t.table).toBe('ev_inference_router_inference_settled');
    const item = getAbiItem({ abi: artifacts.InferenceRouter.abi, name: 'InferenceSettled' });
    expect(t.topic0).toBe(toEventSelector(item));
    expect(eventTableByTopic('InferenceRouter', t.topic0.toUpperCase().replace('0X', '0x') as Hex)).toBe(t);
    expect(eventTableByTopic('InferenceRouter', hash(1))).toBeUndefined();
    // The same event signature in two contracts: two tables.
    const owner = toEventSelector('OwnershipTransferred(address,address)');
    expect(eventTableByTopic('ModelRegistry', owner)?.table).toBe('ev_model_registry_ownership_transferred');
    expect(eventTableByTopic('InferenceRouter', owner)?.table).toBe('ev_inference_router_ownership_transferred');
    expect(eventTable('OpenToken', 'EIP712DomainChanged').table).toBe('ev_open_token_eip712_domain_changed');
    expect(new Set(EVENT_TABLES.map((x) => x.table)).size).toBe(EVENT_TABLES.length);
  });

  it('names columns in snake_case and stores indexed dynamic values as their 32-byte topic', () => {
    expect(['metadataURI', 'EIP712DomainChanged', 'batchNumber', 'tokensIn', 'id', 'ABCDef'].map(snakeCase)).toEqual([
      'metadata_uri',
      'eip712_domain_changed',
      'batch_number',
      'tokens_in',
      'id',
      'abc_def',
    ]);
    expect(abiColumnCodec({ type: 'string', name: 's' }, true).chType).toBe('FixedString(32)');
    expect(abiColumnCodec({ type: 'uint256[]', name: 'a' }, true).chType).toBe('FixedString(32)');
    expect(abiColumnCodec({ type: 'int24', name: 'x' }, false).chType).toBe('Int32');
    expect(abiColumnCodec({ type: 'uint160', name: 'x' }, false).chType).toBe('UInt256');
    expect(abiColumnCodec({ type: 'bytes4[2]', name: 'x' }, false).chType).toBe('Array(FixedString(4))');
    expect(abiColumnCodec({ type: 'int24', name: 'x' }, false).field(-8388608, 'x')).toBe('-8388608');
    expect(() => abiColumnCodec({ type: 'int24', name: 'x' }, false).field(-8388609, 'x')).toThrow('expected a value in [-8388608, 8388607]');
    expect(() => abiColumnCodec({ type: 'tuple', name: 't', components: [] }, false)).toThrow(
      'No ClickHouse column type for the ABI type tuple: add one to schema/clickhouse/abiColumns.ts',
    );
  });
});
