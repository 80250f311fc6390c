import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as api from './index.ts';
import { schemaSdl } from './graphql/printSchema.ts';

describe('the api part', () => {
  it('exports exactly its public surface', () => {
    expect(Object.keys(api).sort()).toEqual([
      'BAD_USER_INPUT', 'BadUploadError', 'DEFAULT_PAGE_SIZE', 'GRANT_MAX_AGE_SECONDS', 'KEY_GRANT_TYPES', 'MAX_PAGE_SIZE', 'QUERY_LIMITS', 'QUERY_TOO_COMPLEX', 'UPLOAD_TYPES',
      'UploadDatanetNotFoundError', 'UploadError', 'UploadQuotaExceededError', 'UploadRefusedError', 'UploadSignatureError', 'UploadTooLargeError',
      'buildSchema', 'checkKeyGrant', 'contributionsRoute', 'createApi', 'keyGrantTypedData', 'keysRoute', 'recoverUploader', 'uploadContribution', 'uploadJson', 'uploadTypedData',
    ]);
  });

  it('serves the schema checked in as api/graphql/schema.graphql (regenerate: npx tsx api/graphql/printSchema.ts > api/graphql/schema.graphql)', () => {
    expect(schemaSdl()).toBe(readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8'));
  });
});
