/**
 * Attention weights under their deprecated diffusers names, renamed as diffusers renames them at
 * load: `ModelMixin._convert_deprecated_attention_blocks` (diffusers v0.31.0,
 * src/diffusers/models/modeling_utils.py, lines 1295–1337). For every attention module built with
 * `_from_deprecated_attn_block=True` (the `attentions.<j>` of UNetMidBlock2D, AttnDownBlock2D and
 * AttnUpBlock2D, so `mid_block.attentions.<j>`, `down_blocks.<i>.attentions.<j>` and
 * `up_blocks.<i>.attentions.<j>` in a UNet2DModel) it moves
 *
 *   <path>.query.{weight,bias}      → <path>.to_q.{weight,bias}
 *   <path>.key.{weight,bias}        → <path>.to_k.{weight,bias}
 *   <path>.value.{weight,bias}      → <path>.to_v.{weight,bias}
 *   <path>.proj_attn.{weight,bias}  → <path>.to_out.0.{weight,bias}
 *
 * and leaves `<path>.group_norm.*` as it is. Older Hub checkpoints (google/ddpm-cifar10-32 among
 * them) store these names. The shapes are the same ([C, C] linears), so only names change.
 *
 * One difference: where a file holds both names of one tensor, diffusers silently keeps the
 * deprecated one; here that is refused, since one of the two would be dropped unseen.
 */
import { LevelskipError } from '../../errors/levelskip-error.js';
import { quoteName } from '../strict-json.js';

const deprecatedName = /^((?:down_blocks|up_blocks)\.\d+\.attentions\.\d+|mid_block\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/;

const renamed: Readonly<Record<string, string>> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };

/** The current name of a deprecated attention tensor name, or undefined when `name` is not one. */
export function currentAttentionName(name: string): string | undefined {
  const match = deprecatedName.exec(name);
  if (match === null) return undefined;
  const [, path, layer, parameter] = match;
  return `${path}.${renamed[layer!]}.${parameter}`;
}

/**
 * `tensors` with every deprecated attention name replaced by its current one, in the same order;
 * the input is returned as it is when it holds none.
 *
 * @param source Names the weights file in errors.
 * @throws LevelskipError `CHECKPOINT_CORRUPT` when a tensor is stored under both names.
 */
export function renameDeprecatedAttention<T>(tensors: ReadonlyMap<string, T>, source = 'the weights file'): Map<string, T> {
  if (![...tensors.keys()].some((name) => deprecatedName.test(name))) return tensors as Map<string, T>;
  const out = new Map<string, T>();
  for (const [name, tensor] of tensors) {
    const current = currentAttentionName(name);
    if (current !== undefined && tensors.has(current)) {
      throw new LevelskipError(
        'CHECKPOINT_CORRUPT',
        `${source} holds both ${quoteName(name)} and ${quoteName(current)}, the deprecated and the current name of one attention weight; keep one of them`,
      );
    }
    out.set(current ?? name, tensor);
  }
  return out;
}
