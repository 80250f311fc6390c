// Inference: one settled inference as the chain recorded it (the live InferenceSettled row: model, payer,
// epoch, tokens, fee and its owner/pool/treasury split), what the server logged about it (inference_log:
// latency and text, unless blanked after the payout), and what it was attributed to (attribution_scores,
// highest weight first) with the spans found verbatim in contributed rows (attribution_spans).
// Query.inference(requestId).
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { ApiContext, Builder } from '../builder.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';
import { ATTRIBUTION_SCORES, ATTRIBUTION_SPANS, selectInferenceLogs, tableConnection, type AttributionRow, type AttributionSpanRow, type InferenceLogRow } from './attributionQueries.ts';
import type { AttributionRefs } from './attribution.ts';

/** SHA-256 of the empty string: a blank text whose hash is not this was blanked, not empty. */
const EMPTY_SHA256 = '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface InferenceLogShape extends InferenceLogRow {
  /** The prompt and output were blanked (INFERENCE_TEXT=until-settled); their hashes remain. */
  blanked: boolean;
}

const inferenceLogs = createContextCache(
  (ctx: ApiContext) =>
    new DataLoader<string, InferenceLogShape | null>(async (ids) => {
      const rows = await selectInferenceLogs(ctx, ids);
      const byId = new Map(rows.map((r) => [r.request_id, r]));
      return ids.map((id) => {
        const r = byId.get(id);
        if (!r) return null;
        const blanked = (r.prompt === '' && r.prompt_sha256 !== EMPTY_SHA256) || (r.output === '' && r.output_sha256 !== EMPTY_SHA256);
        return { ...r, blanked };
      });
    }),
);

const requestFilter = (requestId: string) => ({ sql: 'request_id = unhex(substring({requestId:String}, 3))', params: { requestId } });

export function implementInference(builder: Builder, refs: Refs, a: AttributionRefs): void {
  a.Inference.implement({
    description: 'A settled inference: what the chain recorded (InferenceSettled), what the server logged, and the contributions it is attributed to.',
    fields: (t) => ({
      requestId: t.expose('request_id', { type: 'Bytes32', description: 'The request id InferenceRouter settled it under.' }),
      modelId: t.exposeID('model_id', { description: 'The model billed.' }),
      model: t.field({ type: refs.Model, nullable: true, description: 'The model billed; null if it is not indexed.', resolve: (i) => i.model_id }),
      payer: t.expose('payer', { type: 'Address', description: 'Whose escrow paid.' }),
      epoch: t.expose('epoch', { type: 'BigInt', description: 'The attribution epoch whose contributor pool received its share.' }),
      batchNumber: t.expose('batch_number', { type: 'BigInt', description: 'The usage batch it was settled in.' }),
      modelOwner: t.expose('model_owner', { type: 'Address', description: 'Who received the owner share.' }),
      tokensIn: t.expose('tokens_in', { type: 'BigInt', description: 'Prompt tokens billed.' }),
      tokensOut: t.expose('tokens_out', { type: 'BigInt', description: 'Output tokens billed.' }),
      fee: t.expose('fee', { type: 'Wei', description: 'The fee: ownerAmount + poolAmount + treasuryAmount.' }),
      ownerAmount: t.expose('owner_amount', { type: 'Wei', description: 'The model owner’s share.' }),
      poolAmount: t.expose('pool_amount', { type: 'Wei', description: 'The contributor pool’s share, divided by its attributions.' }),
      treasuryAmount: t.expose('treasury_amount', { type: 'Wei', description: 'The treasury’s share.' }),
      settledBlock: t.expose('block_number', { type: 'BigInt', description: 'Block of the InferenceSettled event.' }),
      settledAt: t.expose('block_timestamp', { type: 'DateTime', description: 'Its block time.' }),
      settledTx: t.expose('tx_hash', { type: 'Bytes32', description: 'Its transaction.' }),
      log: t.field({
        type: a.InferenceLog,
        nullable: true,
        description: 'What the serving side logged about it; null when this platform did not serve it (or the log is not written yet).',
        resolve: (i, _args, ctx) => inferenceLogs(ctx).load(i.request_id),
      }),
      attributions: t.connection(
        {
          type: a.Attribution,
          description: 'The contributions it is attributed to, highest weight first (then highest score, then by contribution).',
          complexity: connectionComplexity,
          resolve: (i, args, ctx) =>
            tableConnection<AttributionRow>(ctx, args, { ...ATTRIBUTION_SCORES, filters: [requestFilter(i.request_id)], orderBy: 'weight DESC, score DESC, contribution_id' }),
        },
        a.AttributionConnection,
      ),
      spans: t.connection(
        {
          type: a.AttributionSpan,
          description: 'Spans of its output found verbatim in contributed rows, by position in the output (longest first at one position).',
          complexity: connectionComplexity,
          resolve: (i, args, ctx) =>
            tableConnection<AttributionSpanRow>(ctx, args, { ...ATTRIBUTION_SPANS, filters: [requestFilter(i.request_id)], orderBy: 'start, length DESC, contribution_id, row_index' }),
        },
        a.AttributionSpanConnection,
      ),
    }),
  });

  a.InferenceLog.implement({
    description: 'The serving side’s record of an inference (inference_log).',
    fields: (t) => ({
      modelVersion: t.expose('model_version', { type: 'BigInt', description: 'The model version that answered.' }),
      adapterHash: t.expose('adapter_hash', { type: 'Bytes32', description: 'SHA-256 of the adapter weights that answered.' }),
      tokensIn: t.expose('tokens_in', { type: 'BigInt', description: 'Prompt tokens.' }),
      tokensOut: t.expose('tokens_out', { type: 'BigInt', description: 'Generated tokens.' }),
      latencyMs: t.exposeInt('latency_ms', { description: 'From arrival to the last token, in milliseconds.' }),
      firstTokenMs: t.exposeInt('first_token_ms', { nullable: true, description: 'From arrival to the first token; null when none came.' }),
      finishReason: t.exposeString('finish_reason', { description: '`stop`, `length` or `cancelled`.' }),
      textBlanked: t.exposeBoolean('blanked', { description: 'The text was blanked once the epoch’s payout was claimable (INFERENCE_TEXT=until-settled); the hashes remain.' }),
      prompt: t.string({ nullable: true, description: 'The prompt; null once blanked.', resolve: (l) => (l.blanked ? null : l.prompt) }),
      output: t.string({ nullable: true, description: 'The output; null once blanked.', resolve: (l) => (l.blanked ? null : l.output) }),
      promptSha256: t.expose('prompt_sha256', { type: 'Bytes32', description: 'SHA-256 of the prompt’s UTF-8 text.' }),
      outputSha256: t.expose('output_sha256', { type: 'Bytes32', description: 'SHA-256 of the output’s UTF-8 text.' }),
      createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the request arrived.' }),
    }),
  });

  builder.queryFields((t) => ({
    inference: t.field({
      type: a.Inference,
      nullable: true,
      description: 'One settled inference by request id; null when no live InferenceSettled event has it.',
      args: { requestId: t.arg({ type: 'Bytes32', required: true, description: 'The request id (0x followed by 64 hex digits).' }) },
      resolve: (_root, args) => args.requestId.toLowerCase(),
    }),
  }));
}
