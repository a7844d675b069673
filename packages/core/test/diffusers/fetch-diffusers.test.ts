/**
 * fetchCheckpoint on a URL without model.json: a diffusers directory served over HTTP (a fake
 * fetch serving a map of files, 404 for anything else), in both layouts, with the configs checked
 * before the weights are downloaded.
 */
import { describe, expect, it } from 'vitest';
import { fetchCheckpoint } from '../../src/checkpoint/fetch-checkpoint.js';
import { serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { sameSpec } from '../../src/spec/unet-spec.js';
import { deterministicWeights, tinySpec } from '../checkpoint/deterministic-weights.js';

const spec = tinySpec();
const weights = deterministicWeights(spec);
const config = {
  _class_name: 'UNet2DModel',
  attention_head_dim: null,
  block_out_channels: [8, 16],
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
  in_channels: 1,
  layers_per_block: 1,
  norm_num_groups: 4,
  out_channels: 1,
  sample_size: 8,
  up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
};
const scheduler = { _class_name: 'DDPMScheduler', num_train_timesteps: 1000, variance_type: 'fixed_large' };

/** A fetch serving `files` under `base`, recording every URL asked for. */
function server(base: string, files: Record<string, unknown>) {
  const asked: string[] = [];
  const fetch = async (url: string): Promise<Response> => {
    asked.push(url);
    const path = url.startsWith(base) ? url.slice(base.length) : undefined;
    const content = path === undefined ? undefined : files[path];
    if (content === undefined) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(content instanceof Uint8Array ? content : JSON.stringify(content), { status: 200 });
  };
  return { fetch, asked };
}

const base = 'https://models.example/tiny/';

describe('fetchCheckpoint on a diffusers directory', () => {
  it('loads a UNet2DModel directory with its scheduler config', async () => {
    const { fetch, asked } = server(base, { 'config.json': config, 'scheduler_config.json': scheduler, 'diffusion_pytorch_model.safetensors': serializeSafetensors(weights) });
    const loaded = await fetchCheckpoint(base, { fetch });
    expect(sameSpec(loaded.spec, spec)).toBe(true);
    expect(loaded.weights.get('conv_in.weight')!.data).toEqual(weights.get('conv_in.weight')!.data);
    expect(loaded.manifest.sampling).toMatchObject({ sampler: 'ddpm', varianceType: 'fixed_large' });
    expect(asked).toEqual([
      `${base}model.json`,
      `${base}model_index.json`,
      `${base}config.json`,
      `${base}scheduler/scheduler_config.json`,
      `${base}scheduler_config.json`,
      `${base}diffusion_pytorch_model.safetensors`,
    ]);
  });

  it('loads a pipeline directory (unet/, scheduler/) and its fp16 weights', async () => {
    const { fetch } = server(base, {
      'model_index.json': { _class_name: 'DDPMPipeline', unet: ['diffusers', 'UNet2DModel'], scheduler: ['diffusers', 'DDPMScheduler'] },
      'unet/config.json': config,
      'unet/diffusion_pytorch_model.fp16.safetensors': serializeSafetensors(weights, { dtype: 'F16' }),
      'scheduler/scheduler_config.json': scheduler,
    });
    const loaded = await fetchCheckpoint(base, { fetch });
    expect(loaded.manifest.dtype).toBe('F16');
    expect(loaded.manifest.training).toMatchObject({ pipeline: 'DDPMPipeline', weights: `${base}unet/diffusion_pytorch_model.fp16.safetensors` });
  });

  it('refuses a config before asking for any weights', async () => {
    const { fetch, asked } = server(base, { 'config.json': { ...config, time_embedding_type: 'fourier' }, 'diffusion_pytorch_model.safetensors': new Uint8Array(8) });
    await expect(fetchCheckpoint(base, { fetch })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining(`${base}config.json: 1 field levelskip cannot run`) });
    expect(asked.some((url) => url.includes('diffusion_pytorch_model'))).toBe(false);
  });

  it('a URL with neither model.json nor a diffusers config fails as before, on model.json', async () => {
    const { fetch } = server(base, {});
    await expect(fetchCheckpoint(base, { fetch })).rejects.toMatchObject({ code: 'CHECKPOINT_MISSING', message: expect.stringContaining(`${base}model.json failed with HTTP 404`) });
  });

  it('a server error is not taken for a missing file', async () => {
    const fetch = async (url: string): Promise<Response> =>
      url.endsWith('model.json') ? new Response('', { status: 404 }) : new Response('', { status: 503, statusText: 'Service Unavailable' });
    await expect(fetchCheckpoint(base, { fetch })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('HTTP 503') });
  });
});
