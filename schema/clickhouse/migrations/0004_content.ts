// Migration 4: contributed rows, queryable. The content store (schema/content/) is the source of truth
// for uploaded files; these tables are its copy, written at upload and re-synced from the store at start
// (schema/content/syncContentRows.ts), so they can always be rebuilt from the files.
//
// Binary columns are filled from EPHEMERAL <column>_hex columns at insert, as in migration 1.
//
// Identity is the chain (DESIGN.md, "Data: where the truth lives"): an uploaded row counts only once an
// on-chain contribution *from the uploading address* carries its content hash. So uploads are kept per
// (content hash, uploader), and the views join them to contributions on both.
//
//   content_uploads   ORDER BY (content_hash, uploader), ReplacingMergeTree: one row per address that
//                     uploaded a file with these rows (the first upload's file details win: read with
//                     argMin(…, uploaded_at) or FINAL). datanet_id is the datanet the upload was signed
//                     for; the on-chain contribution decides which datanet the rows join.
//   content_rows      ORDER BY (content_hash, row_index), ReplacingMergeTree: the canonical rows of each
//                     content hash in file order, fields by shape ('' where a shape has no such field).
//                     Re-inserting identical rows is harmless (read with FINAL).
//   contribution_content  contribution_id → has its contributor uploaded rows for its content hash
//                     (rows_present), how many, and the upload's file. A contribution without rows is
//                     flagged: it earns nothing until its contributor uploads them.
//   row_owners        row_hash → the contribution that owns it: the first on-chain contribution (lowest
//                     id; ids follow chain order) that carries the row, has its rows uploaded and was not
//                     rejected; the lowest row index within it. Later copies are flagged (owned = 0).
//   datanet_rows      (contribution_id, row_index) (filter: datanet_id, status, owned) → every uploaded row
//                     of every on-chain contribution, its fields, hash, the contribution's status and who
//                     owns the row.
//   datanet_version_contributions  (datanet_id, version, contribution_id) → the contributions of a
//                     published version: those of the datanet accepted before the publish event (in
//                     chain order). `tributary datanet publish` computes the root from the same set;
//                     schema/content/datanetVersionRows.ts checks it against the published root.
//
// Reads scan these whole, like the views of migration 3; materialize when one grows too slow.
import type { Migration } from '../migrate.ts';
import { JOIN_DEFAULTS, POSITION, live } from './sql.ts';

