// The Pothos schema builder with the plugins the API uses: Relay connections (with `nodes` and
// `totalCount`), dataloaders against N+1 queries, and per-field complexity figures that
// complexity.ts checks against QUERY_LIMITS before anything executes.
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ComplexityPlugin from '@pothos/plugin-complexity';
import type { ClickHouseStore } from '../../schema/index.ts';

/** What every resolver gets. A fresh object per request: dataloader caches hang off it. */
export interface ApiContext {
  ch: ClickHouseStore;
}

/**
 * Limits a query must stay within (README, "GraphQL API"). depth: nesting of fields, a root field
 * being 1 (a provenance walk model → trainingRuns → edges → node → datanetVersions → datanet →
 * contributions → edges → node → contributor is 10). breadth: fields selected in all. complexity:
 * each field costs 1 and a connection multiplies its selection by its page size (first/last, else
 * DEFAULT_PAGE_SIZE): a page of 100 with every field, or default pages of 20 inside a page of
 * 20 (datanets with their versions), pass; two nested pages of 100 (10,000 rows) are refused.
 */
export const QUERY_LIMITS = { complexity: 10_000, depth: 10, breadth: 200 } as const;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export type ApiScalars = {
  Address: { Input: `0x${string}`; Output: string };
  Bytes32: { Input: `0x${string}`; Output: string };
  Wei: { Input: bigint; Output: bigint | string };
  BigInt: { Input: bigint; Output: bigint | string | number };
  DateTime: { Input: Date; Output: Date | string };
  Date: { Input: string; Output: string };
};

export function createBuilder() {
  return new SchemaBuilder<{
    Context: ApiContext;
    Scalars: ApiScalars;
    DefaultFieldNullability: false;
    DefaultEdgesNullability: false;
    DefaultNodeNullability: false;
  }>({
    plugins: [ComplexityPlugin, RelayPlugin, DataloaderPlugin],
    // Fields are non-null unless marked: a missing value (not reviewed yet, no such id) is said so.
    defaultFieldNullability: false,
    relay: {
      clientMutationId: 'omit',
      cursorType: 'String',
      edgesFieldOptions: { nullable: false },
      nodeFieldOptions: { nullable: false },
      nodesOnConnection: true,
      // Ids are the chain's own numbers, not Relay global ids: no Node interface, no node(id) field.
      nodeQueryOptions: false,
      nodesQueryOptions: false,
    },
    complexity: {
      defaultComplexity: 1,
      // Connections carry their own multiplier (their page size); the edges/nodes lists inside them
      // and the short fixed lists elsewhere must not multiply again.
      defaultListMultiplier: 1,
      // No `limit` here: the plugin would check it inside each root resolver, once per root field;
      // complexity.ts checks the whole operation once, before execution.
    },
  });
}

export type Builder = ReturnType<typeof createBuilder>;
