/**
 * Child-process entry of `bench`: measures one external library at one thread count and
 * prints `{ "results": { shapeName: MatmulResult } }` as JSON on stdout.
 * Arguments: `<onnxruntime-web|jax-js> <threads> <shapes as JSON> [quick]`.
 */
import { benchJaxMatmuls, benchOrtMatmuls, type PlainShape } from './external-matmul.ts';

const [lib, threadsArg, shapesJson, quick] = process.argv.slice(2);
const shapes = JSON.parse(shapesJson ?? '[]') as PlainShape[];
const opts = quick === 'quick' ? { warmup: 1, minMs: 0, minReps: 1, maxReps: 1 } : {};
const results = lib === 'jax-js' ? await benchJaxMatmuls(shapes, opts) : await benchOrtMatmuls(shapes, Number(threadsArg), opts);
process.stdout.write(`${JSON.stringify({ results })}\n`);
process.exit(0); // onnxruntime-web's worker threads would keep the process alive
