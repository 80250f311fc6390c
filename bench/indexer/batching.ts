// How the storing arms group rows into inserts: the same limits for the baseline as the indexer's
// ingestion uses by default (indexer/ingest.ts), so that both make inserts of the same size.
export const BATCH_MAX_LOGS = 20_000;
export const BATCH_MAX_BLOCKS = 2_000;
