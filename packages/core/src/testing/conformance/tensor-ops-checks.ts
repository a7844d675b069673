/**
 * Conformance of `TensorOps`: every method against the float64 reference ops on random data.
 * Resizes follow PyTorch's `F.interpolate` (align_corners = False; bicubic a = −0.75) and
 * avgPool TensorFlow's 'same' padding with padded cells excluded; see the reference's
 * resize and avg-pool files for the formulas.
 */
import { adoptFloat32, viewFloat32, writeFloat32, type HostTensor, type ResizeMode, type TensorOps } from '../../backend/tensor-ops.js';
import { SeededRng } from '../../random/seeded-rng.js';
import { referenceOps, type ReferenceTensor } from '../reference/index.js';
import type { SuiteContext } from './context.js';
import {
  assertClose,
  assertIdentical,
  assertLevelskipError,
  assertShape,
  fail,
  runCheck,
  type ConformanceCheck,
} from './report.js';

/** One op applied to inputs, written once for any tensor type. */
type OpBody = <U>(ops: TensorOps<U>, inputs: readonly U[]) => U;

interface OpCase {
  readonly name: string;
  readonly inputs: readonly HostTensor[];
  readonly run: OpBody;
}

function randomHost(rng: SeededRng, shape: readonly number[]): HostTensor {
  return { shape, data: rng.normal(shape.reduce((a, b) => a * b, 1)) };
}

function opCases(): OpCase[] {
  const rng = new SeededRng(20240601);
  const a = randomHost(rng, [2, 3, 4, 5]);
  const b = randomHost(rng, [2, 3, 4, 5]);
  const c = randomHost(rng, [2, 2, 4, 5]);
  const d = randomHost(rng, [1, 3, 4, 5]);
  const square = randomHost(rng, [2, 3, 6, 6]);
  const odd = randomHost(rng, [1, 2, 5, 7]);
  const cases: OpCase[] = [
    { name: 'add', inputs: [a, b], run: (ops, [x, y]) => ops.add(x!, y!) },
    { name: 'sub', inputs: [a, b], run: (ops, [x, y]) => ops.sub(x!, y!) },
    { name: 'mul', inputs: [a, b], run: (ops, [x, y]) => ops.mul(x!, y!) },
    { name: 'scale', inputs: [a], run: (ops, [x]) => ops.scale(x!, -1.75) },
    { name: 'clamp', inputs: [a], run: (ops, [x]) => ops.clamp(x!, -0.5, 0.25) },
    { name: 'concat axis 1', inputs: [a, c, b], run: (ops, xs) => ops.concat(xs, 1) },
    { name: 'concat axis 0', inputs: [a, d], run: (ops, xs) => ops.concat(xs, 0) },
    { name: 'concat of one tensor', inputs: [c], run: (ops, xs) => ops.concat(xs, 1) },
    { name: 'slice', inputs: [a], run: (ops, [x]) => ops.slice(x!, [1, 1, 0, 2], [1, 2, 3, 3]) },
    { name: 'slice (whole)', inputs: [a], run: (ops, [x]) => ops.slice(x!, [0, 0, 0, 0], [2, 3, 4, 5]) },
    { name: 'clone', inputs: [a], run: (ops, [x]) => ops.clone(x!) },
  ];
  const resizes: [string, HostTensor, number, number][] = [
    ['up ×2', square, 12, 12],
    ['down ×½', square, 3, 3],
    ['up, non-integer and non-square', odd, 8, 9],
    ['down, non-integer and non-square', odd, 3, 4],
  ];
  for (const mode of ['nearest', 'bilinear', 'bicubic'] as const satisfies readonly ResizeMode[]) {
    for (const [label, input, h, w] of resizes) {
      cases.push({ name: `resize ${mode} ${label}`, inputs: [input], run: (ops, [x]) => ops.resize(x!, h, w, mode) });
    }
  }
  const pools: [number, number, HostTensor][] = [
    [3, 1, square],
    [2, 2, square],
    [3, 2, odd],
    [2, 1, odd],
  ];
  for (const [window, stride, input] of pools) {
    cases.push({ name: `avgPool window ${window} stride ${stride} on [${input.shape.join(', ')}]`, inputs: [input], run: (ops, [x]) => ops.avgPool(x!, window, stride) });
  }
  return cases.map((c) => ({ ...c, name: `ops.${c.name}` }));
}

