/**
 * The Node entry's environment: shipped models from the installed `@levelskip/pretrained`,
 * checkpoint directories through core's `loadCheckpoint`, backends imported from node_modules.
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fetchCheckpoint, loadCheckpoint } from '@levelskip/core';
import { loadPretrained, pretrainedModelNames } from '@levelskip/pretrained';
import type { PipelineEnvironment } from '../pipeline/pipeline-environment.js';

export const nodeEnvironment: PipelineEnvironment = {
  pretrainedNames: pretrainedModelNames,
  loadPretrained,
  fetchCheckpoint,
  directories: {
    load: (path) => loadCheckpoint(path),
    exists: async (path) => (await stat(path).catch(() => undefined)) !== undefined,
    fromFileUrl: (url) => fileURLToPath(url),
  },
  // A computed specifier: resolved when called, from where this package is installed, so a
  // backend that is not installed costs nothing until it is asked for.
  importModule: (specifier) => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<Record<string, unknown>>,
};
