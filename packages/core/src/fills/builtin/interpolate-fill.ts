/**
 * The interpolate fill (Giladi et al.): learned side paths estimate the missing deep features,
 * from encoder level L to the middle block's shape (bicubic resize + 1×1 projection) and from there
 * back to decoder level L (bicubic resize + 1×1 projection). Bicubic is PyTorch's convention
 * (a = −0.75, half-pixel, no antialias). The side paths are weights of the model: it needs a spec
 * with `sidePaths: true`.
 */
import { defineStatelessFill } from './fill-definition.js';

/** Learned side paths: encoder level → middle shape → decoder level, with bicubic resizes. Needs `sidePaths`. */
export interface InterpolateFill {
  readonly kind: 'interpolate';
}

const interpolate = defineStatelessFill({
  kind: 'interpolate',
  description: 'learned side paths from the cut level to the middle and back (needs a model with sidePaths)',
  supports: (spec) => (spec.sidePaths ? undefined : 'needs learned side paths, but this model was built with sidePaths: false (train one with sidePaths: true)'),
  apply: (context, ops, sidePaths) => {
    const middle = sidePaths.sideEncoder(context.level, context.skip);
    const out = sidePaths.sideDecoder(context.stage, context.level, middle);
    ops.dispose(middle);
    return out;
  },
});

export const interpolateFill: InterpolateFill = interpolate.fill;

/** The interpolate fill's registry entry. */
export const interpolateFillDefinition = interpolate.definition;
