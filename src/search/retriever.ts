/**
 * The retrieval interface the rollout (recipe.md section 3) programs against.
 *
 * Two implementations with the same ranking: {@link LocalRetriever} runs a SearchIndex in the
 * calling thread (CLI, tests, a trainer that holds its own index), and the search worker's
 * comlink remote (`createSearchWorker()` in `client.ts`) runs it off the page's main thread.
 * Both are asynchronous so the rollout code does not care which one it was given.
 */
import type { SearchHit, SearchIndex } from './search-index.ts';

export interface Retriever {
  /** The top `k` hits for `query`, best first (see `SearchIndex.search`). */
  search(query: string, k: number): Promise<SearchHit[]>;
  /**
   * `search` for each query, in order; one round trip for a whole batch of rollouts.
   * `groups[i]`, when given, is the index of the prompt that query i's rollout answers: search
   * engines ignore it; `eval --mode oracle` uses it to return that question's evidence.
   */
  searchMany(queries: string[], k: number, groups?: readonly number[]): Promise<SearchHit[][]>;
}

/** A {@link Retriever} over an in-process {@link SearchIndex}. Errors of the index propagate. */
export class LocalRetriever implements Retriever {
  constructor(readonly index: SearchIndex) {}

  async search(query: string, k: number): Promise<SearchHit[]> {
    return this.index.search(query, k);
  }

  async searchMany(queries: string[], k: number): Promise<SearchHit[][]> {
    return this.index.searchMany(queries, k);
  }
}
