// The models a server can answer for: every registered model with at least one published version, and
// that version's adapter. Read from the indexer's `models` view (derived.ts), so a model appears here once
// the indexer has seen its ModelVersionPublished, and a reorg that undoes it takes it away again.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { derivedSelectList } from './derived.ts';

export interface ServableModel {
  modelId: bigint;
  name: string;
  owner: Hex;
  /** The latest published version. */
  version: bigint;
  adapterHash: Hex;
  /** False once governance or the owner deactivated it: the router would refuse to bill it. */
  active: boolean;
}

export async function listServableModels(client: ClickHouseClient): Promise<ServableModel[]> {
  const result = await client.query({
    query: `SELECT ${derivedSelectList('models', ['model_id', 'name', 'owner', 'version_count', 'latest_adapter_hash', 'active'])}
            FROM (SELECT * FROM models WHERE version_count > 0) ORDER BY model_id`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ model_id: string; name: string; owner: Hex; version_count: string; latest_adapter_hash: Hex; active: boolean | number }>();
  return rows.map((r) => ({
    modelId: BigInt(r.model_id),
    name: r.name,
    owner: r.owner,
    version: BigInt(r.version_count),
    adapterHash: r.latest_adapter_hash,
    active: Boolean(r.active),
  }));
}
