// The pool amounts of the inferences settled in a range of epochs, as the indexer copied the router's
// InferenceSettled events into ClickHouse (live rows only: a reorged-out settlement is cancelled there).
// The epoch job and `tributary attribution verify` read pools here; chainPools reads the same values
// from the chain's logs for a verifier that trusts only the chain.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import type { InferencePool } from '../payouts/allocate.ts';

export interface IndexedPoolsParameters {
  fromEpoch: bigint;
  toEpoch: bigint;
}

/** Every indexed inference settled in epochs fromEpoch..toEpoch, in chain order (block, log index). */
export async function indexedPools(client: ClickHouseClient, p: IndexedPoolsParameters): Promise<InferencePool[]> {
  const rs = await client.query({
    query: `SELECT concat('0x', lower(hex(rid))) AS request_id, toString(ep) AS epoch, toString(pool) AS pool_amount
            FROM (
                SELECT block_number, log_index, block_hash, any(request_id) AS rid, any(epoch) AS ep, any(pool_amount) AS pool
                FROM ev_inference_router_inference_settled
                WHERE epoch BETWEEN {from:UInt256} AND {to:UInt256}
                GROUP BY block_number, log_index, block_hash
                HAVING sum(sign) > 0
            )
            ORDER BY block_number, log_index`,
    query_params: { from: p.fromEpoch.toString(), to: p.toEpoch.toString() },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ request_id: Hex; epoch: string; pool_amount: string }>();
  return rows.map((r) => ({ requestId: r.request_id, epoch: BigInt(r.epoch), poolAmount: BigInt(r.pool_amount) }));
}
