import { describe, expect, it } from 'vitest';
import * as indexer from './index.ts';

describe('indexer/index.ts', () => {
  it('exports exactly the public surface', () => {
    expect(Object.keys(indexer).sort()).toEqual([
      'DEFAULT_FINALITY',
      'EMPTY_HEAD',
      'INDEXER_FIELDS',
      'IndexerError',
      'RpcUnreachableError',
      'SILENT_LOGGER',
      'SinkClosedError',
      'SinkStateError',
      'UnknownEventError',
      'WrongChainError',
      'createClickHouseSink',
      'createLogDecoder',
      'createProcessor',
      'runProcessor',
      'startIndexer',
    ]);
  });
});
