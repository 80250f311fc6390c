// Errors of the ClickHouse store: a short message, details, and whether retrying can help.
import { TributaryError } from '../../contracts/index.ts';

export class ClickHouseStoreError extends TributaryError {
  override name = 'ClickHouseStoreError';
}

/** chDB's data directory is locked by another process (chDB allows one process per data directory). */
export class DataDirInUseError extends ClickHouseStoreError {
  override name = 'DataDirInUseError';
}

/** The ClickHouse server at CLICKHOUSE_URL did not answer; retrying may help once it is up. */
export class ClickHouseUnreachableError extends ClickHouseStoreError {
  override name = 'ClickHouseUnreachableError';
}

/** A migration could not be applied, or the recorded migrations disagree with the code. */
export class MigrationError extends ClickHouseStoreError {
  override name = 'MigrationError';
}

/** A decoded event argument does not fit its column (wrong type, out of range, malformed hex). */
export class RowEncodingError extends ClickHouseStoreError {
  override name = 'RowEncodingError';
}

/** No such datanet version is indexed (yet: the indexer may be behind the chain). */
export class DatanetVersionNotFoundError extends ClickHouseStoreError {
  override name = 'DatanetVersionNotFoundError';
}

/**
 * A published version's root is not the root of the contributions accepted before it was published (a
 * review landed between computing the root and publishing it, or the root was computed elsewhere): its
 * rows cannot be known for certain.
 */
export class DatanetVersionMismatchError extends ClickHouseStoreError {
  override name = 'DatanetVersionMismatchError';
}
