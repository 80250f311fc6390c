// The api part's public surface: GraphQL over HTTP, contribution uploads (issue #3) and API keys; proof routes,
// exports and provenance reports come later. Other parts import this part only through this file.
export { createApi, type Api, type CreateApiOptions } from './createApi.ts';
export { buildSchema } from './graphql/schema.ts';
export { QUERY_LIMITS, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type ApiContext } from './graphql/builder.ts';
export { BAD_USER_INPUT, QUERY_TOO_COMPLEX } from './graphql/errors.ts';
export type { QueryLimits } from './graphql/complexity.ts';
export { contributionsRoute, uploadJson, type ContributionsRoute, type UploadJson } from './contributions/route.ts';
export { uploadContribution, type UploadContext, type UploadLimits, type UploadContributionParameters, type UploadContributionReturnType } from './contributions/uploadContribution.ts';
export { uploadTypedData, recoverUploader, UPLOAD_TYPES, type UploadSignatureParameters } from './contributions/uploadSignature.ts';
export { UploadError, BadUploadError, UploadSignatureError, UploadDatanetNotFoundError, UploadTooLargeError, UploadRefusedError, UploadQuotaExceededError } from './contributions/errors.ts';
export { keysRoute, type CreatedKeyJson } from './keys/route.ts';
export { checkKeyGrant, keyGrantTypedData, KEY_GRANT_TYPES, GRANT_MAX_AGE_SECONDS, type KeyGrant, type KeyGrantDomain, type GrantCheck } from './keys/keyGrant.ts';
