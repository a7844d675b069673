/**
 * Checkpoints over HTTP(S): the two files of a checkpoint directory served side by side (a static
 * host, a CDN, the demo page's own server), fetched with the platform's `fetch` (browsers, Node ≥
 * 18, Deno) and parsed with `parseCheckpoint`. Nothing here touches a file system.
 *
 * Also home of the rule that both loaders (this one and Node's `loadCheckpoint`) follow for the
 * weights file's name: model.json's `weightsFile` names it, so a checkpoint directory can be
 * overwritten atomically by writing the new weights under a second name and then replacing
 * model.json in one rename (see `saveCheckpoint`).
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkpointFiles, parseCheckpoint, readCheckpointManifest, type LoadedCheckpoint } from './checkpoint-format.js';
import { fetchDiffusersCheckpoint } from './diffusers/fetch-diffusers.js';

/**
 * Names a checkpoint's weights file may have: `model.safetensors` (the default, and what every
 * checkpoint written before atomic overwrites used) or `model.<tag>.safetensors` with a short
 * lower-case alphanumeric tag. A plain name, never a path, so a manifest cannot point elsewhere.
 */
export const checkpointWeightsFilePattern = /^model(\.[0-9a-z]{1,16})?\.safetensors$/;

/**
 * The weights file named by model.json's text (`weightsFile`), and the text to hand to
 * `readCheckpointManifest` / `parseCheckpoint`.
 *
 * Only `model.safetensors` passes those parsers' schema (levelskip 0.1 wrote nothing else, and a
 * levelskip that predates atomic overwrites rejects any other name loudly instead of pairing the
 * manifest with the wrong weights). So a manifest that names another valid file is handed to them
 * with `weightsFile` rewritten to the default; everything else about the text is kept, and
 * malformed text is left for them to report.
 *
 * @throws LevelskipError `CHECKPOINT_CORRUPT` naming `path` when `weightsFile` is a string that is
 *   not a valid weights file name (a path, `..`, another extension).
 */
export function checkpointWeightsFile(manifestText: string, path: string): { weightsFile: string; manifestText: string } {
  const fallback = { weightsFile: checkpointFiles.weights, manifestText };
  let raw: unknown;
  try {
    raw = JSON.parse(manifestText);
  } catch {
    return fallback;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fallback;
  const name = (raw as { weightsFile?: unknown }).weightsFile;
  if (typeof name !== 'string' || name === checkpointFiles.weights) return fallback;
  if (!checkpointWeightsFilePattern.test(name)) {
    throw new LevelskipError(
      'CHECKPOINT_CORRUPT',
      `${path} is not a valid checkpoint manifest:\n  weightsFile: must be a file name in the checkpoint directory, model.safetensors or model.<tag>.safetensors (a tag of 1 to 16 lower-case letters and digits), not a path or another name`,
    );
  }
  // Rewrite only the one top-level member, keeping the text otherwise as written, so the parsers'
  // own checks (duplicate keys, nesting) still see it; re-serialize when that is ambiguous.
  const member = /"weightsFile"\s*:\s*"model(?:\.[0-9a-z]{1,16})?\.safetensors"/g;
  const matches = manifestText.match(member) ?? [];
  const normalized =
    matches.length === 1
      ? manifestText.replace(member, `"weightsFile": "${checkpointFiles.weights}"`)
      : `${JSON.stringify({ ...(raw as Record<string, unknown>), weightsFile: checkpointFiles.weights }, null, 2)}\n`;
  return { weightsFile: name, manifestText: normalized };
}

/** Bytes of one file received so far (`total` when the server sent a Content-Length). */
export interface FetchProgress {
  /** Which file: the manifest or the weights (`url` has the weights file's actual name). */
  readonly file: 'model.json' | 'model.safetensors';
  readonly url: string;
  readonly loaded: number;
  readonly total: number | undefined;
}

export interface FetchCheckpointOptions {
  /** The fetch to use (default: `globalThis.fetch`), e.g. one that adds headers or caches. */
  readonly fetch?: (input: string, init?: { signal?: AbortSignal }) => Promise<Response>;
  /** Aborts the download; the promise then rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Called as bytes arrive (the weights are megabytes: show a progress bar). */
  readonly onProgress?: (progress: FetchProgress) => void;
}

/** `base` with exactly one trailing slash, resolved against the page's URL where there is one. */
function directoryUrl(base: string | URL): string {
  const text = String(base);
  const withSlash = text.endsWith('/') ? text : `${text}/`;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(withSlash, page).href;
  } catch (error) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `Checkpoint URL ${JSON.stringify(text)} is not a valid URL; pass an absolute URL (https://host/models/mnist-full/) or, in a page, a path relative to it`,
      { cause: error },
    );
  }
}

