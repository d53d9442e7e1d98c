/**
 * The import driver: question files and corpus files in, a corpus pack spec and an import report
 * out (issue 7, parts 1 and 3). Storing the spec is the caller's job (`writePack` in Node,
 * atomic; the page's own storage), so an import that fails or is aborted stores nothing.
 *
 * Steps:
 * 1. each file: container and format detection (`detect.ts`), then every record read by its
 *    format module; a refused record is reported with file, line (or item) and reason, and the
 *    file goes on. A file with nothing usable is refused as a whole (ImportError).
 * 2. documents: the corpus files' documents in file and line order (a repeated id is refused
 *    as duplicate-id); with no corpus file, the union of the questions' paragraphs (deduplicated
 *    by title and text, ids derived as in `doc-id.ts`).
 * 3. questions: id `dataset:sourceId` (the line or item number when the source has no id;
 *    a repeated id is refused), split by the dataset rule (`datasets.ts`), hops from the type
 *    (MuSiQue `3hop1` -> 3) or the dataset, template `dataset/type`, supporting ids from the
 *    supporting paragraphs matched to documents by title and text, else by title (restricted to
 *    the question's own paragraphs when it has some), and `answerInCorpus` (`answer-presence.ts`).
 *
 * The manifest records the files read and the search settings for real corpora
 * (`search-settings.ts`) under `generator`.
 */
import type { PackSpec } from '../pack-serialize.ts';
import type { CorpusDocument, Question, Split } from '../types.ts';
import { answerPresence } from './answer-presence.ts';
import { datasetFromFileName, datasetInfo, fileStem, splitByHash, type DatasetInfo } from './datasets.ts';
import { detectReader } from './detect.ts';
import { derivedDocumentId } from './doc-id.ts';
import { containerOf, DEFAULT_MAX_LINE_BYTES, jsonArrayRecords, jsonLinesRecords, parquetRecords, tsvRecords, type FileRecord } from './records.ts';
import { REAL_CORPUS_SEARCH } from './search-settings.ts';
import {
  ImportError, RecordError, REJECT_REASONS, type FileRole, type FormatReader, type ImportFormat, type RecordContainer, type RejectedRecord, type RejectReason,
  type SourceDocument, type SourceQuestion,
} from './types.ts';

/** One input file: its name (for messages and the manifest), its bytes, what it was given as. */
export interface ImportInput {
  name: string;
  bytes: Uint8Array;
  role: FileRole;
}

/** Settings of {@link importPack}. */
export interface ImportOptions {
  /** Pack name (manifest `name`). */
  name: string;
  description?: string;
  /** Overrides the source line built from the datasets found. */
  source?: string;
  /** Overrides the licence line built from the datasets found. */
  license?: string;
  /** Shard count; default one shard per 2,000 documents (at least 1). */
  shards?: number;
  /** Share of a hashed dataset's questions that go to `test`, in [0, 1]. Default 0.3. */
  testFraction?: number;
  /** Seed of the train/test hash. Default 1. */
  seed?: number;
  /** Split per dataset name, overriding the rule of `datasets.ts` ('hash': train/test by hash). */
  splits?: Readonly<Record<string, Split | 'hash'>>;
  /** Longest JSON Lines line accepted, in bytes. Default 1 MiB. */
  maxLineBytes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
}

/** Progress: `read` counts input bytes over all files, then `match` counts questions. */
export interface ImportProgress {
  phase: 'read' | 'match';
  done: number;
  total: number;
  file?: string;
}

/** Per input file. */
export interface FileReport {
  file: string;
  role: FileRole;
  format: ImportFormat;
  /** Dataset the questions were filed under (question files only). */
  dataset?: string;
  bytes: number;
  /** Records seen (accepted + rejected; blank lines not counted). */
  records: number;
  accepted: number;
  rejected: number;
}

/** Per dataset. */
export interface DatasetReport {
  questions: number;
  train: number;
  test: number;
  ood: number;
  /** Questions with at least one supporting document id. */
  withSupportingIds: number;
  /** Questions none of whose answers occurs in the corpus. */
  answerNotInCorpus: number;
}

