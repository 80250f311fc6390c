// The per-address daily upload quota. A reservation is one conditional upsert: it adds the bytes to the
// address's row for the day only while the day's total stays within the limit, so two uploads racing
// each other cannot both slip under it. A failed upload gives its bytes back (releaseUploadQuota).
import { and, eq, sql } from 'drizzle-orm';
import type { OperationalDb } from './connect.ts';
import { InvalidValueError } from './errors.ts';
import { uploadQuotas } from './tables.ts';

type Hex = `0x${string}`;

export interface UploadQuotaParameters {
  /** Any case; stored lowercase. */
  address: string;
  /** The UTC day the bytes count against, YYYY-MM-DD. */
  day: string;
  bytes: number;
}

export interface ReserveUploadQuotaParameters extends UploadQuotaParameters {
  /** Most bytes the address may upload that day. */
  limit: number;
}

export interface UploadQuotaUsage {
  /** Bytes counted for the day, including this reservation when it was granted. */
  usedBytes: number;
  uploads: number;
}

export type ReserveUploadQuotaReturnType = ({ granted: true } | { granted: false }) & UploadQuotaUsage;

function checked(p: UploadQuotaParameters): { address: Hex; day: string; bytes: bigint } {
  if (!/^0x[0-9a-fA-F]{40}$/.test(p.address)) throw new InvalidValueError(`address must be 0x and 40 hex digits, got "${p.address}"`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(p.day)) throw new InvalidValueError(`day must be YYYY-MM-DD, got "${p.day}"`);
  if (!Number.isSafeInteger(p.bytes) || p.bytes < 0) throw new InvalidValueError(`bytes must be a non-negative integer, got ${p.bytes}`);
  return { address: p.address.toLowerCase() as Hex, day: p.day, bytes: BigInt(p.bytes) };
}

/** Counts `bytes` against the address's day if that keeps it within `limit`; says whether it did. */
export async function reserveUploadQuota(db: OperationalDb, p: ReserveUploadQuotaParameters): Promise<ReserveUploadQuotaReturnType> {
  const { address, day, bytes } = checked(p);
  if (BigInt(p.limit) >= bytes) {
    const rows = await db
      .insert(uploadQuotas)
      .values({ address, day, bytes, uploads: 1 })
      .onConflictDoUpdate({
        target: [uploadQuotas.address, uploadQuotas.day],
        set: { bytes: sql`${uploadQuotas.bytes} + excluded.bytes`, uploads: sql`${uploadQuotas.uploads} + 1`, updatedAt: sql`now()` },
        setWhere: sql`${uploadQuotas.bytes} + excluded.bytes <= ${BigInt(p.limit)}`,
      })
      .returning({ bytes: uploadQuotas.bytes, uploads: uploadQuotas.uploads });
    if (rows.length === 1) return { granted: true, usedBytes: Number(rows[0]!.bytes), uploads: rows[0]!.uploads };
  }
  return { granted: false, ...(await getUploadQuota(db, { address, day })) };
}

/** Gives back a reservation whose upload failed. */
export async function releaseUploadQuota(db: OperationalDb, p: UploadQuotaParameters): Promise<void> {
  const { address, day, bytes } = checked(p);
  await db
    .update(uploadQuotas)
    .set({
      bytes: sql`greatest(${uploadQuotas.bytes} - ${bytes}, 0)`,
      uploads: sql`greatest(${uploadQuotas.uploads} - 1, 0)`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(uploadQuotas.address, address), eq(uploadQuotas.day, day)));
}

/** What the address has used of the day. */
export async function getUploadQuota(db: OperationalDb, p: { address: string; day: string }): Promise<UploadQuotaUsage> {
  const { address, day } = checked({ ...p, bytes: 0 });
  const rows = await db
    .select({ bytes: uploadQuotas.bytes, uploads: uploadQuotas.uploads })
    .from(uploadQuotas)
    .where(and(eq(uploadQuotas.address, address), eq(uploadQuotas.day, day)));
  return rows.length ? { usedBytes: Number(rows[0]!.bytes), uploads: rows[0]!.uploads } : { usedBytes: 0, uploads: 0 };
}
