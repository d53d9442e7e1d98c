/**
 * The README.md of an exported pack folder: what each file holds, the retriever to run (ours,
 * `serve-search` on the same pack, or theirs over the exported corpus), the trainer's commands
 * that use these files, and our run's settings mapped to the trainer's flags beside the values
 * of the paper and of the trainer's own scripts (recipe.md sections 3, 6, 7; Search-R1's
 * `train_grpo.sh`; R1-Searcher's `scripts/*_train*.sh`). Facts about their code are cited by
 * file, so a reader can check them.
 */
import type { Pack } from '../types.ts';
import type { PackExportFormat, RunSettingsSummary } from './common.ts';

/** What the README says about one exported file. */
export interface ExportedFileInfo {
  name: string;
  bytes: number;
  /** Rows (lines, parquet rows). */
  rows: number;
  what: string;
}

const kb = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`);

function fileTable(files: readonly ExportedFileInfo[]): string[] {
  return ['| file | rows | size | what |', '|---|---|---|---|', ...files.map((f) => `| \`${f.name}\` | ${f.rows.toLocaleString('en-US')} | ${kb(f.bytes)} | ${f.what} |`)];
}

const stage2Reward = (s: RunSettingsSummary) =>
  `answer F1 + format penalty ${s.formatPenalty} when not well-formed` +
  (s.ungroundedPenalty ? ` + ${s.ungroundedPenalty} for a wrong answer found in neither the documents nor the question (their code has no such term)` : '');
/** What each of our retrieval reward rules pays for, in the trainers' terms. */
const RETRIEVAL_REWARD_TEXT: Readonly<Record<string, string>> = {
  any: 'any well-formed search', found: 'only for a search that found documents',
  relevant: 'only for searches that found documents with every query naming the question or the documents before it (their code has no such rule)',
  'follow-up': 'half for a first query naming the question that found documents, half for a later query naming a word of the documents before it (their code has no such rule)',
};
const stage1Reward = (s: RunSettingsSummary) => `retrieval 0.5 (${RETRIEVAL_REWARD_TEXT[s.retrievalReward] ?? s.retrievalReward}) + format 0.5`;

/** The README text (Markdown). `packDir` is how the commands name the pack folder. */
export function packExportReadme(pack: Pack, format: PackExportFormat, s: RunSettingsSummary, files: readonly ExportedFileInfo[], packDir: string): string {
  const m = pack.manifest;
  const count = (split: string) => pack.questions.filter((q) => q.split === split).length;
  const L: string[] = [];
  const title = format === 'search-r1' ? 'Search-R1 (verl)' : 'R1-Searcher (OpenRLHF-RAG)';
  L.push(`# Pack \`${m.name}\` for ${title}`, '');
  L.push(
    `Exported by R1-Searcher Playground (\`npm run cli -- export-pack --pack ${packDir} --format ${format} --out DIR\`, or the page's Corpus step) ` +
      `from pack \`${m.name}\`: ${pack.documents.length.toLocaleString('en-US')} documents; ${count('train').toLocaleString('en-US')} train, ` +
      `${count('test').toLocaleString('en-US')} test and ${count('ood').toLocaleString('en-US')} out-of-domain questions.`,
    '', `Source: ${m.source}. Licence: ${m.license}.`, '',
  );
  L.push('## Files', '', ...fileTable(files), '');
  L.push(
    'Document ids in the corpus are row numbers (0, 1, ...), as the trainer\'s retrievers expect (the pack\'s own document ids are not carried). ' +
      'Fields the trainer does not read keep the rest of each question (its pack id, all gold answers, split, template, hops, supporting ' +
      'documents as row numbers), so `npm run cli -- import` reads this folder back into the same pack (the same documents in the same order, ' +
      'questions, answers, splits and supporting documents; imported ids get the dataset prefix, `world:q00000`):',
    '', '```sh',
    format === 'search-r1'
      ? 'npm run cli -- import --questions train.parquet test.parquet --corpus corpus.jsonl --out PACK_DIR'
      : `npm run cli -- import --questions data/training_set/stage_2.jsonl data/eval_set/*.jsonl --corpus corpus.tsv --out PACK_DIR`,
    '```', '',
  );
  if (format === 'search-r1') searchR1Sections(L, s, packDir);
  else r1SearcherSections(L, s, packDir, m.name);
  return `${L.join('\n')}\n`;
}

