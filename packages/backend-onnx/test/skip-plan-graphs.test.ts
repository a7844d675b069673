/**
 * The graphs are core's skip plan, traced: running them in onnxruntime, the head graph's skip
 * outputs have the plan's skip-stack shapes, a cache-writing graph returns exactly the plan's
 * cache-store levels at their levels' sizes, and a tail graph accepts the plan's fill shape, at
 * every k and decoder stage. A zero fill fed between the head and tail graphs (the ONNX denoiser's
 * custom-fill route) gives the fused zero-fill graph's ε: both routes run one plan.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { describeArchitecture, parseUNetSpec, planSkip } from '@levelskip/core';
import { fixtureWeights, tinySpecs } from '@levelskip/core/testing';
import { buildUNetGraph } from '../src/graph/unet-graphs.js';

const spec = parseUNetSpec(tinySpecs.multiDecoder); // 3 levels, 2 decoder stages of different widths
const arch = describeArchitecture(spec);
const weights = fixtureWeights(spec, 11);
const batch = 2;
const noise = (dims: readonly number[], seed: number): ort.Tensor =>
  new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7 + seed)), [...dims]);

async function run(variant: Parameters<typeof buildUNetGraph>[2], feeds: Record<string, ort.Tensor>) {
  const graph = buildUNetGraph(arch, weights, variant);
  const session = await ort.InferenceSession.create(graph.bytes);
  try {
    return { graph, out: await session.run(feeds) };
  } finally {
    await session.release();
  }
}

describe('graphs traced from core\'s skip plan', () => {
  it('head, tail and cache outputs have the plan\'s shapes and levels at every k and stage', async () => {
    const x = noise([batch, spec.inChannels, spec.imageSize, spec.imageSize], 1);
    const t = new ort.Tensor('float32', Float32Array.from([120, 340]), [batch]);
    for (let k = 0; k < arch.levels; k++) {
      const head = await run({ kind: 'head', k }, { x, t });
      const plan0 = planSkip(arch, { stage: 0, k });
      const skips = plan0.skipShapes.map((_, i) => head.out[`skip_${i}`]!);
      expect(skips.map((s) => s.dims), `k=${k}`).toEqual(plan0.skipShapes.map((s) => [batch, s.channels, s.size, s.size]));
      expect(Object.keys(head.out).filter((name) => name.startsWith('skip_'))).toHaveLength(plan0.skipShapes.length);
      for (let stage = 0; stage < arch.decoders.length; stage++) {
        const plan = planSkip(arch, { stage, k });
        const fused = await run({ kind: 'fused', stage, k, fill: k === 0 ? 'none' : 'zero', cacheOutputs: true }, { x, t });
        expect(fused.graph.cacheLevels.map((c) => c.level)).toEqual(plan.cacheStoreLevels);
        for (const { output, level } of fused.graph.cacheLevels) {
          const dims = fused.out[output]!.dims;
          // Decoder level `level`'s input: batch × (the level above's channels) × this level's size².
          expect(dims, `${output} k=${k}`).toEqual([batch, arch.decoders[stage]!.levels[level + 1]!.channels, arch.sizes[level], arch.sizes[level]]);
        }
        if (k === 0) continue;
        const site = plan.fillSite!;
        const fill = new ort.Tensor('float32', new Float32Array(batch * site.channels * site.size ** 2), [batch, site.channels, site.size, site.size]);
        const feeds: Record<string, ort.Tensor> = { temb: head.out['temb']!, fill };
        skips.forEach((s, i) => (feeds[`skip_${i}`] = s));
        const tail = await run({ kind: 'tail', stage, k, cacheOutputs: false }, feeds);
        // A zero fill fed to the tail gives the fused zero-fill graph's ε.
        const a = tail.out['eps']!.data as Float32Array;
        const b = fused.out['eps']!.data as Float32Array;
        expect(a.length).toBe(b.length);
        let diff = 0;
        for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        expect(diff, `stage ${stage} k=${k}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });
});
