// SQL pieces the derived-relation migrations share. Changing what these return changes the statements
// of migrations already applied (their checksums would no longer match): add new helpers instead.

/** Where an event sits in the chain, as a tuple to order and compare by. */
export const POSITION = '(block_number, log_index)';

/** The live rows of an event table: each written row not cancelled by a sign = -1 row. */
export function live(table: string, columns: readonly string[]): string {
  const picked = columns.map((c) => `any(${c}) AS ${c}`).join(', ');
  return `(
        SELECT block_number, log_index, block_hash, any(block_timestamp) AS block_timestamp, any(tx_hash) AS tx_hash, ${picked}
        FROM ${table}
        GROUP BY block_number, log_index, block_hash
        HAVING sum(sign) > 0
    )`;
}

/** LEFT JOINs that rely on unmatched rows reading as defaults (0, ''), whatever the session says. */
export const JOIN_DEFAULTS = 'SETTINGS join_use_nulls = 0';
