/**
 * The browser entry's environment: shipped models fetched from `baseUrl` (`@levelskip/pretrained`'s
 * browser build), checkpoints by URL, no file system. Nothing reachable from here imports a Node
 * built-in (scripts/browser-bundle.mjs checks it).
 */
import { fetchCheckpoint } from '@levelskip/core';
import { loadPretrained, pretrainedModelNames } from '@levelskip/pretrained';
import type { PipelineEnvironment } from '../pipeline/pipeline-environment.js';

export const browserEnvironment: PipelineEnvironment = {
  pretrainedNames: pretrainedModelNames,
  loadPretrained,
  fetchCheckpoint,
  // A computed specifier that bundlers leave alone: it resolves where the page has an import map
  // for the backend package. In a bundled app, pass the backend instance instead
  // (backend: await createOnnxBackend()), which bundles the backend you chose and only that one.
  importModule: (specifier) => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<Record<string, unknown>>,
};