/** What an import did, for people (CLI, page) and for the record (`--report FILE`). */
export interface ImportReport {
  name: string;
  questions: number;
  documents: number;
  shards: number;
  /** Where the documents came from: corpus files, or the questions' own paragraphs. */
  documentsFrom: 'corpus' | 'contexts';
  files: FileReport[];
  datasets: Record<string, DatasetReport>;
  splits: Record<Split, number>;
  /** Questions none of whose answers occurs in the corpus (kept, marked answerInCorpus: false). */
  answerNotInCorpus: number;
  /** Supporting paragraphs named by the sources that matched no document. */
  unmatchedSupporting: number;
  /** The split rule used, in words. */
  splitRule: string;
  rejected: { total: number; byReason: Record<RejectReason, number>; records: RejectedRecord[] };
}

/** Documents per shard when `shards` is not given. */
export const DOCUMENTS_PER_SHARD = 2000;

/** Records between progress reports and yields to the event loop (so an abort can land). */
const YIELD_EVERY = 2000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A question file after reading. */
interface ReadQuestions {
  file: string;
  dataset: DatasetInfo;
  rows: { q: SourceQuestion; at: { line?: number; item?: number }; dataset: DatasetInfo }[];
}

/**
 * Reads the inputs and builds the pack spec and report (see the file comment).
 * @throws ImportError when a file is refused as a whole, when no question or no document is
 *   left, or when a setting is out of range; the signal's reason when aborted.
 */