export const m0004: Migration = {
  id: 4,
  name: 'content',
  statements: [
    `CREATE TABLE IF NOT EXISTS content_uploads
(
    "content_hash" FixedString(32) DEFAULT unhex(content_hash_hex),
    "uploader" FixedString(20) DEFAULT unhex(uploader_hex),
    "datanet_id" UInt256,
    "file_sha256" FixedString(32) DEFAULT unhex(file_sha256_hex),
    "manifest_sha256" FixedString(32) DEFAULT unhex(manifest_sha256_hex),
    "receipt_sha256" FixedString(32) DEFAULT unhex(receipt_sha256_hex),
    "filename" String,
    "file_bytes" UInt64,
    "row_count" UInt32,
    "shape" LowCardinality(String),
    "uploaded_at" DateTime64(3, 'UTC'),
    "content_hash_hex" String EPHEMERAL,
    "uploader_hex" String EPHEMERAL,
    "file_sha256_hex" String EPHEMERAL,
    "manifest_sha256_hex" String EPHEMERAL,
    "receipt_sha256_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY (content_hash, uploader)`,

    `CREATE TABLE IF NOT EXISTS content_rows
(
    "content_hash" FixedString(32) DEFAULT unhex(content_hash_hex),
    "row_index" UInt32,
    "row_hash" FixedString(32) DEFAULT unhex(row_hash_hex),
    "shape" LowCardinality(String),
    "text" String,
    "prompt" String,
    "completion" String,
    "label" String,
    "content_hash_hex" String EPHEMERAL,
    "row_hash_hex" String EPHEMERAL
)
ENGINE = ReplacingMergeTree
ORDER BY (content_hash, row_index)`,

    `CREATE VIEW IF NOT EXISTS contribution_content AS
SELECT
    c.contribution_id AS contribution_id,
    c.datanet_id AS datanet_id,
    c.contributor AS contributor,
    c.content_hash AS content_hash,
    c.status AS status,
    toBool(u.found) AS rows_present,
    u.row_count AS row_count,
    u.shape AS shape,
    u.filename AS filename,
    u.file_bytes AS file_bytes,
    u.file_sha256 AS file_sha256,
    u.manifest_sha256 AS manifest_sha256,
    if(u.found = 1, u.first_uploaded_at, NULL) AS uploaded_at
FROM (SELECT contribution_id, datanet_id, contributor, content_hash, status FROM contributions) AS c
LEFT JOIN (
    SELECT
        content_hash,
        uploader,
        toUInt8(1) AS found,
        argMin(row_count, uploaded_at) AS row_count,
        argMin(shape, uploaded_at) AS shape,
        argMin(filename, uploaded_at) AS filename,
        argMin(file_bytes, uploaded_at) AS file_bytes,
        argMin(file_sha256, uploaded_at) AS file_sha256,
        argMin(manifest_sha256, uploaded_at) AS manifest_sha256,
        min(uploaded_at) AS first_uploaded_at
    FROM content_uploads
    GROUP BY content_hash, uploader
) AS u ON u.content_hash = c.content_hash AND u.uploader = c.contributor
${JOIN_DEFAULTS}`,

    `CREATE VIEW IF NOT EXISTS row_owners AS
SELECT row_hash, first.1 AS contribution_id, first.2 AS row_index, copies
FROM (
    SELECT r.row_hash AS row_hash, min((c.contribution_id, r.row_index)) AS first, count() AS copies
    FROM (SELECT contribution_id, content_hash FROM contribution_content WHERE rows_present AND status != 'rejected') AS c
    INNER JOIN (SELECT content_hash, row_index, row_hash FROM content_rows FINAL) AS r ON r.content_hash = c.content_hash
    GROUP BY r.row_hash
)`,

    `CREATE VIEW IF NOT EXISTS datanet_rows AS
SELECT
    c.datanet_id AS datanet_id,
    c.contribution_id AS contribution_id,
    r.row_index AS row_index,
    r.row_hash AS row_hash,
    r.shape AS shape,
    r.text AS text,
    r.prompt AS prompt,
    r.completion AS completion,
    r.label AS label,
    c.contributor AS contributor,
    c.status AS status,
    toBool(o.contribution_id = c.contribution_id AND o.row_index = r.row_index) AS owned,
    if(o.contribution_id = 0, NULL, o.contribution_id) AS owner_contribution_id
FROM (SELECT contribution_id, datanet_id, contributor, content_hash, status FROM contribution_content WHERE rows_present) AS c
INNER JOIN (SELECT * FROM content_rows FINAL) AS r ON r.content_hash = c.content_hash
LEFT JOIN (SELECT row_hash, contribution_id, row_index FROM row_owners) AS o ON o.row_hash = r.row_hash
${JOIN_DEFAULTS}`,

    `CREATE VIEW IF NOT EXISTS datanet_version_contributions AS
SELECT
    v.datanet_id AS datanet_id,
    v.version AS version,
    s.contribution_id AS contribution_id,
    s.content_hash AS content_hash,
    s.contributor AS contributor
FROM ${live('ev_datanet_registry_datanet_version_published', ['datanet_id', 'version'])} AS v
INNER JOIN ${live('ev_datanet_registry_contribution_submitted', ['contribution_id', 'datanet_id', 'content_hash', 'contributor'])} AS s
    ON s.datanet_id = v.datanet_id
INNER JOIN (
    SELECT contribution_id, argMin(accepted, ${POSITION}) AS accepted, min(${POSITION}) AS reviewed_at_position
    FROM ${live('ev_datanet_registry_contribution_reviewed', ['contribution_id', 'accepted'])}
    GROUP BY contribution_id
) AS r ON r.contribution_id = s.contribution_id
WHERE r.accepted AND r.reviewed_at_position < (v.block_number, v.log_index)`,
  ],
};
