import { describe, expect, it } from 'vitest';
import { LevelskipError, liveDenoisers } from '../src/index.js';

interface Fake {
  disposed: number;
  dispose(): void;
}

function fake(onDispose: () => void): Fake {
  const d: Fake = {
    disposed: 0,
    dispose() {
      if (d.disposed++ === 0) onDispose();
    },
  };
  return d;
}

describe('liveDenoisers', () => {
  it('keeps made denoisers until they are disposed, and disposing the backend disposes the rest once', () => {
    const live = liveDenoisers<Fake>('createThing()');
    const a = live.track(fake);
    const b = live.track(fake);
    expect(live.size).toBe(2);
    a.dispose();
    expect(live.size).toBe(1);
    live.dispose();
    live.dispose();
    expect(live.disposed).toBe(true);
    expect(live.size).toBe(0);
    expect([a.disposed, b.disposed]).toEqual([1, 1]);
  });

  it('refuses to make a denoiser after dispose with DISPOSED naming the constructor', () => {
    const live = liveDenoisers<Fake>('createThing()');
    live.dispose();
    let made = 0;
    const attempt = (): Fake => live.track((onDispose) => (made++, fake(onDispose)));
    expect(attempt).toThrowError(LevelskipError);
    expect(attempt).toThrowError(/createThing\(\)/);
    try {
      live.assertOpen();
    } catch (error) {
      expect((error as LevelskipError).code).toBe('DISPOSED');
    }
    expect(() => live.assertOpen()).toThrow();
    expect(made).toBe(0);
  });

  it('does not keep a denoiser that was disposed while it was being made', () => {
    const live = liveDenoisers<Fake>('createThing()');
    live.track((onDispose) => {
      const d = fake(onDispose);
      d.dispose();
      return d;
    });
    expect(live.size).toBe(0);
  });
});