async function checkOpCase<T>(ctx: SuiteContext<T>, op: OpCase): Promise<string> {
  const ops = ctx.backend.ops;
  const refInputs = op.inputs.map((h) => referenceOps.fromFloat32(h.data, h.shape));
  const expected: ReferenceTensor = op.run(referenceOps, refInputs);
  const inputs = op.inputs.map((h) => ops.fromFloat32(h.data, h.shape));
  try {
    const out = op.run(ops, inputs);
    try {
      assertShape('result', ops.shape(out), expected.shape);
      const relative = assertClose('result', await ops.toFloat32(out), expected.data, ctx.options.tolerance);
      // Ops must not consume or modify their inputs: the composition reuses skips after concat.
      for (let i = 0; i < inputs.length; i++) {
        assertIdentical(`input ${i} after the op`, await ops.toFloat32(inputs[i]!), op.inputs[i]!.data);
      }
      return `scaled max diff ${relative.toExponential(2)}`;
    } finally {
      if (!inputs.includes(out)) ops.dispose(out);
    }
  } finally {
    ops.dispose(inputs);
  }
}

async function checkRoundTrip<T>(ctx: SuiteContext<T>): Promise<void> {
  const ops = ctx.backend.ops;
  const host = randomHost(new SeededRng(7), [2, 3, 4, 5]);
  const source = host.data.slice();
  const x = ops.fromFloat32(source, host.shape);
  try {
    // fromFloat32 copies: later writes to the caller's array must not show.
    source.fill(123);
    const first = await ops.toFloat32(x);
    if (!(first instanceof Float32Array)) fail('toFloat32 must resolve to a Float32Array');
    assertIdentical('round trip', first, host.data);
    // toFloat32 copies out: writing to the returned array must not change the tensor.
    first.fill(-5);
    assertIdentical('second read after writing to the first', await ops.toFloat32(x), host.data);
  } finally {
    ops.dispose(x);
  }
}

/** The optional no-copy pair: `adoptFloat32` gives the values of `fromFloat32`, `viewFloat32` those of `toFloat32`, and neither changes the tensor. */
async function checkAdoptAndView<T>(ctx: SuiteContext<T>): Promise<string | void> {
  const ops = ctx.backend.ops;
  if (ops.adoptFloat32 === undefined && ops.viewFloat32 === undefined) return 'neither implemented (fromFloat32 and toFloat32 serve)';
  const host = randomHost(new SeededRng(8), [2, 3, 4, 5]);
  const x = adoptFloat32(ops, host.data.slice(), host.shape);
  try {
    assertShape('adopted tensor', ops.shape(x), host.shape);
    const viewed = await viewFloat32(ops, x);
    if (!(viewed instanceof Float32Array)) fail('viewFloat32 must resolve to a Float32Array');
    assertIdentical('viewFloat32 of the adopted tensor', viewed, host.data);
    assertIdentical('toFloat32 after viewFloat32', await ops.toFloat32(x), host.data);
    const y = ops.scale(x, 2);
    try {
      assertIdentical('viewFloat32 of an op result', await viewFloat32(ops, y), host.data.map((v) => 2 * v));
    } finally {
      ops.dispose(y);
    }
  } finally {
    ops.dispose(x);
  }
  return `adoptFloat32 ${ops.adoptFloat32 === undefined ? 'absent' : 'present'}, viewFloat32 ${ops.viewFloat32 === undefined ? 'absent' : 'present'}`;
}

/**
 * `writeFloat32` (the backend's, or core's fall-back) gives the values written, and storage a
 * backend recycles from disposed tensors never aliases a live one: after a tensor is disposed
 * (twice: the second dispose must be harmless, not recycle the storage twice), new tensors from
 * `writeFloat32`, the ops and `zeros` each hold their own values, and a tensor that stays live
 * keeps its own. A `write` that throws leaves no tensor behind.
 */