function settingsTable(rows: readonly (readonly string[])[]): string[] {
  return ['| setting | our run | their flag | their script | paper |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function searchR1Sections(L: string[], s: RunSettingsSummary, packDir: string): void {
  L.push('## Retriever', '');
  L.push('Ours, on the same pack, in Search-R1\'s `/retrieve` protocol (BM25; the trainer\'s default `retriever.url` port):', '',
    '```sh', `npm run cli -- serve-search --pack ${packDir} --port 8000`, '```', '');
  L.push('Theirs, BM25 over `corpus.jsonl` (pyserini; `search_r1/search/index_builder.py`, `retrieval_server.py` of PeterGriffinJin/Search-R1):', '',
    '```sh',
    'python search_r1/search/index_builder.py --retrieval_method bm25 --corpus_path EXPORT_DIR/corpus.jsonl --save_dir EXPORT_DIR/index',
    'python search_r1/search/retrieval_server.py --index_path EXPORT_DIR/index/bm25 --corpus_path EXPORT_DIR/corpus.jsonl --topk 3 --retriever_name bm25',
    '```', '');
  L.push('## Training', '');
  L.push('Their `train_grpo.sh` with these files (it reads `$TRAIN_DATA_DIR/train.parquet` and `$TEST_DATA_DIR/test.parquet`), ' +
    'our settings given as verl overrides after its own (the last value of a key wins); run from their repository:', '',
    '```sh',
    'export TRAIN_DATA_DIR=EXPORT_DIR TEST_DATA_DIR=EXPORT_DIR BASE_MODEL=Qwen/Qwen2.5-3B',
    'python3 -m verl.trainer.main_ppo \\',
    '    data.train_files=$TRAIN_DATA_DIR/train.parquet data.val_files=$TEST_DATA_DIR/test.parquet \\',
    `    data.train_batch_size=${s.promptsPerStep} algorithm.adv_estimator=grpo \\`,
    `    actor_rollout_ref.model.path=$BASE_MODEL actor_rollout_ref.actor.optim.lr=${s.lr} \\`,
    `    actor_rollout_ref.actor.use_kl_loss=${s.klCoef > 0 ? 'true' : 'false'} actor_rollout_ref.actor.kl_loss_coef=${s.klCoef} \\`,
    `    actor_rollout_ref.rollout.n_agent=${s.samplesPerPrompt} actor_rollout_ref.rollout.temperature=1 actor_rollout_ref.actor.state_masking=true \\`,
    `    max_turns=${s.maxSearches} retriever.url=http://127.0.0.1:8000/retrieve retriever.topk=${s.topK}`,
    '    # ...and the remaining lines of train_grpo.sh (batch sizes, offload, n_gpus_per_node, logger) unchanged',
    '```', '');
  L.push('## Our settings and theirs', '');
  L.push(...settingsTable([
    ['samples per prompt', `${s.samplesPerPrompt}`, '`actor_rollout_ref.rollout.n_agent`', '5', '16'],
    ['prompts per step', `${s.promptsPerStep}`, '`data.train_batch_size`', '512', '64 (rollout batch)'],
    ['KL coefficient', `${s.klCoef} (Stage 2; Stage 1: ${s.stage1KlCoef})`, '`actor_rollout_ref.actor.kl_loss_coef` (with `use_kl_loss=true`)', '0.001 (`low_var_kl`)', '1e-4 (Llama), 0 (Qwen)'],
    ['learning rate', `${s.lr}`, '`actor_rollout_ref.actor.optim.lr`', '1e-6', '2e-6 (7-8B)'],
    ['max searches', `${s.maxSearches}`, '`max_turns`', '2', '8'],
    ['top-k', `${s.topK}`, '`retriever.topk`', '3', '3 (training), 5 (evaluation)'],
    ['baseline', `\`${s.advantageEstimator}\``, '`algorithm.adv_estimator`: `grpo` (group-normalized, the nearest) or `gae`; no REINFORCE++ in this verl', '`grpo`', '`reinforce_baseline` (REINFORCE++)'],
    ['reward', `Stage 1: ${stage1Reward(s)}; Stage 2: ${stage2Reward(s)}`, 'none: exact match of the answer (`verl/utils/reward_score/qa_em.py`)', 'exact match 1 / 0', 'Stage 1: retrieval + format; Stage 2: F1 + format (-2)'],
    ['retrieved tokens in the loss', 'masked out', '`actor_rollout_ref.actor.state_masking=true`', 'true', 'masked out'],
  ]), '');
  L.push('Our learning rate is for a tiny model trained from scratch; a 3-7B model wants the paper\'s. ' +
    'Search-R1\'s prompt uses `<search>`/`<information>` tags (train.parquet\'s `prompt`), not R1-Searcher\'s `<|begin_of_query|>`. ' +
    '`data_source` must be a name `verl/trainer/main_ppo.py` knows (`_select_rm_score_fn`); questions of other datasets are written as `nq` ' +
    '(the same exact-match reward) and keep their own dataset in `metadata.dataset`.', '');
}

function r1SearcherSections(L: string[], s: RunSettingsSummary, packDir: string, packName: string): void {
  L.push('## Retriever', '');
  L.push('Their rollout posts to a fixed URL, `http://0.0.0.0:5003/queries` (`url_wiki` in ' +
    '`OpenRLHF-RAG/openrlhf/trainer/ppo_utils/experience_maker.py`), so serve the corpus on port 5003. Ours, on the same pack, in ' +
    'R1-Searcher\'s `/queries` protocol (BM25):', '',
    '```sh', `npm run cli -- serve-search --pack ${packDir} --port 5003`, '```', '');
  L.push('Theirs (bge-large-en-v1.5 + FAISS over `corpus.tsv`; `wiki_corpus_index_bulid/` of RUCAIBox/R1-Searcher; its index and ' +
    'corpus paths are written in `build_corpus_idnex.py` and `train/wiki_corpus_load.py`, so point one `data_type` there at these files):', '',
    '```sh',
    'python wiki_corpus_index_bulid/build_corpus_embedding.py --file_path EXPORT_DIR/corpus.tsv --save_path EXPORT_DIR/corpus.pkl --gpu_id 0',
    'python wiki_corpus_index_bulid/build_corpus_idnex.py',
    'python train/wiki_corpus_load.py hotpotqa 5003 &',
    '```', '');
  L.push('## Training', '');
  const tbs = (s.promptsPerStep * s.samplesPerPrompt) / s.miniBatches;
  const vars = (kl: number) => `N_SAMPLES=${s.samplesPerPrompt} KL=${kl} LR=${s.lr} RBS=${s.promptsPerStep} TBS=${tbs}`;
  L.push('From their repository, Stage 1 then Stage 2. Each stage\'s script assigns `DATA_PATH`, `N_SAMPLES`, `KL`, `LR`, `TBS` and `RBS` ' +
    'in lines at its top (the environment does not override them): set those lines to the values shown, then run it.', '',
    '```sh',
    'bash scripts/ray_start.sh',
    '# Stage 1',
    'python train/reward_server_llama_stage1.py --data_path EXPORT_DIR/data/training_set/stage_1.jsonl --reward_pretrain MODEL --log_file results/samples/stage1.jsonl --port 1278 &',
    `# scripts/llama_reinforce_plus_train_stage1.sh: DATA_PATH=EXPORT_DIR/data/training_set/stage_1.jsonl ${vars(s.stage1KlCoef)}`,
    'bash scripts/llama_reinforce_plus_train_stage1.sh',
    '# Stage 2 (TOKENIZER_PATH = the Stage-1 checkpoint)',
    'python train/reward_server_llama_stage2.py --data_path EXPORT_DIR/data/training_set/stage_2.jsonl --reward_pretrain MODEL --log_file results/samples/stage2.jsonl --port 1278 &',
    `# scripts/llama_reinforce_plus_train_stage2.sh: DATA_PATH=EXPORT_DIR/data/training_set/stage_2.jsonl ${vars(s.klCoef)}`,
    'bash scripts/llama_reinforce_plus_train_stage2.sh',
    '# Evaluation',
    `python evaluation/eval_search_loacl.py --gpu_id 0 --temp 0.0 --port 5003 --prompt_type v0 --src_file EXPORT_DIR/data/eval_set/${packName}_test.jsonl --model_path MODEL`,
    '```', '');
  L.push('## Our settings and theirs', '');
  L.push(...settingsTable([
    ['samples per prompt', `${s.samplesPerPrompt}`, '`--n_samples_per_prompt` (`N_SAMPLES`)', '16', '16'],
    ['prompts per step', `${s.promptsPerStep}`, '`--rollout_batch_size` (`RBS`)', '15 (Stage 1), 65 (Stage 2)', '64'],
    ['sequences per optimizer step', `${(s.promptsPerStep * s.samplesPerPrompt) / s.miniBatches}`, '`--train_batch_size` (`TBS`)', '60 (Stage 1), 260 (Stage 2)', '256'],
    ['KL coefficient', `Stage 1: ${s.stage1KlCoef}; Stage 2: ${s.klCoef}`, '`--init_kl_coef` (`KL`)', '1e-4 (Llama), 0 (Qwen)', '1e-4 (Llama), 0 (Qwen)'],
    ['learning rate', `${s.lr}`, '`--actor_learning_rate` (`LR`)', '2e-6', '2e-6 (7-8B)'],
    ['max searches', `${s.maxSearches}`, 'none (bounded by `--generate_max_len`)', '-', '8'],
    ['top-k', `${s.topK}`, '`topk = 3` in `experience_maker.py` (no flag)', '3', '3 (training), 5 (evaluation)'],
    ['baseline', `\`${s.advantageEstimator}\``, '`--advantage_estimator`', '`group_norm` (Llama Stage 1), `reinforce_baseline`', '`reinforce_baseline`'],
    ['Stage 1 reward', stage1Reward(s), '`train/reward_server_llama_stage1.py`', 'retrieval 0.5 + format 0.5, +1/-1 Cover-EM (Llama)', 'retrieval 0.5 + format 0.5'],
    ['Stage 2 reward', stage2Reward(s), '`train/reward_server_llama_stage2.py`', 'F1 + format (-1, Llama)', 'F1 + format (-2)'],
    ['Stage 1 questions', `train, hops ${s.stage1Hops.join(', ')}`, '`stage_1.jsonl`', '350 medium', '350 medium'],
    ['Stage 2 questions', 'every train question', '`stage_2.jsonl`', '8,148 medium and hard', '8,148 medium and hard'],
  ]), '');
  L.push('Our learning rate is for a tiny model trained from scratch; a 7-8B model wants the paper\'s. ' +
    'Their question files hold one `answer` string, the one their reward servers score; the other gold answers are in `answer_aliases`.', '');
}
