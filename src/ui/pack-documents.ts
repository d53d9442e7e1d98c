/**
 * The pack's documents by id, for the question browser's "supporting documents". The search
 * worker already read and verified these shards (the browser's HTTP cache, or browser storage
 * for an imported pack, serves them again), so this only reads them once more when a learner
 * opens a supporting document.
 */
import type { CorpusDocument, PackManifest } from '../corpus/types.ts';
import type { PackSource } from '../corpus/pack-loader.ts';

/** Loads every shard of a pack into a map id -> document. @throws Error naming a shard that fails to load or parse. */
export async function loadPackDocuments(source: PackSource, manifest: PackManifest): Promise<Map<string, CorpusDocument>> {
  const out = new Map<string, CorpusDocument>();
  const decoder = new TextDecoder();
  const texts = await Promise.all(manifest.shards.map(async (s) => {
    try {
      return { file: s.file, text: decoder.decode(await source.readFile(s.file)) };
    } catch (e) {
      throw new Error(`documents: reading ${s.file} failed (${e instanceof Error ? e.message : String(e)})`);
    }
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