async function fetchBytes(url: string, file: FetchProgress['file'], options: FetchCheckpointOptions): Promise<Uint8Array> {
  const fetchImpl = options.fetch ?? (globalThis as { fetch?: FetchCheckpointOptions['fetch'] }).fetch;
  if (fetchImpl === undefined) {
    throw new LevelskipError('UNSUPPORTED', 'This JavaScript runtime has no fetch(); pass options.fetch, or read the files yourself and call parseCheckpoint(manifest, weights)');
  }
  let response: Response;
  try {
    response = await fetchImpl(url, options.signal === undefined ? undefined : { signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw new LevelskipError('ABORTED', `Download of ${url} was aborted`, { cause: error });
    throw new LevelskipError('IO_ERROR', `Could not fetch ${url} (${(error as Error).message}); check the URL and that the server is reachable (and sends CORS headers for another origin)`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new LevelskipError(
      response.status === 404 ? 'CHECKPOINT_MISSING' : 'IO_ERROR',
      `Fetching ${url} failed with HTTP ${response.status} ${response.statusText}; the URL must point at a checkpoint directory holding ${checkpointFiles.manifest} and ${checkpointFiles.weights}`,
    );
  }
  const header = response.headers.get('content-length');
  const total = header === null || !/^\d+$/.test(header) ? undefined : Number(header);
  if (response.body === null || options.onProgress === undefined) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    options.onProgress?.({ file, url, loaded: bytes.length, total });
    return bytes;
  }
  // Stream the body so progress can be reported; chunks are joined once at the end.
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      options.onProgress({ file, url, loaded, total });
    }
  } catch (error) {
    if (options.signal?.aborted) throw new LevelskipError('ABORTED', `Download of ${url} was aborted`, { cause: error });
    throw new LevelskipError('IO_ERROR', `Download of ${url} broke off after ${loaded} bytes (${(error as Error).message}); try again`, { cause: error });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Fetches and parses the checkpoint served at `url` (a directory URL: `url`/model.json and the
 * weights file it names, `url`/model.safetensors unless model.json's `weightsFile` says
 * otherwise). The manifest is fetched and checked first, so a wrong URL fails before megabytes of
 * weights are downloaded.
 *
 * Where there is no model.json (HTTP 404), a 🤗 diffusers directory at `url` is loaded instead
 * (`fetchDiffusersCheckpoint`: model_index.json, [unet/]config.json, the scheduler config and the
 * weights, each asked for in turn; a Hub repository's `.../resolve/main/` URL works).
 *
 * @throws LevelskipError `CHECKPOINT_MISSING` on HTTP 404; `IO_ERROR` for other network failures;
 *   `ABORTED` when `signal` fires; and `parseCheckpoint`'s errors, naming the URL.
 *
 * @example
 * const { spec, weights } = await fetchCheckpoint('/models/mnist-full/', { onProgress: console.log });
 */
export async function fetchCheckpoint(url: string | URL, options: FetchCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const base = directoryUrl(url);
  const manifestUrl = new URL(checkpointFiles.manifest, base).href;
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = await fetchBytes(manifestUrl, checkpointFiles.manifest, options);
  } catch (error) {
    if (!(LevelskipError.is(error) && error.code === 'CHECKPOINT_MISSING')) throw error;
    const optional = (fileUrl: string, kind: 'config' | 'weights'): Promise<Uint8Array | undefined> =>
      fetchBytes(fileUrl, kind === 'weights' ? checkpointFiles.weights : checkpointFiles.manifest, options).catch((missing: unknown) => {
        if (LevelskipError.is(missing) && missing.code === 'CHECKPOINT_MISSING') return undefined;
        throw missing;
      });
    const diffusers = await fetchDiffusersCheckpoint(base, optional);
    if (diffusers !== undefined) return diffusers;
    throw error;
  }
  const text = new TextDecoder().decode(manifestBytes);
  const { weightsFile, manifestText: manifest } = checkpointWeightsFile(text, manifestUrl);
  // Fails fast on a manifest that is not a checkpoint's, before the weights are downloaded.
  readCheckpointManifest(manifest, manifestUrl);
  const weightsUrl = new URL(weightsFile, base).href;
  const weights = await fetchBytes(weightsUrl, checkpointFiles.weights, options);
  return parseCheckpoint(manifest, weights, { manifest: manifestUrl, weights: weightsUrl });
}
