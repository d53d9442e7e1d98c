/**
 * The model card (README.md) of an exported folder: what the model is, how it was trained
 * (pack, stages and steps from trainer_state.json's lineage), how it scored (eval.json written
 * by `eval --out`, and the last line of metrics.jsonl), and how to load it. Pure functions over
 * bytes, so the page and the CLI write the same card.
 */
import { countParams } from '../model/params.ts';
import type { ModelConfig } from '../model/config.ts';
import type { TrainerState } from './checkpoint.ts';

/** One row of eval.json's `results` (the fields the card shows). */
export interface EvalRow {
  split: string;
  mode: string;
  overall: { n?: number; coverEm: number; f1: number; em: number; formatRate: number; searchesPerQuestion: number };
}

/** What the card is written from. */
export interface ModelCardInput {
  /** Title of the card (the checkpoint's folder name). */
  name: string;
  format: 'hf' | 'onnx';
  /** The ONNX model takes and returns the KV cache (src/onnx/export.ts). */
  kvCache?: boolean;
  config: ModelConfig;
  state?: TrainerState;
  /** eval.json results, when the checkpoint folder has them. */
  evaluation?: { pack?: string; results: EvalRow[] };
  /** The last line of metrics.jsonl, when present. */
  lastMetrics?: Record<string, unknown>;
  /** An imported pretrained model with its own byte-level BPE tokenizer (src/tokenizer/byte-level.ts). */
  importedTokenizer?: 'byte-level BPE';
}

const STAGE_NAMES: Record<number, string> = {
  0: 'Stage 0: pretraining (documents, reading passages, tag skeletons)',
  1: 'Stage 1 RL: reward for well-formed retrieval (recipe.md section 6)',
  2: 'Stage 2 RL: reward = answer F1 + format penalty (recipe.md section 6)',
};

/**
 * Parses eval.json (the `eval --out` file). Returns undefined for a file without a `results`
 * list; throws naming the row and field when a row is malformed.
 */
export function parseEvalJson(bytes: Uint8Array): ModelCardInput['evaluation'] {
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`eval.json is not valid JSON (${(e as Error).message})`);
  }
  const o = j as { pack?: unknown; results?: unknown };
  if (!o || typeof o !== 'object' || !Array.isArray(o.results)) return undefined;
  o.results.forEach((r: unknown, i: number) => {
    const row = r as Partial<EvalRow>;
    if (typeof row?.split !== 'string' || typeof row.mode !== 'string' || !row.overall || typeof row.overall !== 'object') throw new Error(`eval.json: results[${i}] lacks split, mode or overall`);
    for (const k of ['coverEm', 'f1', 'em', 'formatRate', 'searchesPerQuestion'] as const) {
      if (typeof row.overall[k] !== 'number' && row.overall[k] !== null) throw new Error(`eval.json: results[${i}].overall.${k} is not a number`);
    }
  });
  return { ...(typeof o.pack === 'string' ? { pack: o.pack } : {}), results: o.results as EvalRow[] };
}

