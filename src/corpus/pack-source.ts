/**
 * Where the page reads a pack from: `corpus/<name>/` over fetch, or browser storage for an
 * imported pack (`stored.<name>`, src/corpus/pack-store.ts). Used by the search worker and by
 * the page's document browser, so both read the same bytes the same way.
 */
import { fetchSource, type PackSource } from './pack-loader.ts';
import { PackStore, storedPackName } from './pack-store.ts';

/**
 * A PackSource for `location`: a URL ending in a stored pack's `stored.<name>` reads browser
 * storage (the database opens on the first read); anything else is fetched.
 */
export function storedPackSource(location: string): PackSource {
  const name = storedPackName(location.replace(/\/+$/, '').split('/').pop() ?? '');
  if (name === null) return fetchSource(location);
  let store: Promise<PackStore> | null = null;
  return {
    location: `browser storage (${name})`,
    readFile: async (file, signal) => {
      store ??= PackStore.open();
      return (await store).source(name).readFile(file, signal);
    },
  };
}
