#!/usr/bin/env node
// The main job for now: the model zoo's architectures, what skipping levels costs and saves,
// as core predicts it from FLOPs. (Sampling with shipped models comes with the samplers and
// pretrained packages; see the README's roadmap.)
import {
  levelGeometry,
  parameterCount,
  parseUNetSpec,
  powerSchedule,
  predictedTimeSaved,
  presets,
} from '@levelskip/core';

const fmt = (n, digits = 1) => n.toFixed(digits);
const pad = (s, n) => String(s).padEnd(n);

for (const [name, input] of Object.entries(presets)) {
  const spec = parseUNetSpec(input);
  const geometry = levelGeometry(spec);
  console.log(`\n${name}: ${spec.imageSize}×${spec.imageSize}×${spec.inChannels}, N = ${spec.channelMults.length} levels, ` +
    `${(parameterCount(spec) / 1e6).toFixed(3)}M parameters, block ${spec.block}`);
  console.log(`  ${pad('k', 3)}${pad('cut level', 11)}${pad('MFLOPs/step', 13)}${pad('vs full', 9)}parameters used`);
  for (const g of geometry) {
    console.log(`  ${pad(g.k, 3)}${pad(`${g.cutLevel} (${spec.imageSize / 2 ** g.cutLevel}px)`, 11)}${pad(fmt(g.flops / 1e6), 13)}` +
      `${pad(`${fmt((100 * g.flops) / geometry[0].flops)}%`, 9)}${(g.parameters / 1e6).toFixed(3)}M`);
  }
  console.log(`  predicted time saved by k(t) = min(N-1, floor(N - N(1-t)^c)), zero fill:`);
  console.log(`  ${pad('c', 4)}${pad('DDPM 1000 steps', 17)}DDIM 50 steps`);
  for (const c of [1, 2, 3, 5]) {
    const schedule = powerSchedule({ c });
    const ddpm = predictedTimeSaved(spec, schedule, spec.trainTimesteps).fractionSaved;
    const ddim = predictedTimeSaved(spec, schedule, 50).fractionSaved;
    console.log(`  ${pad(c, 4)}${pad(`${fmt(100 * ddpm)}%`, 17)}${fmt(100 * ddim)}%`);
  }
}
