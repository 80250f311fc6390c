import { describe, expect, it } from 'vitest';
import { encodeAbiParameters, encodeEventTopics, getAbiItem, toHex, type Abi, type AbiEvent, type AbiParameter, type Hex } from 'viem';
import { artifacts, CONTRACT_NAMES, type ContractName } from '../contracts/index.ts';
import { EVENT_TABLES, eventRowTsv, eventTable, type EventTable, type LogPosition } from '../schema/index.ts';
import { createLogDecoder, fieldsWriter, viemReader, wordReader } from './decode.ts';
import { IndexerError, UnknownEventError } from './errors.ts';

// A small deterministic generator, so a failure reproduces.
let seed = 0x2545f491;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const randomHex = (bytes: number): Hex => toHex(Uint8Array.from({ length: bytes }, () => Math.floor(rand() * 256)));
const STRINGS = ['', 'plain', "tabs\tnew\nlines\\ and 'quotes'", 'ünïcødé 🌊 ✓', 'x'.repeat(70)];

function randomValue(type: string, i: number): unknown {
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) return Array.from({ length: array[2] ? Number(array[2]) : Math.floor(rand() * 4) }, (_, k) => randomValue(array[1]!, i + k));
  const uint = /^uint(\d+)$/.exec(type);
  if (uint) {
    const bits = BigInt(uint[1]!);
    const edge = i % 3;
    return edge === 0 ? 0n : edge === 1 ? (1n << bits) - 1n : BigInt(randomHex(Number(bits) / 8)) % (1n << bits);
  }
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) return randomHex(Number(fixed[1]));
  switch (type) {
    case 'address':
      return randomHex(20);
    case 'bool':
      return rand() < 0.5;
    case 'bytes':
      return randomHex(Math.floor(rand() * 70));
    case 'string':
      return STRINGS[i % STRINGS.length];
  }
  throw new Error(`no generator for ${type}`);
}

const lower = (v: unknown): unknown => (Array.isArray(v) ? v.map(lower) : (v as string).toLowerCase());

/** A log of `table`'s event carrying `args`, encoded the way the EVM does. */
function encodeLog(table: EventTable, args: Record<string, unknown>) {
  const abi = artifacts[table.contract].abi as Abi;
  const event = getAbiItem({ abi, name: table.event }) as AbiEvent;
  const topics = encodeEventTopics({ abi, eventName: table.event, args } as Parameters<typeof encodeEventTopics>[0]) as Hex[];
  const plain = event.inputs.filter((p) => !p.indexed) as AbiParameter[];
  const data = encodeAbiParameters(plain, plain.map((p) => args[p.name!]));
  return { topics, data };
}

const position: LogPosition = {
  blockNumber: 7,
  blockHash: `0x${'ab'.repeat(32)}`,
  timestampMs: 1_700_000_000_000,
  logIndex: 3,
  transactionHash: `0x${'cd'.repeat(32)}`,
  address: `0x${'ef'.repeat(20)}`,
};

