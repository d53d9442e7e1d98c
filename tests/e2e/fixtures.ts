/**
 * Fixtures of the page tests, built in Node: a tiny corpus pack whose documents and questions
 * hold HTML (served by a Vite plugin at /corpus/<name>/), and a checkpoint whose model writes
 * `<script>` (its vocabulary has that token, and its weights make it the greedy choice).
 */
import type { Plugin } from 'vite';
import { serializePack } from '../../src/corpus/pack-writer.ts';
import type { CorpusDocument, Question } from '../../src/corpus/types.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { downloadParams, encodeCheckpoint } from '../../src/io/checkpoint.ts';
import { zipFiles } from '../../src/io/zip.ts';
import { validateConfig } from '../../src/model/config.ts';
import { EMBED, initParams, LM_HEAD } from '../../src/model/params.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';

export const IMG_PAYLOAD = '<img src=x onerror=alert(1)>';
export const SCRIPT_PAYLOAD = '<script>alert(2)</script>';

/** A pack of three documents (one carrying HTML) and four questions, served at /corpus/<name>/. */
export function htmlPackPlugin(name = 'html-pack'): Plugin {
  const documents: CorpusDocument[] = [
    { id: 'h1', title: 'Mallory', text: `Mallory wrote ${IMG_PAYLOAD} and ${SCRIPT_PAYLOAD} in her diary. She was born in Quorn.` },
    { id: 'h2', title: 'Quorn', text: 'Quorn is a small town. Mallory was born in Quorn.' },
    { id: 'h3', title: 'Diary <b>bold</b>', text: 'The diary is kept in Quorn.' },
  ];
  const q = (id: string, question: string, answers: string[], hops: number, split: Question['split'], supportingIds: string[]): Question =>
    ({ id, question, answers, hops, template: hops === 1 ? 'birthplace' : 'diary_town', split, supportingIds });
  const questions = [
    q('t1', 'Where was Mallory born?', ['Quorn'], 1, 'train', ['h1']),
    q('t2', 'Where is the diary <i>kept</i>?', ['Quorn'], 2, 'train', ['h3', 'h2']),
    q('t3', `Who wrote ${SCRIPT_PAYLOAD}?`, ['Mallory'], 1, 'test', ['h1']),
    q('t4', 'Where was the diary writer born?', ['Quorn'], 2, 'ood', ['h1', 'h2']),
  ];
  const { files } = serializePack({ name, description: 'Documents that hold HTML, for the page tests.', source: 'tests/e2e/fixtures.ts', license: 'MIT', documents, questions, shards: 2 });
  const byName = new Map(files.map((f) => [f.file, typeof f.content === 'string' ? new TextEncoder().encode(f.content) : f.content]));
  return {
    name: 'r1s-html-pack',
    configureServer(server) {
      server.middlewares.use(`/corpus/${name}/`, (req, res, next) => {
        const file = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
        const bytes = byName.get(file);
        if (!bytes) return next();
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/x-ndjson');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        res.end(Buffer.from(bytes));
      });
    },
  };
}

/**
 * A zipped checkpoint whose greedy output is `<script>` at every step: channel 0 of every
 * embedding is 1 (about +4 after RMSNorm), and only the output row of `<script>` reads it.
 */
export async function scriptModelZip(): Promise<Uint8Array> {
  const tokenizer = Tokenizer.fromWords(['<script>', '</script>', 'mallory', 'quorn', 'diary', 'who', 'wrote', 'where', 'born', 'question', 'answer', ':', '.', '?']);
  const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
  const b = new CpuBackend();
  const weights = await downloadParams(b, initParams(b, config, 3));
  const C = config.hiddenSize, embed = weights.get(EMBED)!.data, head = weights.get(LM_HEAD)!.data;
  for (let v = 0; v < config.vocabSize; v++) embed[v * C] = 1;
  head[tokenizer.id('<script>') * C] = 5;
  return zipFiles(encodeCheckpoint({ config, tokenizer, weights }), { root: 'script-model' });
}
