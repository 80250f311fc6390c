// The Pothos schema builder with the plugins the API uses: Relay connections (with `nodes` and
// `totalCount`), dataloaders against N+1 queries, and complexity/depth limits.
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ComplexityPlugin from '@pothos/plugin-complexity';
import type { ClickHouseStore } from '../../schema/index.ts';

export interface ApiContext {
  ch: ClickHouseStore;
}

/** Limits a query must stay within; see README (GraphQL). */
export const QUERY_LIMITS = { complexity: 5000, depth: 8, breadth: 100 } as const;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export type ApiScalars = {
  Address: { Input: `0x${string}`; Output: string };
  Wei: { Input: bigint; Output: bigint | string };
  Bytes32: { Input: `0x${string}`; Output: string };
  DateTime: { Input: Date; Output: Date | string };
};

export function createBuilder() {
  return new SchemaBuilder<{
    Context: ApiContext;
    Scalars: ApiScalars;
    DefaultEdgesNullability: false;
    DefaultNodeNullability: false;
  }>({
    plugins: [ComplexityPlugin, RelayPlugin, DataloaderPlugin],
    relay: {
      clientMutationId: 'omit',
      cursorType: 'String',
      edgesFieldOptions: { nullable: false },
      nodeFieldOptions: { nullable: false },
      nodesOnConnection: true,
    },
    complexity: {
      defaultComplexity: 1,
      defaultListMultiplier: 10,
      limit: { ...QUERY_LIMITS },
    },
  });
}

export type Builder = ReturnType<typeof createBuilder>;
