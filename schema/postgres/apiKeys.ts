// API keys: the secret is returned once at creation and only its SHA-256 is stored, so a copy of the
// database does not let anyone in. A presented secret is found by its public prefix, then its hash is
// compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { OperationalDb } from './connect.ts';
import { ApiKeyNotFoundError, GrantAlreadyUsedError, InvalidValueError } from './errors.ts';
import { API_KEY_ROLES, apiKeys, type ApiKeyRole } from './tables.ts';

type Hex = `0x${string}`;

/** An API key as the rest of the system sees it: never the secret, never its hash. */
export interface ApiKey {
  id: string;
  prefix: string;
  role: ApiKeyRole;
  payerAddress: Hex | null;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

// `trb_` and 32 random bytes in base64url (43 characters): 256 bits, nothing to guess.
const SECRET_PATTERN = /^trb_[A-Za-z0-9_-]{43}$/;
/** How much of the secret is kept in clear to recognise a key: `trb_` and 8 characters (48 bits). */
const PREFIX_LENGTH = 12;

const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

const columns = {
  id: apiKeys.id,
  prefix: apiKeys.prefix,
  role: apiKeys.role,
  payerAddress: apiKeys.payerAddress,
  label: apiKeys.label,
  createdAt: apiKeys.createdAt,
  revokedAt: apiKeys.revokedAt,
};

export interface CreateApiKeyParameters {
  role: ApiKeyRole;
  /** The address the key acts for; any case, stored lowercase. */
  payerAddress?: string | null;
  label?: string;
  /** The digest of the signed grant the key is created from (0x and 64 hex digits); a grant creates one key. */
  grantDigest?: string;
}

export interface CreateApiKeyReturnType {
  /** Shown to the user once; the store cannot give it back. */
  secret: string;
  key: ApiKey;
}

export async function createApiKey(db: OperationalDb, p: CreateApiKeyParameters): Promise<CreateApiKeyReturnType> {
  if (!API_KEY_ROLES.includes(p.role)) {
    throw new InvalidValueError(`role must be one of ${API_KEY_ROLES.join(', ')}, got "${String(p.role)}"`);
  }
  let payerAddress: Hex | null = null;
  if (p.payerAddress != null) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(p.payerAddress)) {
      throw new InvalidValueError(`payerAddress must be 0x and 40 hex digits, got "${p.payerAddress}"`);
    }
    payerAddress = p.payerAddress.toLowerCase() as Hex;
  }
  let grantDigest: Hex | null = null;
  if (p.grantDigest != null) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(p.grantDigest)) {
      throw new InvalidValueError(`grantDigest must be 0x and 64 hex digits, got "${p.grantDigest}"`);
    }
    grantDigest = p.grantDigest.toLowerCase() as Hex;
  }
  const secret = `trb_${randomBytes(32).toString('base64url')}`;
  const [key] = await db
    .insert(apiKeys)
    .values({
      keyHash: hashSecret(secret),
      prefix: secret.slice(0, PREFIX_LENGTH),
      role: p.role,
      payerAddress,
      label: p.label ?? '',
      grantDigest,
    })
    // A second key from the same grant inserts nothing and is refused below, without an aborted statement.
    .onConflictDoNothing({ target: apiKeys.grantDigest })
    .returning(columns);
  if (!key) throw new GrantAlreadyUsedError(grantDigest!);
  return { secret, key };
}

/** The active key whose secret this is; undefined for a malformed, unknown or revoked secret. */
export async function findApiKeyBySecret(db: OperationalDb, secret: string): Promise<ApiKey | undefined> {
  if (!SECRET_PATTERN.test(secret)) return undefined;
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const candidates = await db
    .select({ ...columns, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, secret.slice(0, PREFIX_LENGTH)), isNull(apiKeys.revokedAt)));
  // The prefix is public and may, rarely, be shared; the hash decides, compared in constant time.
  let found: ApiKey | undefined;
  for (const { keyHash, ...key } of candidates) {
    if (timingSafeEqual(Buffer.from(keyHash, 'hex'), presented)) found = key;
  }
  return found;
}

/** Revokes a key from now on. Revoking a revoked key keeps its first revocation time. */
export async function revokeApiKey(db: OperationalDb, id: string): Promise<ApiKey> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new ApiKeyNotFoundError(id);
  const [key] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(eq(apiKeys.id, id))
    .returning(columns);
  if (!key) throw new ApiKeyNotFoundError(id);
  return key;
}
