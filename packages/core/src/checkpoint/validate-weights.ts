/**
 * Checks named weights against the tensor list of a spec (`parameterLayout`), so a checkpoint
 * saved for another architecture fails with every mismatch listed, not deep inside a backend.
 */
import { LevelskipError, type LevelskipIssue } from '../errors/levelskip-error.js';
import { parameterLayout } from '../geometry/parameter-layout.js';
import type { Architecture } from '../geometry/architecture.js';
import type { UNetSpec } from '../spec/unet-spec.js';
import type { HostTensor, NamedTensors } from '../backend/tensor-ops.js';

export interface ValidateWeightsOptions {
  /** Accept tensors the spec does not use (default false: they usually mean the wrong spec). */
  readonly allowExtra?: boolean;
}

/** How many problems the message lists; the rest are counted (all are in `issues`). */
const listedProblems = 10;

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Validates that `weights` holds exactly the tensors of `parameterLayout(spec)`, with those shapes
 * (PyTorch layouts: OIHW convs, [out, in] linears) and matching data lengths. Takes the spec or,
 * to spare deriving it again, its architecture (`describeArchitecture(spec)`).
 *
 * @throws LevelskipError `WEIGHTS_MISMATCH` listing the first problems (missing tensors, wrong
 *   shapes, unexpected tensors, wrong data lengths), with one issue per problem whose path is the
 *   tensor name.
 */
export function validateWeights(spec: UNetSpec | Architecture, weights: NamedTensors, options: ValidateWeightsOptions = {}): void {
  const issues: LevelskipIssue[] = [];
  const expected = new Set<string>();
  for (const entry of parameterLayout(spec)) {
    expected.add(entry.name);
    const tensor = weights.get(entry.name);
    const problem = checkTensor(entry.shape, tensor);
    if (problem !== undefined) issues.push({ path: [entry.name], message: problem });
  }
  if (options.allowExtra !== true) {
    for (const [name, tensor] of weights) {
      if (!expected.has(name)) {
        issues.push({ path: [name], message: `unexpected tensor with shape ${formatShape(tensor.shape)}: the spec has no such parameter` });
      }
    }
  }
  if (issues.length === 0) return;

  const lines = issues.slice(0, listedProblems).map((issue) => `  ${String(issue.path[0])}: ${issue.message}`);
  if (issues.length > listedProblems) lines.push(`  ... and ${issues.length - listedProblems} more`);
  throw new LevelskipError(
    'WEIGHTS_MISMATCH',
    `Weights do not match the spec (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}\n` +
      'Were the weights saved for a different spec? Load them with the spec they were trained with ' +
      '(a checkpoint stores it in model.json), or create matching ones with randomWeights(spec).',
    { issues },
  );
}

function checkTensor(shape: readonly number[], tensor: HostTensor | undefined): string | undefined {
  if (tensor === undefined) return `missing tensor (expected shape ${formatShape(shape)})`;
  if (!sameShape(shape, tensor.shape)) {
    return `expected shape ${formatShape(shape)} (PyTorch layout), got ${formatShape(tensor.shape)}`;
  }
  if (!(tensor.data instanceof Float32Array)) return 'data must be a Float32Array';
  const size = shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== size) return `shape ${formatShape(shape)} needs ${size} values, but data has ${tensor.data.length}`;
  return undefined;
}

/**
 * The spec's tensors in `parameterLayout` order (diffusers' module order), e.g. to feed a backend
 * that takes weights positionally. Tensors the spec does not use are left out.
 *
 * @throws LevelskipError `WEIGHTS_MISMATCH` when a tensor is missing or has the wrong shape.
 */
export function weightsToSpecOrder(spec: UNetSpec, weights: NamedTensors): [string, HostTensor][] {
  validateWeights(spec, weights, { allowExtra: true });
  return parameterLayout(spec).map((entry) => [entry.name, weights.get(entry.name)!]);
}
