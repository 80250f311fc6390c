// The rows the event tables should hold, computed independently of the indexer: eth_getLogs over the
// deployment's contracts, decoded with viem against each contract's full ABI, in the JSON form
// liveRows() reads back (binary as 0x hex, 64-bit and wider integers as strings).
import { decodeEventLog, type Hex } from 'viem';
import { artifacts, CONTRACT_NAMES, type ContractName, type Deployment, type TributaryPublicClient } from '../../contracts/index.ts';
import { eventTableByTopic, type EventColumn } from '../../schema/index.ts';
import type { LiveRow } from './collapsed.ts';

export async function chainRows(client: TributaryPublicClient, deployment: Pick<Deployment, 'contracts' | 'deploymentBlock'>, toBlock: bigint): Promise<LiveRow[]> {
  const byAddress = new Map<string, ContractName>(CONTRACT_NAMES.map((n) => [deployment.contracts[n].toLowerCase(), n]));
  const logs = await client.getLogs({ address: CONTRACT_NAMES.map((n) => deployment.contracts[n]), fromBlock: deployment.deploymentBlock.number, toBlock });
  const timestamps = new Map<bigint, number>();
  for (const n of new Set(logs.map((l) => l.blockNumber))) {
    timestamps.set(n, Number((await client.getBlock({ blockNumber: n })).timestamp) * 1000);
  }
  return logs.map((l) => {
    const contract = byAddress.get(l.address.toLowerCase())!;
    const table = eventTableByTopic(contract, l.topics[0]!);
    if (!table) throw new Error(`no table for ${contract} topic ${l.topics[0]}`);
    const { args } = decodeEventLog({ abi: artifacts[contract].abi, topics: l.topics as [Hex, ...Hex[]], data: l.data }) as unknown as { args: Record<string, unknown> | unknown[] };
    return {
      table: table.table,
      block_number: Number(l.blockNumber),
      block_hash: l.blockHash.toLowerCase(),
      block_timestamp_ms: timestamps.get(l.blockNumber)!,
      log_index: l.logIndex,
      tx_hash: l.transactionHash.toLowerCase(),
      contract: l.address.toLowerCase(),
      args: Object.fromEntries(table.params.map((p) => [p.name, asJson(Array.isArray(args) ? args[p.index] : args[p.param], p)])),
    };
  });
}

/** A decoded value as liveRows() reads its column back (64-bit and wider integers quoted, bytes as hex). */
function asJson(v: unknown, col: Pick<EventColumn, 'chType' | 'hex'>): unknown {
  return valueAs(v, col.chType, col.hex !== undefined);
}

function valueAs(v: unknown, chType: string, hex: boolean): unknown {
  const array = /^Array\((.*)\)$/.exec(chType);
  if (array) return (v as unknown[]).map((e) => valueAs(e, array[1]!, hex));
  if (/^U?Int(8|16|32)$/.test(chType)) return Number(v);
  if (/^U?Int\d+$/.test(chType)) return String(v);
  if (hex) return (v as string).toLowerCase();
  return v;
}