export async function importPack(inputs: readonly ImportInput[], opts: ImportOptions): Promise<{ spec: PackSpec; report: ImportReport }> {
  const testFraction = opts.testFraction ?? 0.3;
  const seed = opts.seed ?? 1;
  if (!(testFraction >= 0 && testFraction <= 1)) throw new ImportError(`testFraction must be in [0, 1], got ${testFraction}`);
  if (!Number.isSafeInteger(seed)) throw new ImportError(`seed must be an integer, got ${seed}`);
  if (!opts.name || !opts.name.trim()) throw new ImportError('the pack needs a name');
  const questionInputs = inputs.filter((f) => f.role === 'questions');
  if (questionInputs.length === 0) throw new ImportError('no question file given');
  const names = new Set<string>();
  for (const f of inputs) {
    if (names.has(f.name)) throw new ImportError(`${f.name}: given twice`);
    names.add(f.name);
  }
  const signal = opts.signal;
  signal?.throwIfAborted();

  const rejected: RejectedRecord[] = [];
  const files: FileReport[] = [];
  const totalBytes = inputs.reduce((s, f) => s + f.bytes.byteLength, 0);
  let bytesDone = 0;
  let sinceYield = 0;
  /** Counts a record; every YIELD_EVERY records reports progress and lets the event loop run. */
  const tick = async (file: string, fileBytes: number, fraction: number) => {
    if (++sinceYield < YIELD_EVERY) return;
    sinceYield = 0;
    opts.onProgress?.({ phase: 'read', done: Math.round(bytesDone + fileBytes * fraction), total: totalBytes, file });
    await yieldToEventLoop();
    signal?.throwIfAborted();
  };

  /** Runs `read` over every record of a file, collecting rejections; refuses a file with nothing usable. */
  async function readRecords<T>(input: ImportInput, choose: (records: Record<string, unknown>[], container: RecordContainer) => FormatReader<T>) {
    const fileContainer = containerOf(input.bytes);
    const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const records: FileRecord[] =
      fileContainer === 'json-array' ? [...jsonArrayRecords(input.name, input.bytes)]
      : fileContainer === 'tsv' ? [...tsvRecords(input.name, input.bytes, maxLine)]
      : fileContainer === 'parquet' ? await parquetRecords(input.name, input.bytes)
      : [...jsonLinesRecords(input.name, input.bytes, maxLine)];
    // A parquet row is read like a JSON Lines record (the same readers take both).
    const container: RecordContainer = fileContainer === 'parquet' ? 'jsonl' : fileContainer;
    const objects = records.flatMap((r) => (r.ok ? [r.value] : []));
    const firstRejects = records.filter((r) => !r.ok).slice(0, 3).map((r) => (r.ok ? '' : where(r.rejected)));
    if (objects.length === 0) {
      throw new ImportError(`${input.name}: refused as a whole: nothing usable (${records.length} records rejected${firstRejects.length ? `; ${firstRejects.join('; ')}` : ''})`);
    }
    const reader = choose(objects, container);
    const out: { value: T; at: { line?: number; item?: number } }[] = [];
    const fileRejected: RejectedRecord[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      await tick(input.name, input.bytes.byteLength, i / records.length);
      if (!r.ok) {
        fileRejected.push(r.rejected);
        continue;
      }
      const at = r.line !== undefined ? { line: r.line } : { item: r.item };
      try {
        out.push({ value: reader.read(r.value), at });
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        fileRejected.push({ file: input.name, ...at, reason: e.reason, message: e.message });
      }
    }
    if (out.length === 0) {
      throw new ImportError(
        `${input.name}: refused as a whole: nothing usable as ${reader.description} (${fileRejected.length} records rejected; ${fileRejected.slice(0, 3).map(where).join('; ')})`,
      );
    }
    bytesDone += input.bytes.byteLength;
    opts.onProgress?.({ phase: 'read', done: bytesDone, total: totalBytes, file: input.name });
    return { reader, out, fileRejected, records: records.length };
  }

  // 1. Corpus files.
  const documents: CorpusDocument[] = [];
  const docIds = new Map<string, string>(); // id -> "file line n"
  for (const input of inputs.filter((f) => f.role === 'corpus')) {
    const { reader, out, fileRejected, records } = await readRecords<SourceDocument>(input, (objs, c) => detectReader(input.name, 'corpus', c, objs));
    let accepted = 0;
    for (const { value, at } of out) {
      const id = value.id ?? derivedDocumentId(value.title, value.text);
      const first = docIds.get(id);
      if (first !== undefined) {
        fileRejected.push({ file: input.name, ...at, reason: 'duplicate-id', message: `document id "${id}" was already used at ${first}` });
        continue;
      }
      docIds.set(id, `${input.name} ${position(at)}`);
      documents.push({ id, title: value.title, text: value.text });
      accepted++;
    }
    if (accepted === 0) throw new ImportError(`${input.name}: refused as a whole: every document id is a duplicate`);
    rejected.push(...fileRejected);
    files.push({ file: input.name, role: 'corpus', format: reader.format, bytes: input.bytes.byteLength, records, accepted, rejected: fileRejected.length });
  }

  // 2. Question files (questions are numbered after all files are read, so ids are checked here).
  const questionFiles: ReadQuestions[] = [];
  const questionIds = new Map<string, string>();
  for (const input of questionInputs) {
    const { reader, out, fileRejected, records } = await readRecords<SourceQuestion>(input, (objs, c) => detectReader(input.name, 'questions', c, objs));
    const name = out[0]!.value.dataset ?? datasetFromFileName(input.name) ?? fileStem(input.name);
    const dataset = datasetInfo(name, reader.format);
    const rows: ReadQuestions['rows'] = [];
    for (const { value, at } of out) {
      // A row may name its own dataset (Search-R1's data_source: an `nq` row of nq_hotpotqa is nq).
      const rowDataset = value.dataset !== undefined && value.dataset !== name ? datasetInfo(value.dataset, reader.format) : dataset;
      const local = value.sourceId ?? (at.line !== undefined ? `line${at.line}` : `item${at.item}`);
      // Our own exports write the pack's ids, already `dataset:..` for imported packs: kept as they are.
      const id = local.startsWith(`${rowDataset.name}:`) ? local : `${rowDataset.name}:${local}`;
      const first = questionIds.get(id);
      if (first !== undefined) {
        fileRejected.push({ file: input.name, ...at, reason: 'duplicate-id', message: `question id "${id}" was already used at ${first}` });
        continue;
      }
      questionIds.set(id, `${input.name} ${position(at)}`);
      rows.push({ q: { ...value, sourceId: id }, at, dataset: rowDataset });
    }
    if (rows.length === 0) throw new ImportError(`${input.name}: refused as a whole: every question id is a duplicate`);
    rejected.push(...fileRejected);
    questionFiles.push({ file: input.name, dataset, rows });
    files.push({ file: input.name, role: 'questions', format: reader.format, dataset: dataset.name, bytes: input.bytes.byteLength, records, accepted: rows.length, rejected: fileRejected.length });
  }

  // No corpus file: the questions' own paragraphs are the corpus.
  const documentsFrom = documents.length > 0 ? 'corpus' : 'contexts';
  if (documentsFrom === 'contexts') {
    const seen = new Set<string>();
    for (const qf of questionFiles) {
      for (const { q } of qf.rows) {
        for (const c of q.contexts) {
          const key = `${c.title}\u0000${c.text}`;
          if (seen.has(key)) continue;
          seen.add(key);
          let id = derivedDocumentId(c.title, c.text);
          for (let n = 2; docIds.has(id); n++) id = `${derivedDocumentId(c.title, c.text)}-${n}`; // a 48-bit prefix collision
          docIds.set(id, 'contexts');
          documents.push({ id, title: c.title, text: c.text });
        }
      }
    }
    if (documents.length === 0) {
      throw new ImportError('no documents: give a corpus file (--corpus) or question files that carry their paragraphs');
    }
  }
  signal?.throwIfAborted();

  // 3. Questions: supporting ids, splits, hops, answer presence.
  const byKey = new Map<string, string>();
  const byTitle = new Map<string, string[]>();
  for (const d of documents) {
    const key = `${d.title}\u0000${d.text}`;
    if (!byKey.has(key)) byKey.set(key, d.id);
    const list = byTitle.get(d.title);
    if (list) list.push(d.id);
    else byTitle.set(d.title, [d.id]);
  }
  const presence = answerPresence(documents);
  const documentIdSet = new Set(documents.map((d) => d.id));
  const totalQuestions = questionFiles.reduce((s, f) => s + f.rows.length, 0);
  const questions: Question[] = [];
  const datasets: Record<string, DatasetReport> = {};
  const splits: Record<Split, number> = { train: 0, test: 0, ood: 0 };
  let unmatchedSupporting = 0;
  let answerNotInCorpus = 0;
  const ownSplits = new Set<string>(); // datasets whose records named their split
  for (const qf of questionFiles) {
    for (const { q, dataset: info } of qf.rows) {
      const override = opts.splits?.[info.name];
      const rule = override ?? info.split;
      const ds = (datasets[info.name] ??= { questions: 0, train: 0, test: 0, ood: 0, withSupportingIds: 0, answerNotInCorpus: 0 });
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        opts.onProgress?.({ phase: 'match', done: questions.length, total: totalQuestions });
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
      const id = q.sourceId!;
      const { ids, unmatched } = supportingIds(q, byKey, byTitle, documentIdSet);
      unmatchedSupporting += unmatched;
      // A split the user set wins; then the record's own (Search-R1's extra_info.split, our exports); then the dataset rule.
      const split: Split = override === undefined && q.split ? q.split : rule === 'hash' ? splitByHash(id, seed, testFraction) : rule;
      if (override === undefined && q.split) ownSplits.add(info.name);
      const inCorpus = presence.anyPresent(q.answers);
      const typeHops = q.type?.match(/^(\d+)hop/);
      const hops = q.hops ?? (typeHops ? Number(typeHops[1]) : (info.hops ?? new Set(q.supporting.map((s) => s.title)).size));
      questions.push({
        id, question: q.question, answers: q.answers, hops, template: q.template ?? (q.type ? `${info.name}/${q.type}` : info.name), split, supportingIds: ids,
        ...(inCorpus ? {} : { answerInCorpus: false }),
        ...questionDetails(q, byKey),
      });
      ds.questions++;
      ds[split]++;
      splits[split]++;
      if (ids.length > 0) ds.withSupportingIds++;
      if (!inCorpus) {
        ds.answerNotInCorpus++;
        answerNotInCorpus++;
      }
    }
  }
  opts.onProgress?.({ phase: 'match', done: questions.length, total: totalQuestions });
  signal?.throwIfAborted();

  const shards = opts.shards ?? Math.max(1, Math.ceil(documents.length / DOCUMENTS_PER_SHARD));
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > documents.length) {
    throw new ImportError(`shards must be an integer in [1, ${documents.length}] (the number of documents), got ${shards}`);
  }
  // The datasets that got questions, in the order first seen (file datasets, then rows' own).
  const infoByName = new Map<string, DatasetInfo>();
  for (const f of questionFiles) for (const d of [f.dataset, ...f.rows.map((r) => r.dataset)]) if (!infoByName.has(d.name) && d.name in datasets) infoByName.set(d.name, d);
  const infos = [...infoByName.values()];
  const corpusFormats = files.filter((f) => f.role === 'corpus').map((f) => f.format);
  const corpusLine = documentsFrom === 'contexts'
    ? 'paragraphs shipped with the questions (Wikipedia text, CC BY-SA)'
    : `paragraphs from ${files.filter((f) => f.role === 'corpus').map((f) => baseName(f.file)).join(', ')} (Wikipedia text, CC BY-SA)`;
  const source = opts.source ?? `Imported from ${infos.map((d) => d.label).join('; ')}; ${corpusLine}`;
  const license = opts.license ?? `${infos.map((d) => `${d.name}: ${d.license}`).join('; ')}; paragraphs: CC BY-SA (Wikipedia)`;
  const splitRule =
    `${infos.map((d) => `${d.name}: ${ownSplits.has(d.name) && opts.splits?.[d.name] === undefined ? 'the split each record names (extra_info.split, split)' : describeRule(opts.splits?.[d.name] ?? d.split, testFraction, seed)}`).join('; ')}`;
  const byReason = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  for (const r of rejected) byReason[r.reason]++;

  const report: ImportReport = {
    name: opts.name, questions: questions.length, documents: documents.length, shards, documentsFrom, files, datasets, splits,
    answerNotInCorpus, unmatchedSupporting, splitRule, rejected: { total: rejected.length, byReason, records: rejected },
  };
  const spec: PackSpec = {
    name: opts.name,
    description: opts.description ?? `${questions.length} questions (${infos.map((d) => d.name).join(', ')}) over ${documents.length} paragraphs`,
    source,
    license,
    documents,
    questions,
    shards,
    generator: {
      importer: {
        // Base names only: a pack must not carry the importing machine's paths.
        files: files.map(({ file, role, format, dataset, bytes, accepted, rejected: n }) => ({ file: baseName(file), role, format, ...(dataset ? { dataset } : {}), bytes, accepted, rejected: n })),
        corpusFormats,
        splitRule,
        testFraction,
        seed,
      },
      search: REAL_CORPUS_SEARCH,
    },
  };
  return { spec, report };
}

