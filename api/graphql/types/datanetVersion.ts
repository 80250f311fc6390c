// DatanetVersion: a published version of a datanet (the Merkle root of its accepted contributions),
// from the `datanet_versions` view. Loadable by the key `<datanetId>:<version>`, so the datanet
// versions a page of training runs used load in one query.
import type { ApiContext, Builder } from '../builder.ts';
import { selectRelation } from '../clickhouse.ts';
import type { Refs } from '../refs.ts';
import { toInt } from '../rows.ts';

export interface DatanetVersionRow {
  datanet_id: string;
  version: string;
  root: string;
  contribution_count: string;
  uri: string;
  published_block: string;
  published_at: string;
  published_tx: string;
}

export const datanetVersionKey = (datanetId: string, version: string) => `${datanetId}:${version}`;

function loadDatanetVersions(keys: readonly string[], ctx: ApiContext): Promise<DatanetVersionRow[]> {
  const pairs = keys.map((k) => k.split(':'));
  return selectRelation<DatanetVersionRow>(
    ctx,
    'datanet_versions',
    'has(arrayZip({datanets:Array(UInt256)}, {versions:Array(UInt256)}), (datanet_id, version))',
    { datanets: pairs.map(([d]) => BigInt(d!)), versions: pairs.map(([, v]) => BigInt(v!)) },
  );
}

export function createDatanetVersionRef(builder: Builder) {
  return builder.loadableObjectRef('DatanetVersion', {
    load: (keys: string[], ctx: ApiContext) => loadDatanetVersions(keys, ctx),
    sort: (row) => datanetVersionKey(row.datanet_id, row.version),
  });
}

export function implementDatanetVersion(_builder: Builder, refs: Refs): void {
  refs.DatanetVersion.implement({
    description: 'A published version of a datanet: the Merkle root of its accepted contributions at that time.',
    fields: (t) => ({
      datanetId: t.exposeID('datanet_id', { description: 'The datanet.' }),
      datanet: t.field({ type: refs.Datanet, description: 'The datanet.', resolve: (v) => v.datanet_id }),
      version: t.int({ description: '1, 2, 3…', resolve: (v) => toInt(v.version, 'version') }),
      root: t.expose('root', {
        type: 'Bytes32',
        description: 'Merkle root of (contributionId, contentHash) over its accepted contributions (datanetVersionRoot).',
      }),
      contributionCount: t.int({ description: 'Contributions in the version.', resolve: (v) => toInt(v.contribution_count, 'contribution_count') }),
      uri: t.exposeString('uri', { description: 'Where the version manifest lives.' }),
      publishedBlock: t.expose('published_block', { type: 'BigInt', description: 'Block of the DatanetVersionPublished event.' }),
      publishedAt: t.expose('published_at', { type: 'DateTime', description: 'Its block time.' }),
      publishedTx: t.expose('published_tx', { type: 'Bytes32', description: 'Its transaction.' }),
    }),
  });
}
