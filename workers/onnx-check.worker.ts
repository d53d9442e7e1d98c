/**
 * ONNX check worker: the page's "Run the export" decodes the exported model in onnxruntime-web
 * here, off the page's main thread. Thin on purpose: the API is built in src/onnx/parity-check.ts;
 * the page hands it a port of the search worker.
 */
import { expose } from 'comlink';
import { createOnnxCheckApi } from '../src/onnx/parity-check.ts';
import { openOnnxModel } from '../src/onnx/runtime.ts';

expose(createOnnxCheckApi(openOnnxModel));