/**
 * The source's structure kept on the question (src/corpus/types.ts): MuSiQue's decomposition
 * (each step's paragraph as a document id when it is in the corpus), 2Wiki's evidence triples,
 * HotpotQA / 2Wiki sentence-level supporting facts. Absent fields stay absent (old packs' shape).
 */
function questionDetails(q: SourceQuestion, byKey: Map<string, string>): Pick<Question, 'decomposition' | 'evidences' | 'supportingFacts'> {
  const out: Pick<Question, 'decomposition' | 'evidences' | 'supportingFacts'> = {};
  if (q.decomposition?.length) {
    out.decomposition = q.decomposition.map((step) => {
      const supportingId = step.paragraph ? byKey.get(`${step.paragraph.title}\u0000${step.paragraph.text}`) : undefined;
      return { question: step.question, answer: step.answer, ...(supportingId ? { supportingId } : {}) };
    });
  }
  if (q.evidences?.length) out.evidences = q.evidences;
  if (q.supportingFacts?.length) out.supportingFacts = q.supportingFacts;
  return out;
}

/** The supporting document ids of a question (see the file comment) and how many refs matched none. */
function supportingIds(q: SourceQuestion, byKey: Map<string, string>, byTitle: Map<string, string[]>, documentIds: ReadonlySet<string>): { ids: string[]; unmatched: number } {
  const ids = new Set<string>();
  let unmatched = 0;
  for (const id of q.supportingIds ?? []) {
    if (documentIds.has(id)) ids.add(id);
    else unmatched++;
  }
  for (const ref of q.supporting) {
    const exact = ref.text !== undefined ? byKey.get(`${ref.title}\u0000${ref.text}`) : undefined;
    if (exact) {
      ids.add(exact);
      continue;
    }
    // By title: the question's own paragraphs of that title when it has any in the corpus,
    // else every document of that title.
    const own = q.contexts.filter((c) => c.title === ref.title).flatMap((c) => byKey.get(`${c.title}\u0000${c.text}`) ?? []);
    const found = own.length > 0 ? own : (byTitle.get(ref.title) ?? []);
    if (found.length === 0) unmatched++;
    for (const id of found) ids.add(id);
  }
  return { ids: [...ids], unmatched };
}

function describeRule(rule: Split | 'hash', testFraction: number, seed: number): string {
  return rule === 'hash' ? `train/test by hash of the id (test ${testFraction}, seed ${seed})` : `all ${rule}`;
}

const baseName = (file: string) => file.split(/[\\/]/).pop() ?? file;

/** "line 3" or "item 3". */
function position(at: { line?: number; item?: number }): string {
  return at.line !== undefined ? `line ${at.line}` : `item ${at.item}`;
}

/** "file: line 3: reason (message)", for messages. */
export function where(r: RejectedRecord): string {
  return `${r.file}: ${position(r)}: ${r.reason} (${r.message})`;
}
