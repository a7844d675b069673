/**
 * The lifecycle bookkeeping every backend shares: which denoisers it made are still alive, and
 * whether the backend itself was disposed. The `Backend` contract says that disposing a backend
 * disposes the denoisers it made, that disposing twice is a no-op, and that use after dispose
 * throws `DISPOSED` (pinned by core's conformance suite). Backends keep one `LiveDenoisers` each
 * instead of their own copies of that logic.
 */
import { LevelskipError } from '../errors/levelskip-error.js';

/**
 * The `DISPOSED` error for use after dispose, naming what was disposed and how to get a new one.
 *
 * @param what `'backend'` or `'denoiser'`.
 * @param recreate The call that makes a new one, e.g. `'createOnnxBackend()'` or `'backend.createDenoiser(spec, weights)'`.
 */
export function disposedError(what: 'backend' | 'denoiser', recreate: string): LevelskipError {
  return new LevelskipError('DISPOSED', `this ${what} has been disposed; create a new one with ${recreate}`);
}

/** A backend's live denoisers and its own disposed state (see the file comment). */
export interface LiveDenoisers<D extends { dispose(): void }> {
  /** True once `dispose()` ran. */
  readonly disposed: boolean;
  /** Number of denoisers made and not yet disposed. */
  readonly size: number;
  /** @throws LevelskipError `DISPOSED` (naming the backend's constructor) once the backend is disposed. */
  assertOpen(): void;
  /**
   * Makes a denoiser with `make` and keeps it until it is disposed. `make` receives the callback
   * its denoiser must call from its own `dispose()` (once), which forgets it here.
   *
   * @throws LevelskipError `DISPOSED` when the backend is disposed (nothing is made).
   */
  track<E extends D>(make: (onDispose: () => void) => E): E;
  /** Disposes every live denoiser and marks the backend disposed; later calls do nothing. */
  dispose(): void;
}

/**
 * A fresh `LiveDenoisers` for one backend instance.
 *
 * @param recreateBackend The call that makes a new backend, shown in `DISPOSED` errors, e.g. `'createOnnxBackend()'`.
 */
export function liveDenoisers<D extends { dispose(): void }>(recreateBackend: string): LiveDenoisers<D> {
  const live = new Set<D>();
  let disposed = false;
  const assertOpen = (): void => {
    if (disposed) throw disposedError('backend', recreateBackend);
  };
  return {
    get disposed() {
      return disposed;
    },
    get size() {
      return live.size;
    },
    assertOpen,
    track<E extends D>(make: (onDispose: () => void) => E): E {
      assertOpen();
      const entry: { made?: E; forgotten: boolean } = { forgotten: false };
      const made = make(() => {
        entry.forgotten = true;
        if (entry.made !== undefined) live.delete(entry.made);
      });
      entry.made = made;
      // A denoiser disposed while `make` was still running (it cannot be used) is not kept.
      if (!entry.forgotten) live.add(made);
      return made;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const denoiser of [...live]) denoiser.dispose();
      live.clear();
    },
  };
}
