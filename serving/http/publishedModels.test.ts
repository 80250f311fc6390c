import { describe, expect, it } from 'vitest';
import { adapterKeyOf, createModelCatalog, publishedAdapterHash } from './catalog.ts';
import { applyPublishedModels, type PublishedModel } from './publishedModels.ts';

const hash = (b: string) => `0x${b.repeat(32)}` as const;
const owner = `0x${'0a'.repeat(20)}` as const;
const model = (id: bigint, name: string, over: Partial<PublishedModel> = {}): PublishedModel => ({
  modelId: id,
  name,
  owner,
  version: 1n,
  adapterHash: hash('11'),
  active: true,
  ...over,
});

describe('applyPublishedModels', () => {
  it('serves each active published model under its name, keeps names stable, and follows new versions and deactivation', () => {
    const catalog = createModelCatalog({ initial: [{ id: 'tributary-tiny', ownedBy: 'tributary', created: 1 }] });
    catalog.put({ id: 'ops-adapter', adapterPath: '/tmp/a', ownedBy: 'tributary', created: 1 });

    expect(applyPublishedModels(catalog, [model(2n, 'poems'), model(1n, 'recipes', { adapterHash: hash('22') }), model(3n, 'poems'), model(4n, 'ops-adapter')], 100)).toEqual({
      added: ['recipes', 'poems', 'poems-3', 'ops-adapter-4'],
      updated: [],
      removed: [],
    });
    expect(catalog.get('recipes')).toEqual({ id: 'recipes', adapterHash: hash('22'), modelId: '1', version: 1, ownedBy: owner, created: 100, published: true });
    expect(catalog.get('ops-adapter')!.adapterPath).toBe('/tmp/a');
    // The same list again changes nothing.
    expect(applyPublishedModels(catalog, [model(2n, 'poems'), model(1n, 'recipes', { adapterHash: hash('22') }), model(3n, 'poems'), model(4n, 'ops-adapter')], 200)).toEqual({ added: [], updated: [], removed: [] });

    // A new version of model 2, model 3 deactivated, model 4 undone by a reorg.
    const changes = applyPublishedModels(catalog, [model(1n, 'recipes', { adapterHash: hash('22') }), model(2n, 'poems', { version: 2n, adapterHash: hash('33') }), model(3n, 'poems', { active: false })], 300);
    expect(changes).toEqual({ added: [], updated: ['poems'], removed: ['ops-adapter-4', 'poems-3'] });
    expect(catalog.get('poems')).toMatchObject({ version: 2, adapterHash: hash('33'), created: 100 });
    expect(catalog.list().map((m) => m.id)).toEqual(['ops-adapter', 'poems', 'recipes', 'tributary-tiny']);
  });

  it('keys published adapters by hash and directory adapters by name, never colliding', () => {
    const catalog = createModelCatalog();
    applyPublishedModels(catalog, [model(1n, 'recipes')]);
    const key = adapterKeyOf(catalog.get('recipes')!);
    expect(key).toBe(`published/${hash('11')}`);
    expect(publishedAdapterHash(key!)).toBe(hash('11'));
    expect(adapterKeyOf({ id: 'x', adapterPath: '/tmp/x', adapterHash: hash('11'), ownedBy: 'o', created: 0 })).toBe('x');
    expect(adapterKeyOf({ id: 'base', ownedBy: 'o', created: 0 })).toBeNull();
    expect(publishedAdapterHash('recipes')).toBeUndefined();
    expect(publishedAdapterHash('published/0x12')).toBeUndefined();
  });
});
