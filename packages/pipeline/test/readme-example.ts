import { writeFile } from 'node:fs/promises';
import { createPipeline } from '@levelskip/pipeline';

// A shipped model, on ONNX Runtime (npm i @levelskip/pipeline @levelskip/model-mnist-full @levelskip/backend-onnx onnxruntime-node).
await using pipe = await createPipeline({ model: 'mnist-full', backend: 'onnx' });
console.log(`recommended: ${pipe.settings.description}`);

// Four digits, with the model's settings but 20 steps.
const result = await pipe.generate({
  count: 4,
  seed: 0,
  steps: 20,
  onProgress: ({ phase, done, total }) => phase === 'sample' && done === total && console.log(`sampled ${done} steps`),
});
console.log(`used: ${result.settings.description}; ks ${result.ks.join('')}`);
await writeFile(new URL('digits.png', import.meta.url), await result.toGridPNG({ scale: 2 }));