/** The last non-empty line of metrics.jsonl as an object; undefined when there is none or it is not JSON. */
export function lastMetricsLine(bytes: Uint8Array): Record<string, unknown> | undefined {
  const lines = new TextDecoder().decode(bytes).split('\n').filter((l) => l.trim());
  try {
    const last = JSON.parse(lines[lines.length - 1] ?? 'null') as unknown;
    return last && typeof last === 'object' ? (last as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const f3 = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '-');

/** The README.md text (Hugging Face model-card front matter, then Markdown). */
export function modelCard(input: ModelCardInput): string {
  const { config: c, state } = input;
  const params = countParams(c);
  const L: string[] = [];
  L.push('---');
  // The Hub reads these: which library loads the folder, and which task its widget shows.
  L.push(`library_name: ${input.format === 'hf' ? 'transformers' : 'transformers.js'}`, 'pipeline_tag: text-generation');
  L.push('license: mit', 'tags:', '  - llama', '  - reinforcement-learning', '  - r1-searcher', '  - retrieval-augmented-generation', '  - toy-model');
  L.push('---', '', `# ${input.name}`, '');
  const imported = input.importedTokenizer;
  const arch = c.family === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
  if (imported) {
    L.push(
      `A ${(params / 1e6).toFixed(2)}M-parameter ${arch} model imported from Hugging Face (${c.numLayers} layers, hidden size ${c.hiddenSize}, ` +
        `${c.numHeads} heads, ${c.numKvHeads ?? c.numHeads} key/value heads, ${c.tieEmbeddings ? 'tied' : 'untied'} output head) with its ${imported} ` +
        `vocabulary of ${c.vocabSize} tokens (the search tags added), trained in R1-Searcher Playground to call a search engine in the middle of its reasoning ` +
        '(Song et al., 2025, "R1-Searcher: Incentivizing the Search Capability in LLMs via Reinforcement Learning").',
      '',
    );
  } else L.push(
    `A ${(params / 1e6).toFixed(2)}M-parameter Llama-architecture language model (${c.numLayers} layers, hidden size ${c.hiddenSize}, ` +
      `${c.numHeads} heads, SwiGLU width ${c.intermediateSize}, ${c.tieEmbeddings ? 'tied' : 'untied'} output head) with a word-level ` +
      `vocabulary of ${c.vocabSize} tokens, trained in R1-Searcher Playground to call a search engine in the middle of its reasoning ` +
      '(a toy reproduction of Song et al., 2025, "R1-Searcher: Incentivizing the Search Capability in LLMs via Reinforcement Learning").',
    '',
  );
  L.push('## Training', '');
  if (state) {
    L.push(`Pack: \`${state.pack}\`, model preset \`${state.preset}\`, seed ${state.seed}.`, '');
    L.push('| stage | what | steps | pack |', '|---|---|---|---|');
    for (const s of state.lineage) L.push(`| ${s.stage} | ${STAGE_NAMES[s.stage] ?? '?'} | ${s.steps} | ${s.pack} |`);
    L.push('', `This checkpoint: stage ${state.stage}, step ${state.step} of ${state.totalSteps}` + (state.init ? `, started from \`${state.init}\`.` : '.'), '');
  } else L.push('No trainer_state.json: the training history is unknown.', '');

  L.push('## Evaluation', '');
  if (input.evaluation?.results.length) {
    L.push(`Greedy decoding${input.evaluation.pack ? ` on pack \`${input.evaluation.pack}\`` : ''} (Cover-EM is the paper's ACC_R).`, '');
    L.push('| split | method | n | Cover-EM | F1 | EM | format | searches / question |', '|---|---|---|---|---|---|---|---|');
    for (const r of input.evaluation.results) {
      const o = r.overall;
      L.push(`| ${r.split} | ${r.mode} | ${o.n ?? '-'} | ${f3(o.coverEm)} | ${f3(o.f1)} | ${f3(o.em)} | ${f3(o.formatRate)} | ${f3(o.searchesPerQuestion)} |`);
    }
    L.push('');
  } else L.push('No eval.json in the checkpoint folder (`npm run cli -- eval --pack PACK --checkpoint CKPT --mode naive,rag,search --out CKPT/eval.json` writes one).', '');
  const m = input.lastMetrics;
  if (m) {
    const keys = ['reward', 'f1', 'coverEm', 'formatRate', 'retrievalRate', 'searchesPerRollout', 'loss'].filter((k) => typeof m[k] === 'number');
    L.push(`Last training step (${m.step ?? '?'}) from metrics.jsonl: ${keys.map((k) => `${k} ${f3(m[k])}`).join(', ')}.`, '');
  }

  L.push('## Use', '');
  if (imported) L.push(
    `Text goes through the model's own ${imported} tokenizer (tokenizer.json). The tags \`<think>\`, \`</think>\`, \`<answer>\`, \`</answer>\`, ` +
      '`<|begin_of_query|>`, `<|end_of_query|>`, `<|begin_of_documents|>`, `<|end_of_documents|>` are single (added) tokens. Generation pauses at ' +
      '`<|end_of_query|>`; the caller runs the search and appends `<|begin_of_documents|> (1) Title: text ... <|end_of_documents|>`.',
    '',
  );
  else L.push(
    'Text is lower-cased and split into words and single punctuation marks (tokenizer.json, WordLevel); a sequence starts ' +
      'with `<bos>`. The tags `<think>`, `</think>`, `<answer>`, `</answer>`, `<|begin_of_query|>`, `<|end_of_query|>`, ' +
      '`<|begin_of_documents|>`, `<|end_of_documents|>` are single tokens. Generation pauses at `<|end_of_query|>`; the caller ' +
      'runs the search and appends `<|begin_of_documents|> (1) Title: text ... <|end_of_documents|>`.',
    '',
  );
  if (input.format === 'hf') {
    L.push(
      '```python',
      'import torch',
      `from transformers import AutoTokenizer, ${arch}`,
      `model = ${arch}.from_pretrained(".").eval()`,
      'tok = AutoTokenizer.from_pretrained(".")  # tokenizer_config.json: PreTrainedTokenizerFast, no special tokens added',
      'ids = [tok.bos_token_id] + tok("who wrote the book ?", add_special_tokens=False).input_ids',
      'with torch.no_grad():',
      '    logits = model(torch.tensor([ids])).logits[0]  # (T, V): compare with `npm run cli -- logits --json`',
      '```',
      '',
    );
  } else {
    L.push(
      '`onnx/model.onnx` (opset 17, the Hub layout transformers.js loads by default): inputs `input_ids` and `attention_mask`, int64 (batch, sequence); output `logits`, float ' +
        `(batch, sequence, ${c.vocabSize}). Padding may be on either side; logits at padded positions are meaningless.`,
      ...(input.kvCache
        ? ['', `With the KV cache: inputs \`past_key_values.{0..${c.numLayers - 1}}.key\` / \`.value\`, float (batch, ${c.numHeads}, past, ${c.hiddenSize / c.numHeads}), ` +
          'empty (past = 0) on the first call; outputs `present.{l}.key` / `.value` (batch, heads, past + sequence, head size) to feed back; ' +
          '`attention_mask` then covers past + sequence.']
        : []),
      '',
      'transformers.js (`@huggingface/transformers`) loads the folder with its default options' +
        (input.kvCache ? '' : '; its `generate()` feeds only the newest token after the first call, so it writes one token with this ' +
          'export and whole continuations with the KV-cache export (`export --format onnx --kv-cache`)') + ':',
      '',
      '```js',
      "import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';",
      "env.allowRemoteModels = false; env.localModelPath = '.';  // this folder's parent",
      "const tok = await AutoTokenizer.from_pretrained('FOLDER');",
      "const model = await AutoModelForCausalLM.from_pretrained('FOLDER');",
      "const ids = await model.generate({ ...tok('<bos> who wrote the book ?', { add_special_tokens: false }), max_new_tokens: 32, do_sample: false });",
      '```',
      '',
    );
  }
  return `${L.join('\n')}\n`;
}
