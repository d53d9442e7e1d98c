/**
 * Names of the exported ONNX graph's inputs and outputs (src/onnx/export.ts), in a module of
 * their own so the page's decoding loop can use them without loading the exporter.
 */
export const ONNX_INPUT_IDS = 'input_ids';
export const ONNX_ATTENTION_MASK = 'attention_mask';
export const ONNX_LOGITS = 'logits';
/** Names of layer l's cached keys and values as inputs (past), with `kvCache`. */
export const onnxPastNames = (l: number) => ({ key: `past_key_values.${l}.key`, value: `past_key_values.${l}.value` });
/** Names of layer l's cached keys and values as outputs (present), with `kvCache`. */
export const onnxPresentNames = (l: number) => ({ key: `present.${l}.key`, value: `present.${l}.value` });
/**
 * Where the ONNX model lies in an `onnx` export folder or zip (src/onnx/export-folder.ts): the
 * Hugging Face Hub layout, whose `onnx/` subfolder and `model.onnx` name are what transformers.js
 * loads with its default options.
 */
export const ONNX_MODEL_PATH = 'onnx/model.onnx';
