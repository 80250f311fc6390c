// The schema part's public surface: the data model and the stores. Row formats and hashing, the
// content-addressed file store, the operational store (PostgreSQL / PGlite via drizzle) and the
// analytics store (ClickHouse / chDB).

// Rows: formats, canonical encoding, hashes.
export { ROW_SHAPES, ROW_SHAPE_KEYS, type Row, type TextRow, type PromptCompletionRow, type TextLabelRow, type RowShape } from './rows/row.ts';
export { RowFormatError } from './rows/errors.ts';
export { parseRows, formatOfFilename, DEFAULT_ROW_LIMITS, type RowLimits, type RowFileFormat, type ParsedRows, type ParseRowsParameters } from './rows/parse.ts';
export { canonicalRow, canonicalJson, canonicalBytes, rowHash, encodeCanonicalJsonl, decodeCanonicalJsonl } from './rows/canonical.ts';
export { contentHash, rowProof, rowProofs, verifyRowProof, type VerifyRowProofParameters } from './rows/contentHash.ts';
export { datanetVersionRoot, datanetVersionProof, verifyDatanetVersionProof, type VersionContribution, type VerifyDatanetVersionProofParameters } from './rows/datanetVersionRoot.ts';

// Content-addressed files.
export { contentKey, checkContentKey, type ContentStore, type PutResult, type VerifyResult } from './content/store.ts';
export { openFsContentStore, type FsContentStore, type FsContentStoreOptions } from './content/fsStore.ts';
export { ContentStoreError, ContentNotFoundError, ContentCorruptError, InvalidContentKeyError } from './content/errors.ts';
export { recordUpload, loadUpload, listUploads, uploadRef, uploadReceiptSchema, type UploadReceipt, type StoredUpload } from './content/uploads.ts';
export { sortedJson } from './content/sortedJson.ts';
export { storeContribution, loadContribution, contributionRef, contributionManifestSchema, type ContributionManifest, type StoredContribution, type LoadedContribution, type StoreContributionParameters } from './content/contributionFiles.ts';

// Operational store.
export { openPostgres, describeUrl, migrationsFolder, type OpenPostgresOptions, type OperationalStore, type OperationalDb } from './postgres/connect.ts';
export { apiKeys, payoutBatches, payoutBatchEvents, jobs, uploadQuotas, operationalTables, uint256, MAX_UINT256, API_KEY_ROLES, PAYOUT_BATCH_STATUSES, JOB_STATUSES, type ApiKeyRole, type PayoutBatchStatus, type JobStatus, type PayoutBatch, type PayoutBatchEvent, type Job, type UploadQuota, type BatchSignature } from './postgres/tables.ts';
export { createPayoutBatch, transitionPayoutBatch, getPayoutBatch, listPayoutBatches, listPayoutBatchEvents, canTransition, PAYOUT_BATCH_TRANSITIONS, type CreatePayoutBatchParameters, type CreatePayoutBatchReturnType, type TransitionPayoutBatchParameters, type ListPayoutBatchesParameters } from './postgres/payoutBatches.ts';
export { reserveUploadQuota, releaseUploadQuota, getUploadQuota, type UploadQuotaParameters, type ReserveUploadQuotaParameters, type ReserveUploadQuotaReturnType, type UploadQuotaUsage } from './postgres/uploadQuotas.ts';
export { createApiKey, findApiKeyBySecret, revokeApiKey, type ApiKey, type CreateApiKeyParameters, type CreateApiKeyReturnType } from './postgres/apiKeys.ts';
export { OperationalStoreError, StoreLockedError, StoreUnreachableError, InvalidValueError, PayoutBatchNotFoundError, PayoutBatchMismatchError, IllegalTransitionError, TransitionConflictError, ApiKeyNotFoundError, GrantAlreadyUsedError } from './postgres/errors.ts';

// Analytics store.
export { openClickHouse, chdbPath, DEFAULT_DATABASE, type OpenClickHouseOptions, type ClickHouseStore } from './clickhouse/connect.ts';
export { migrate, migrationChecksum, MIGRATIONS_TABLE, type Migration, type AppliedMigration, type MigrateOptions } from './clickhouse/migrate.ts';
export { CLICKHOUSE_MIGRATIONS } from './clickhouse/migrations/index.ts';
export {
  EVENT_TABLES, POSITION_COLUMNS, SIGN_COLUMN, eventTable, eventTableByTopic, eventRowTsv, insertEventRows,
  type EventTable, type EventColumn, type ColumnSpec, type LogPosition, type ContractEvent,
} from './clickhouse/eventTables.ts';
export { tsvString, tsvQuoted, tsvDateTime64 } from './clickhouse/tsv.ts';
export { ClickHouseStoreError, DataDirInUseError, ClickHouseUnreachableError, MigrationError, RowEncodingError, DatanetVersionNotFoundError, DatanetVersionMismatchError } from './clickhouse/errors.ts';
export { insertContentRows, insertContentUpload, syncContentRows, type SyncContentResult } from './clickhouse/contentTables.ts';
export { openDatanetVersion, type DatanetVersion, type DatanetVersionContribution, type DatanetVersionRow } from './clickhouse/datanetVersion.ts';
export { DERIVED_RELATIONS, DERIVED_FEEDERS, derivedRelation, derivedSelectList, type DerivedRelation, type DerivedColumn } from './clickhouse/derived.ts';
export * from './clickhouse/inferenceLog.ts';
export * from './clickhouse/trainingRecords.ts';
export * from './content/trainingFiles.ts';
export * from './postgres/usageOutbox.ts';
export * from './postgres/inferenceLogOutbox.ts';
export { usageRecords, usageBatches, inferenceLogOutbox, USAGE_BATCH_STATUSES, USAGE_OUTCOMES, type UsageRecord, type UsageBatch, type UsageBatchStatus, type UsageOutcome } from './postgres/tables.ts';
export * from './clickhouse/servableModels.ts';
