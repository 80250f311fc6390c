// The request bodies of /v1/completions and /v1/chat/completions, checked with zod. OpenAI's fields
// that Tributary does not implement are refused by name (n > 1, logprobs, tools…) rather than ignored,
// so a client never silently gets something other than what it asked for.
import { z } from 'zod';
import { badRequest } from './errors.ts';

const common = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: z.literal(1).nullable().optional(),
  user: z.string().optional(),
  // accepted and ignored: they do not change what a sampler of this kind returns
  frequency_penalty: z.literal(0).nullable().optional(),
  presence_penalty: z.literal(0).nullable().optional(),
};

export const completionBody = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.string()).length(1), z.array(z.number().int().min(0)).min(1)]),
    echo: z.literal(false).optional(),
    logprobs: z.null().optional(),
    suffix: z.null().optional(),
  })
  .strict();

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }).strict())]),
  name: z.string().optional(),
});

export const chatBody = z
  .object({
    ...common,
    messages: z.array(message).min(1),
    logprobs: z.literal(false).nullable().optional(),
  })
  .strict();

export type CompletionBody = z.infer<typeof completionBody>;
export type ChatBody = z.infer<typeof chatBody>;

/** Parses a body against `schema`, turning the first problem into a 400 that names the field. */
export function parseBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.join('.') || null;
  const unsupported = issue.code === 'unrecognized_keys' ? ` (not supported: ${issue.keys.join(', ')})` : '';
  throw badRequest(`${param ? `${param}: ` : ''}${issue.message}${unsupported}`, param ?? (issue.code === 'unrecognized_keys' ? issue.keys[0]! : null));
}
