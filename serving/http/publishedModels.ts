// Keeps the catalog in step with the models published on-chain: each active model with a published
// version is served under its registered name, with its latest version's adapter, which the server
// fetches from the content store by hash. An entry loaded by an operator through POST /v1/adapters keeps
// its name; a published model whose name is taken (by such an entry, the base model or a model with a
// lower id) is served as `<name>-<model id>`, so names never move from one model to another.
import type { Hex } from 'viem';
import type { ModelCatalog, ServedModel } from './catalog.ts';

export interface PublishedModel {
  modelId: bigint;
  name: string;
  owner: Hex;
  version: bigint;
  adapterHash: Hex;
  active: boolean;
}

export interface CatalogChanges {
  added: string[];
  updated: string[];
  removed: string[];
}

/** Puts `models` (in model id order) into `catalog` and removes published entries no longer servable. */
export function applyPublishedModels(catalog: ModelCatalog, models: readonly PublishedModel[], now = Math.floor(Date.now() / 1000)): CatalogChanges {
  const changes: CatalogChanges = { added: [], updated: [], removed: [] };
  const current = catalog.list();
  const byModelId = new Map(current.filter((m) => m.published && m.modelId !== undefined).map((m) => [m.modelId!, m]));
  const taken = new Set(current.filter((m) => !m.published).map((m) => m.id));
  const keep = new Set<string>();
  for (const p of [...models].sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0))) {
    if (!p.active) continue;
    const id = taken.has(p.name) || p.name.trim() === '' ? `${p.name || 'model'}-${p.modelId}` : p.name;
    taken.add(id);
    keep.add(id);
    const before = byModelId.get(String(p.modelId));
    const entry: ServedModel = {
      id,
      adapterHash: p.adapterHash,
      modelId: String(p.modelId),
      version: Number(p.version),
      ownedBy: p.owner,
      created: before?.created ?? now,
      published: true,
    };
    if (before && before.id !== id) catalog.remove(before.id);
    if (!before || before.id !== id) changes.added.push(id);
    else if (before.adapterHash !== entry.adapterHash || before.version !== entry.version || before.ownedBy !== entry.ownedBy) changes.updated.push(id);
    else continue;
    catalog.put(entry);
  }
  for (const m of catalog.list()) {
    if (m.published && !keep.has(m.id)) {
      catalog.remove(m.id);
      changes.removed.push(m.id);
    }
  }
  return changes;
}