describe('log decoding', () => {
  it('reads every event table’s arguments from the ABI words exactly as viem decodes them', () => {
    for (const table of EVENT_TABLES) {
      const fast = wordReader(table);
      expect(fast, `${table.table} falls back to viem`).toBeDefined();
      const reference = viemReader(table);
      for (let i = 0; i < 12; i++) {
        const args = Object.fromEntries(table.params.map((p, k) => [p.param, randomValue(p.abiType, i + k)]));
        const { topics, data } = encodeLog(table, args);
        // Compared as the stored rows: the TSV lines must be identical (viem checksums addresses; the
        // column stores their bytes, so the word reader leaves them in lower case).
        const expected = reference(topics, data).map((v, k) => (table.params[k]!.abiType.startsWith('address') ? lower(v) : v));
        expect(eventRowTsv(table, position, fast!(topics, data)), table.table).toBe(eventRowTsv(table, position, expected));
      }
    }
  });

  it('writes every event table’s row byte for byte as eventRowTsv() writes viem’s decoded values', () => {
    const contracts = Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, `0x${(i + 1).toString(16).padStart(40, '0')}`])) as Record<ContractName, string>;
    const decode = createLogDecoder(contracts);
    const block = { height: 7, hash: position.blockHash, timestamp: position.timestampMs };
    for (const table of EVENT_TABLES) {
      const reference = viemReader(table);
      for (let i = 0; i < 12; i++) {
        const args = Object.fromEntries(table.params.map((p, k) => [p.param, randomValue(p.abiType, i + k)]));
        const { topics, data } = encodeLog(table, args);
        const expected = reference(topics, data).map((v, k) => (table.params[k]!.abiType.startsWith('address') ? lower(v) : v));
        const log = { address: contracts[table.contract], topics, data, logIndex: position.logIndex, transactionHash: position.transactionHash };
        expect(decode(log, block)?.line, table.table).toBe(eventRowTsv(table, { ...position, address: log.address as Hex }, expected));
      }
    }
  });

  it('prints integers exactly on both sides of the parseInt fast path (2^52)', () => {
    const table = eventTable('InferenceRouter', 'InferenceSettled');
    const write = fieldsWriter(table);
    for (const fee of [0n, 1n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 53n + 1n, 10n ** 18n + 7n, 2n ** 256n - 1n]) {
      const args = Object.fromEntries(table.params.map((p, k) => [p.param, randomValue(p.abiType, k)]));
      args.fee = fee;
      const { topics, data } = encodeLog(table, args);
      const fields: string[] = [];
      write(topics, data, fields);
      expect(fields[table.params.findIndex((p) => p.param === 'fee')]).toBe(fee.toString());
    }
  });

  it('decodes a ContributionSubmitted log of the deployment into its row, and skips other contracts', () => {
    const contracts = Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, `0x${(i + 1).toString(16).padStart(40, '0')}`])) as Record<ContractName, string>;
    const decode = createLogDecoder(contracts);
    const table = eventTable('DatanetRegistry', 'ContributionSubmitted');
    const args = { contributionId: 9n, datanetId: 2n, contributor: `0x${'12'.repeat(20)}`, contentHash: `0x${'34'.repeat(32)}`, size: 1000n, uri: 'file://rows\t1', stake: 10n ** 18n };
    const { topics, data } = encodeLog(table, args);
    const log = { address: contracts.DatanetRegistry.toUpperCase().replace('0X', '0x'), topics, data, logIndex: 4, transactionHash: position.transactionHash };
    const block = { height: 12, hash: position.blockHash, timestamp: 1_700_000_000_500 };
    expect(decode(log, block)).toEqual({
      table,
      line: `12\t${'ab'.repeat(32)}\t2023-11-14 22:13:20.500\t4\t${'cd'.repeat(32)}\t${log.address.slice(2)}\t9\t2\t${'12'.repeat(20)}\t${'34'.repeat(32)}\t1000\tfile://rows\\t1\t1000000000000000000\t1\n`,
    });
    expect(decode({ ...log, address: `0x${'99'.repeat(20)}` }, block)).toBeUndefined();
  });

  it('refuses a log whose topic is no event of its contract, and one whose data is cut short', () => {
    const contracts = Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, `0x${(i + 1).toString(16).padStart(40, '0')}`])) as Record<ContractName, string>;
    const decode = createLogDecoder(contracts);
    const block = { height: 5, hash: position.blockHash, timestamp: 0 };
    const unknown = decode.bind(null, { address: contracts.OpenToken, topics: [`0x${'00'.repeat(32)}`], data: '0x', logIndex: 1, transactionHash: position.transactionHash }, block);
    expect(unknown).toThrow(UnknownEventError);
    expect(unknown).toThrow(`OpenToken at ${contracts.OpenToken} emitted a log (block 5, log index 1) whose first topic 0x${'00'.repeat(32)} is no event of its ABI`);
    const table = eventTable('OpenToken', 'Transfer');
    const { topics, data } = encodeLog(table, { from: `0x${'11'.repeat(20)}`, to: `0x${'22'.repeat(20)}`, value: 5n });
    const cut = () => decode({ address: contracts.OpenToken, topics, data: data.slice(0, 40), logIndex: 2, transactionHash: position.transactionHash }, block);
    expect(cut).toThrow(IndexerError);
    expect(cut).toThrow(/^cannot decode OpenToken\.Transfer at block 5, log index 2\n {2}data has 19 bytes, the event needs at least 32; the log does not match the ABI/);
  });
});
