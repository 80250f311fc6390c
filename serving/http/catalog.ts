// The models this server answers to: the name a client puts in `model`, the adapter it runs (or the base
// model alone), and what billing needs (the on-chain model id and version, the adapter's hash). Kept in
// a JSON file in the data dir (written atomically) so adapters loaded through the API survive a restart.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Hex } from 'viem';
import { writeJsonAtomically } from '../checkpoint.ts';

export interface ServedModel {
  /** The name clients use (`model`). */
  id: string;
  /** The adapter's directory (PEFT layout); absent for the base model alone. */
  adapterPath?: string;
  adapterHash?: Hex;
  /** ModelRegistry's id and version: inferences of a model without one are logged but not billed. */
  modelId?: string;
  version?: number;
  ownedBy: string;
  /** Unix seconds. */
  created: number;
  /**
   * Published on-chain (publishedModels.ts): its adapter is fetched from the content store by
   * `adapterHash`, and the chain, not the adapter routes, adds and removes it.
   */
  published?: boolean;
}

export interface ModelCatalog {
  list(): ServedModel[];
  get(id: string): ServedModel | undefined;
  /** Adds or replaces. */
  put(model: ServedModel): void;
  remove(id: string): boolean;
}

/** A catalog, persisted to `file` when given. */
export function createModelCatalog(opts: { file?: string; initial?: ServedModel[] } = {}): ModelCatalog {
  const models = new Map<string, ServedModel>();
  if (opts.file && existsSync(opts.file)) {
    for (const m of JSON.parse(readFileSync(opts.file, 'utf8')) as ServedModel[]) models.set(m.id, m);
  }
  for (const m of opts.initial ?? []) if (!models.has(m.id)) models.set(m.id, m);
  const save = () => {
    if (!opts.file) return;
    mkdirSync(path.dirname(opts.file), { recursive: true });
    writeJsonAtomically(opts.file, [...models.values()]);
  };
  save();
  return {
    list: () => [...models.values()].sort((a, b) => a.id.localeCompare(b.id)),
    get: (id) => models.get(id),
    put(m) {
      models.set(m.id, m);
      save();
    },
    remove(id) {
      const had = models.delete(id);
      if (had) save();
      return had;
    },
  };
}

const PUBLISHED_KEY = 'published/';

/**
 * The key the engine's adapter cache knows a model's adapter by: its name for an adapter loaded from a
 * directory (a reload evicts it), `published/<adapter hash>` for a published one (a new version is a new
 * key, so a running sequence keeps the weights it started with); null for the base model alone. Names
 * cannot contain `/`, so the two never collide.
 */
export function adapterKeyOf(m: ServedModel): string | null {
  if (m.adapterPath) return m.id;
  if (m.published && m.adapterHash) return `${PUBLISHED_KEY}${m.adapterHash}`;
  return null;
}

/** The adapter hash a `published/<hash>` key names; undefined for any other key. */
export function publishedAdapterHash(key: string): `0x${string}` | undefined {
  const hash = key.startsWith(PUBLISHED_KEY) ? key.slice(PUBLISHED_KEY.length) : '';
  return /^0x[0-9a-f]{64}$/.test(hash) ? (hash as `0x${string}`) : undefined;
}
