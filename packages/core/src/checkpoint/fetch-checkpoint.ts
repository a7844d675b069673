/**
 * Checkpoints over HTTP(S): the two files of a checkpoint directory served side by side (a static
 * host, a CDN, the demo page's own server), fetched with the platform's `fetch` (browsers, Node ≥
 * 18, Deno) and parsed with `parseCheckpoint`. Nothing here touches a file system.
 */
import { LevelskipError } from '../errors/levelskip-error.js';
import { checkpointFiles, parseCheckpoint, readCheckpointManifest, type LoadedCheckpoint } from './checkpoint-format.js';

/** Bytes of one file received so far (`total` when the server sent a Content-Length). */
export interface FetchProgress {
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
 * Fetches and parses the checkpoint served at `url` (a directory URL: `url`/model.json and
 * `url`/model.safetensors). The manifest is fetched and checked first, so a wrong URL fails before
 * megabytes of weights are downloaded.
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
  const weightsUrl = new URL(checkpointFiles.weights, base).href;
  const manifest = new TextDecoder().decode(await fetchBytes(manifestUrl, 'model.json', options));
  // Fails fast on a manifest that is not a checkpoint's, before the weights are downloaded.
  readCheckpointManifest(manifest, manifestUrl);
  const weights = await fetchBytes(weightsUrl, 'model.safetensors', options);
  return parseCheckpoint(manifest, weights, { manifest: manifestUrl, weights: weightsUrl });
}
