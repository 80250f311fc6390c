// Migration 2: the indexer's commit point (Subsquid's HotDatabase state), written after each
// batch's data. One row per indexer id; the latest write wins:
//   SELECT height, hash, top_json FROM indexer_status FINAL WHERE id = {id:String}
// height Int64 because Subsquid's empty state is height -1 (hash '0x'); hash is the 0x-hex block hash;
// top_json is the JSON array of hot (unfinalized) blocks [{height, hash}, …] above it.
// updated_at (microseconds) is the version: two writes in the same microsecond keep the later insert.
import type { Migration } from '../migrate.ts';

export const m0002: Migration = {
  id: 2,
  name: 'indexer_status',
  statements: [
    `CREATE TABLE IF NOT EXISTS indexer_status
(
    "id" String,
    "height" Int64,
    "hash" String,
    "top_json" String,
    "updated_at" DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY id`,
  ],
};
