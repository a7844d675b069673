/**
 * What differs between the Node and browser entries of this package: where models come from (Node
 * also reads checkpoint directories and file: URLs) and how a backend package is imported.
 */
import type { FetchCheckpointOptions, LoadedCheckpoint } from '@levelskip/core';

export interface PipelineEnvironment {
  /** Names of the shipped models (`@levelskip/pretrained`'s catalogue). */
  readonly pretrainedNames: readonly string[];
  /** `@levelskip/pretrained`'s `loadPretrained` (Node: from the installed package unless `baseUrl`; browsers: from `baseUrl`). */
  readonly loadPretrained: (name: string, options: FetchCheckpointOptions & { readonly baseUrl?: string | URL }) => Promise<LoadedCheckpoint>;
  /** core's `fetchCheckpoint`. */
  readonly fetchCheckpoint: (url: string | URL, options: FetchCheckpointOptions) => Promise<LoadedCheckpoint>;
  /** Checkpoint directories on disk: Node only. */
  readonly directories?: {
    /** core's `loadCheckpoint`. */
    readonly load: (path: string) => Promise<LoadedCheckpoint>;
    /** Whether anything exists at `path`. */
    readonly exists: (path: string) => Promise<boolean>;
    /** The path of a file: URL. */
    readonly fromFileUrl: (url: URL) => string;
  };
  /** Imports a package by name at run time (backends are optional peer dependencies). */
  readonly importModule: (specifier: string) => Promise<Record<string, unknown>>;
}
