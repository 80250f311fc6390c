// AttributionSpan: a span of an inference's output found verbatim in a contributed row (attribution_spans):
// the evidence behind span matching, as the epoch's attribution job found it. Listed by Inference.spans.
import type { Builder } from '../builder.ts';
import type { Refs } from '../refs.ts';
import { contributionLoader, type AttributionRefs } from './attribution.ts';

export function implementAttributionSpan(_builder: Builder, refs: Refs, a: AttributionRefs): void {
  a.AttributionSpan.implement({
    description: 'A span of an inference’s output that occurs verbatim in a contributed row.',
    fields: (t) => ({
      epoch: t.expose('epoch', { type: 'BigInt', description: 'The epoch the inference was attributed in.' }),
      contributionId: t.exposeID('contribution_id', { description: 'The contribution holding the row.' }),
      contribution: t.field({
        type: refs.Contribution,
        nullable: true,
        description: 'That contribution; null if it is not indexed.',
        resolve: (s, _args, ctx) => contributionLoader(ctx).load(s.contribution_id),
      }),
      rowIndex: t.exposeInt('row_index', { description: 'The row within the contribution’s file (0-based).' }),
      start: t.exposeInt('start', { description: 'Where the span starts in the output, in tokens.' }),
      length: t.exposeInt('length', { description: 'Its length in tokens.' }),
      text: t.exposeString('text', { description: 'The matched text.' }),
    }),
  });
}
