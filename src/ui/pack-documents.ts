/**
 * The pack's documents by id, for the question browser's "supporting documents". The search
 * worker already fetched and verified these shards (the browser's HTTP cache serves them
 * again), so this only reads them once more when a learner opens a supporting document.
 */
import type { CorpusDocument, PackManifest } from '../corpus/types.ts';

/** Loads every shard of a pack into a map id -> document. @throws Error naming a shard that fails to load or parse. */
export async function loadPackDocuments(packUrl: string, manifest: PackManifest): Promise<Map<string, CorpusDocument>> {
  const out = new Map<string, CorpusDocument>();
  const base = packUrl.endsWith('/') ? packUrl : `${packUrl}/`;
  const texts = await Promise.all(manifest.shards.map(async (s) => {
    const res = await fetch(`${base}${s.file}`);
    if (!res.ok) throw new Error(`documents: fetching ${s.file} failed with HTTP ${res.status}`);
    return { file: s.file, text: await res.text() };
  }));
  for (const { file, text } of texts) {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const d = JSON.parse(line) as CorpusDocument;
        out.set(d.id, d);
      } catch (e) {
        throw new Error(`documents: ${file} line ${i + 1} is not JSON (${(e as Error).message})`);
      }
    });
  }
  return out;
}
