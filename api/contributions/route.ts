// POST /datanets/{id}/contributions: a multipart/form-data upload with the fields
//   file         the .txt, .md, .csv or .jsonl file (its name decides the format)
//   contributor  the uploading address
//   signature    the contributor's EIP-712 signature over (datanetId, SHA-256 of the file): uploadSignature.ts
//   stake        optional, wei to lock (default: the datanet's required stake)
// Answers 201 with the content hash and the unsigned transactions (200 when this address had uploaded the
// same rows before), or an error status with {"error": message, "details"?}: 400 malformed, 401 bad
// signature, 404 unknown datanet, 405 wrong method, 413 too large, 422 contribution refused by the
// contract's rules, 429 quota used up (with Retry-After).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHex, type Hex } from 'viem';
import { TributaryError } from '../../contracts/index.ts';
import { BadUploadError, UploadError, UploadTooLargeError } from './errors.ts';
import { uploadContribution, type UploadContext, type UploadContributionReturnType } from './uploadContribution.ts';

const PATH = /^\/datanets\/([^/]+)\/contributions\/?$/;
// Room for the multipart framing and the other fields around a file of the largest size.
const MULTIPART_OVERHEAD = 64 * 1024;

export type ContributionsRoute = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

/** The route for the platform's HTTP server; `onError` hears server-side failures (not the client's). */
export function contributionsRoute(ctx: UploadContext, opts: { onError?: (e: unknown) => void } = {}): ContributionsRoute {
  return async (req, res, path) => {
    const m = PATH.exec(path);
    if (!m) return false;
    if (req.method !== 'POST') {
      send(res, 405, { error: `use POST to upload a contribution to ${path}` }, { allow: 'POST' });
      return true;
    }
    try {
      const datanetId = parseId(decodeURIComponent(m[1]!));
      const form = await readForm(req, ctx.limits.maxFileBytes);
      const result = await uploadContribution(ctx, { datanetId, ...formFields(form), ...(await fileField(form)) });
      send(res, result.created ? 201 : 200, uploadJson(result));
    } catch (e) {
      // A request refused before its body was read: close the connection rather than read the rest.
      const headers: Record<string, string> = req.complete ? {} : { connection: 'close' };
      if (e instanceof UploadError) {
        if (e.retryAfterSeconds) headers['retry-after'] = String(e.retryAfterSeconds);
        send(res, e.status, errorBody(e), headers);
      } else if (e instanceof TributaryError && e.retryable) {
        opts.onError?.(e);
        send(res, 503, errorBody(e), { ...headers, 'retry-after': '5' });
      } else {
        opts.onError?.(e);
        send(res, 500, { error: 'internal error: the upload was not completed; retrying is safe' }, headers);
      }
    }
    return true;
  };
}

/** The JSON an upload answers with: bigints as decimal strings. */
export type UploadJson = ReturnType<typeof uploadJson>;

export function uploadJson(r: UploadContributionReturnType) {
  const tx = (t: { from: string; to: string; data: Hex; value: bigint; chainId: number }) => ({ ...t, value: t.value.toString() });
  return {
    datanetId: r.datanetId.toString(),
    contributor: r.contributor,
    contentHash: r.contentHash,
    fileSha256: r.fileSha256,
    manifestSha256: r.manifestSha256,
    receiptSha256: r.receiptSha256,
    filename: r.filename,
    fileBytes: r.fileBytes,
    rowCount: r.rowCount,
    shape: r.shape,
    created: r.created,
    duplicateRows: r.duplicateRows,
    quota: r.quota,
    contribution: { size: r.contribution.size.toString(), uri: r.contribution.uri, stake: r.contribution.stake.toString() },
    transactions: { approve: r.transactions.approve && tx(r.transactions.approve), contribute: tx(r.transactions.contribute) },
  };
}

function parseId(raw: string): bigint {
  if (!/^(0|[1-9][0-9]{0,76})$/.test(raw)) throw new BadUploadError(`datanet id must be a positive integer, got "${raw}"`);
  return BigInt(raw);
}

async function readForm(req: IncomingMessage, maxFileBytes: number): Promise<FormData> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) {
    throw new BadUploadError(`send the file as multipart/form-data (fields file, contributor, signature, optional stake), not "${type || 'no content type'}"`);
  }
  const limit = maxFileBytes + MULTIPART_OVERHEAD;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new UploadTooLargeError(`the request is ${declared} bytes; files may be at most ${maxFileBytes} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new UploadTooLargeError(`the request is over ${limit} bytes; files may be at most ${maxFileBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    // undici's multipart parser (Node's own fetch implementation).
    return await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': type }, body: Buffer.concat(chunks) }).formData();
  } catch (e) {
    throw new BadUploadError(`the multipart body could not be read: ${(e as Error).message}`);
  }
}

function formFields(form: FormData): { contributor: string; signature: Hex; stake?: bigint } {
  const text = (name: string, required: boolean) => {
    const v = form.get(name);
    if (v === null) {
      if (required) throw new BadUploadError(`the form has no "${name}" field`);
      return undefined;
    }
    if (typeof v !== 'string') throw new BadUploadError(`"${name}" must be a text field, not a file`);
    return v.trim();
  };
  const contributor = text('contributor', true)!;
  const signature = text('signature', true)!;
  if (!isHex(signature, { strict: true })) throw new BadUploadError(`signature must be 0x-hex, got "${signature.slice(0, 20)}"`);
  const stakeText = text('stake', false);
  if (stakeText !== undefined && !/^(0|[1-9][0-9]{0,38})$/.test(stakeText)) {
    throw new BadUploadError(`stake must be a whole number of wei, got "${stakeText}"`);
  }
  return { contributor, signature: signature as Hex, ...(stakeText !== undefined ? { stake: BigInt(stakeText) } : {}) };
}

async function fileField(form: FormData): Promise<{ filename: string; bytes: Uint8Array }> {
  const files = form.getAll('file');
  if (files.length !== 1) throw new BadUploadError(files.length ? 'send one file per upload' : 'the form has no "file" field');
  const f = files[0]!;
  if (typeof f === 'string') throw new BadUploadError('"file" must be a file part (with a filename), not a text field');
  return { filename: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

function errorBody(e: TributaryError) {
  return { error: e.message.split('\n')[0], ...(e.details ? { details: e.details } : {}) };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body, null, 2));
}
