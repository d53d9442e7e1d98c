/**
 * The page's "Run the export" check: the exported ONNX model answers a question greedily, with
 * search, and its tokens and first-step logits are compared with the trainer's own policy.
 *
 * The ONNX side runs in its own worker (`workers/onnx-check.worker.ts` wraps
 * {@link createOnnxCheckApi} in comlink), so neither onnxruntime-web nor the decoding loop
 * occupies the page's main thread: {@link decodeExport} opens the export's zip, tokenizes the
 * rendered prompt with the export's own tokenizer.json, and decodes it (decode.ts) through
 * the model (runtime.ts), searching through the search worker over a MessagePort. The trainer's
 * side (its greedy sample and its logits after the same prompt) comes from the trainer worker;
 * {@link compareWithTrainer} puts the two together.
 */
import { encodePrompt } from '../tokenizer/text-tokenizer.ts';
import { transfer, wrap } from 'comlink';
import { unzipFiles } from '../io/zip.ts';
import type { Retriever } from '../search/retriever.ts';
import type { SearchWorkerApi } from '../search/worker-api.ts';
import { tokenizerFromHuggingFace } from '../tokenizer/from-hugging-face.ts';
import { greedyRagDecode, maxAbsDiff, type GreedyResult, type KvCacheShape } from './decode.ts';
import { ONNX_MODEL_PATH } from './names.ts';
import type { OnnxModel } from './runtime.ts';

/** Opens an ONNX model's bytes (runtime.ts `openOnnxModel` in the browser; tests pass onnxruntime-web for Node). */
export type OpenOnnxModel = (bytes: Uint8Array, kv?: KvCacheShape) => Promise<OnnxModel>;

/** What the check decodes. */
export interface OnnxDecodeRequest {
  /** The ONNX export's zip (src/onnx/export-folder.ts): `onnx/model.onnx` and `tokenizer.json` are read. */
  zip: Uint8Array;
  /** The rendered prompt (text); BOS is put before its ids. */
  prompt: string;
  /** The attention cache's sizes, for a KV-cache export. */
  kv?: KvCacheShape;
  /** Decoding limits, as greedyRagDecode takes them. */
  settings: Parameters<typeof greedyRagDecode>[4];
}

/** The ONNX model's greedy answer. */
export interface OnnxDecodeResult {
  /** The execution provider that ran it: `webgpu` or `wasm`. */
  provider: 'webgpu' | 'wasm';
  /** Why WebGPU was not used (empty when it was). */
  note: string;
  /** The prompt's ids, BOS first (the trainer's logits are asked after the same ids). */
  promptIds: number[];
  /** Prompt and completion ids. */
  tokens: number[];
  /** The completion, tags written out. */
  completion: string;
  searches: GreedyResult['searches'];
  /** Logits after the prompt (V). */
  firstLogits: Float32Array;
}

/** How the ONNX model's answer compares with the trainer's. */
export interface OnnxParity {
  /** The ONNX model wrote exactly the trainer's ids (prompt included). */
  tokensMatch: boolean;
  /** Largest |logit difference| after the prompt, ONNX vs trainer. */
  maxLogitDiff: number;
}

/**
 * Opens the export, tokenizes `prompt` with the export's tokenizer and decodes it greedily
 * through `retriever`; the model is released afterwards, whatever happens.
 * @throws Error when the zip lacks the model or tokenizer.json; what the runtime or the decoding throws.
 */
export async function decodeExport(req: OnnxDecodeRequest, retriever: Retriever, open: OpenOnnxModel): Promise<OnnxDecodeResult> {
  const files = unzipFiles(req.zip);
  const modelBytes = files.get(ONNX_MODEL_PATH), tokBytes = files.get('tokenizer.json');
  if (!modelBytes || !tokBytes) throw new Error(`the ONNX export lacks ${modelBytes ? 'tokenizer.json' : ONNX_MODEL_PATH}`);
  const tokenizer = tokenizerFromHuggingFace(JSON.parse(new TextDecoder().decode(tokBytes)));
  const model = await open(modelBytes, req.kv);
  try {
    const promptIds = encodePrompt(tokenizer, req.prompt);
    const res = await greedyRagDecode(model.next, tokenizer, retriever, promptIds, req.settings);
    return {
      provider: model.provider, note: model.note, promptIds, tokens: res.tokens,
      completion: tokenizer.decode(res.tokens.slice(res.promptLength)), searches: res.searches, firstLogits: res.firstLogits,
    };
  } finally {
    await model.release();
  }
}

/** The ONNX answer against the trainer's greedy ids and its logits after the same prompt. */
export function compareWithTrainer(onnx: Pick<OnnxDecodeResult, 'tokens' | 'firstLogits'>, trainer: { ids: readonly number[]; logits: ArrayLike<number> }): OnnxParity {
  return {
    tokensMatch: onnx.tokens.length === trainer.ids.length && onnx.tokens.every((t, i) => t === trainer.ids[i]),
    maxLogitDiff: maxAbsDiff(onnx.firstLogits, trainer.logits),
  };
}

/** What the ONNX check worker exposes. */
export interface OnnxCheckApi {
  /** Searches go through this port, served by the search worker (`SearchWorkerApi.connect`). */
  connect(searchPort: MessagePort): void;
  /** {@link decodeExport} through the connected search worker; the logits' buffer is transferred, not copied. */
  decode(req: OnnxDecodeRequest): Promise<OnnxDecodeResult>;
}

/** Builds the worker's API over a model opener (runtime.ts `openOnnxModel` in the worker). */
export function createOnnxCheckApi(open: OpenOnnxModel): OnnxCheckApi {
  let search: Retriever | null = null;
  return {
    connect(port) {
      search = wrap<SearchWorkerApi>(port); // its search and searchMany are a Retriever's (src/search/client.ts)
    },
    async decode(req) {
      if (!search) throw new Error('ONNX check worker: call connect() first');
      const res = await decodeExport(req, search, open);
      return transfer(res, [res.firstLogits.buffer as ArrayBuffer]);
    },
  };
}