async function checkWriteAndRecycle<T>(ctx: SuiteContext<T>): Promise<string | void> {
  const ops = ctx.backend.ops;
  const live = ctx.options.liveTensors;
  const host = randomHost(new SeededRng(9), [2, 3, 4, 5]);
  const { shape, data } = host;
  const constant = (value: number): Float32Array => new Float32Array(data.length).fill(value);
  const x = writeFloat32(ops, shape, (out) => out.set(data));
  const made: T[] = [];
  try {
    assertShape('writeFloat32', ops.shape(x), shape);
    assertIdentical('writeFloat32', await ops.toFloat32(x), data);
    // Storage to recycle: op results and written tensors, disposed (one of them twice).
    const y = ops.scale(x, 2);
    const w = writeFloat32(ops, shape, (out) => out.fill(5));
    ops.dispose(y);
    ops.dispose(y);
    ops.dispose(w);
    const ones = writeFloat32(ops, shape, (out) => out.fill(1));
    made.push(ones);
    const twos = writeFloat32(ops, shape, (out) => out.fill(2));
    made.push(twos);
    const tripled = ops.scale(x, 3);
    made.push(tripled);
    const zeros = ops.zeros(shape);
    made.push(zeros);
    const copy = ops.clone(x);
    made.push(copy);
    assertIdentical('a written tensor after recycling', await ops.toFloat32(ones), constant(1));
    assertIdentical('a second written tensor after recycling', await ops.toFloat32(twos), constant(2));
    assertClose('an op result after recycling', await ops.toFloat32(tripled), data.map((v) => 3 * v), ctx.options.tolerance);
    assertIdentical('zeros after recycling', await ops.toFloat32(zeros), constant(0));
    assertIdentical('clone after recycling', await ops.toFloat32(copy), data);
    assertIdentical('the live source after recycling', await ops.toFloat32(x), data);
  } finally {
    ops.dispose(made);
    ops.dispose(x);
  }
  const before = live?.();
  let threw = false;
  try {
    writeFloat32(ops, shape, () => {
      throw new Error('write failed');
    });
  } catch {
    threw = true;
  }
  if (!threw) fail('writeFloat32 must let an exception thrown by write through');
  await assertLevelskipError('writeFloat32 with a negative dimension', 'INVALID_SHAPE', () => writeFloat32(ops, [2, -1], (out) => out.fill(0)));
  await assertLevelskipError('writeFloat32 with a fractional dimension', 'INVALID_SHAPE', () => writeFloat32(ops, [2.5], (out) => out.fill(0)));
  if (live !== undefined && before !== undefined && live() > before) fail('writeFloat32 left a live tensor behind when write threw');
  return `writeFloat32 ${ops.writeFloat32 === undefined ? 'absent (core\'s fall-back checked)' : 'present'}`;
}

async function checkShape<T>(ctx: SuiteContext<T>): Promise<void> {
  const ops = ctx.backend.ops;
  const x = ops.fromFloat32(new Float32Array(2 * 3 * 4 * 5), [2, 3, 4, 5]);
  const y = ops.fromFloat32(new Float32Array([1, 2, 3]), [3]);
  try {
    assertShape('shape of a [2, 3, 4, 5] tensor', ops.shape(x), [2, 3, 4, 5]);
    assertShape('shape of a [3] tensor', ops.shape(y), [3]);
  } finally {
    ops.dispose([x, y]);
  }
}

async function checkZeros<T>(ctx: SuiteContext<T>): Promise<void> {
  const ops = ctx.backend.ops;
  const z = ops.zeros([2, 3, 2, 2]);
  try {
    assertShape('zeros', ops.shape(z), [2, 3, 2, 2]);
    assertIdentical('zeros', await ops.toFloat32(z), new Float32Array(24));
  } finally {
    ops.dispose(z);
  }
}

async function checkDispose<T>(ctx: SuiteContext<T>): Promise<string | void> {
  const ops = ctx.backend.ops;
  const live = ctx.options.liveTensors;
  const before = live?.();
  const a = ops.zeros([1, 2, 3, 3]);
  const b = ops.clone(a);
  const c = ops.add(a, b);
  ops.dispose([a, b]);
  ops.dispose(c);
  if (live === undefined || before === undefined) return 'no liveTensors: only checked that dispose accepts a tensor and an array';
  const after = live();
  if (after > before) fail(`${after - before} tensor(s) still live after disposing every tensor created`);
}

/** The `TensorOps` checks. */
export async function tensorOpsChecks<T>(ctx: SuiteContext<T>): Promise<ConformanceCheck[]> {
  const checks: ConformanceCheck[] = [];
  checks.push(await runCheck('ops.fromFloat32/toFloat32 round trip', () => checkRoundTrip(ctx)));
  checks.push(await runCheck('ops.adoptFloat32/viewFloat32 (optional, no copy)', () => checkAdoptAndView(ctx)));
  checks.push(await runCheck('ops.writeFloat32 (optional) and recycled storage', () => checkWriteAndRecycle(ctx)));
  checks.push(await runCheck('ops.shape', () => checkShape(ctx)));
  checks.push(await runCheck('ops.zeros', () => checkZeros(ctx)));
  for (const op of opCases()) checks.push(await runCheck(op.name, () => checkOpCase(ctx, op)));
  checks.push(await runCheck('ops.dispose', () => checkDispose(ctx)));
  return checks;
}
