// What the epoch job needs to know of each settled inference beyond its pool amount: the text it was
// given and wrote (the serving log, migration 5) and the training run behind the adapter that answered
// (training_manifests by adapter hash, migration 6). Each inference that cannot be attributed says why;
// its pool share rolls over.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import type { InferencePool } from '../payouts/allocate.ts';
import type { AttributionQuery } from './modelAttribution.ts';

export type UnattributedReason = 'not in the inference log' | 'text removed' | 'no adapter' | 'no training run for its adapter' | 'empty output';

export interface EpochInference extends AttributionQuery {
  epoch: bigint;
  poolAmount: bigint;
  modelId: bigint;
  adapterHash: Hex;
  /** The training run (manifest hash) that produced the adapter. */
  manifestHash: Hex;
}

export interface EpochInferences {
  attributable: EpochInference[];
  unattributable: { requestId: Hex; poolAmount: bigint; reason: UnattributedReason }[];
}

interface LogRow {
  request_id: Hex;
  model_id: string;
  adapter_hash: Hex;
  prompt: string;
  output: string;
  finish_reason: string;
  prompt_sha256: string;
  manifest_hash: Hex | null;
}

const ZERO32 = `0x${'00'.repeat(32)}`;

/** Joins the pools with the inference log and the training runs; keeps the pools' order. */
export async function epochInferences(client: ClickHouseClient, pools: readonly InferencePool[]): Promise<EpochInferences> {
  const byId = new Map<string, LogRow>();
  const ids = pools.map((p) => p.requestId.slice(2).toLowerCase());
  for (let i = 0; i < ids.length; i += 5000) {
    const rs = await client.query({
      query: `SELECT concat('0x', lower(hex(l.request_id))) AS request_id, toString(l.model_id) AS model_id, concat('0x', lower(hex(l.adapter_hash))) AS adapter_hash,
                     l.prompt AS prompt, l.output AS output, l.finish_reason AS finish_reason, lower(hex(l.prompt_sha256)) AS prompt_sha256,
                     if(m.manifest_hash = '', NULL, concat('0x', lower(hex(m.manifest_hash)))) AS manifest_hash
              FROM (
                  SELECT * FROM inference_log
                  WHERE request_id IN (SELECT toFixedString(unhex(arrayJoin({ids:Array(String)})), 32))
                  ORDER BY created_at
                  LIMIT 1 BY request_id
              ) AS l
              LEFT JOIN (SELECT adapter_hash, any(manifest_hash) AS manifest_hash FROM training_manifests FINAL GROUP BY adapter_hash) AS m
                  ON m.adapter_hash = l.adapter_hash
              SETTINGS join_use_nulls = 0`,
      query_params: { ids: ids.slice(i, i + 5000) },
      format: 'JSONEachRow',
    });
    for (const r of await rs.json<LogRow>()) byId.set(r.request_id, r);
  }
  const out: EpochInferences = { attributable: [], unattributable: [] };
  for (const p of pools) {
    const r = byId.get(p.requestId.toLowerCase());
    const skip = (reason: UnattributedReason) => out.unattributable.push({ requestId: p.requestId, poolAmount: p.poolAmount, reason });
    if (!r) skip('not in the inference log');
    else if (r.prompt === '' && r.output === '' && r.prompt_sha256 !== '') skip('text removed');
    else if (r.adapter_hash === ZERO32) skip('no adapter');
    else if (!r.manifest_hash || r.manifest_hash === ZERO32) skip('no training run for its adapter');
    else if (r.output === '') skip('empty output');
    else {
      out.attributable.push({
        requestId: p.requestId,
        epoch: p.epoch,
        poolAmount: p.poolAmount,
        modelId: BigInt(r.model_id),
        adapterHash: r.adapter_hash,
        manifestHash: r.manifest_hash,
        prompt: r.prompt,
        output: r.output,
        finishReason: r.finish_reason,
      });
    }
  }
  return out;
}
