/**
 * A tiny built-in 5×7 bitmap font for labelling image grids (rows such as `c=0`, `c=2`), so the
 * CLI needs no font files or canvas library. Glyphs are uppercase: lowercase letters are drawn
 * as their uppercase forms. Each glyph is 5 columns × 7 rows; text advances 6 columns per
 * character (one blank column between glyphs).
 */
import { LevelskipError } from '@levelskip/core';

/** Glyph width in font pixels. */
export const glyphWidth = 5;
/** Glyph height in font pixels. */
export const glyphHeight = 7;
/** Horizontal advance per character in font pixels (glyph plus one blank column). */
export const glyphAdvance = 6;

// '#' = ink, '.' = background; 7 rows of 5 columns each.
const GLYPHS: Record<string, readonly string[]> = {
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['###..', '#..#.', '#...#', '#...#', '#...#', '#..#.', '###..'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  F: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  J: ['..###', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  N: ['#...#', '#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  Q: ['.###.', '#...#', '#...#', '#...#', '#.#.#', '#..#.', '.##.#'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  V: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'],
  X: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  Z: ['#####', '....#', '...#.', '..#..', '.#...', '#....', '#####'],
  '=': ['.....', '.....', '#####', '.....', '#####', '.....', '.....'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  ',': ['.....', '.....', '.....', '.....', '.##..', '..#..', '.#...'],
  ':': ['.....', '.##..', '.##..', '.....', '.##..', '.##..', '.....'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  '+': ['.....', '..#..', '..#..', '#####', '..#..', '..#..', '.....'],
  _: ['.....', '.....', '.....', '.....', '.....', '.....', '#####'],
  '%': ['##...', '##..#', '...#.', '..#..', '.#...', '#..##', '...##'],
  '(': ['...#.', '..#..', '.#...', '.#...', '.#...', '..#..', '...#.'],
  ')': ['.#...', '..#..', '...#.', '...#.', '...#.', '..#..', '.#...'],
  '/': ['.....', '....#', '...#.', '..#..', '.#...', '#....', '.....'],
};

/** Every character the font draws (lowercase letters are drawn uppercase). */
export const fontCharacters: string = Object.keys(GLYPHS).join('');

/**
 * The 7 rows of a character's glyph, each a string of 5 `#` (ink) or `.` (background).
 *
 * @throws LevelskipError `INVALID_OPTION` for a character the font does not have.
 */
export function glyphRows(character: string): readonly string[] {
  const glyph = GLYPHS[character.toUpperCase()];
  if (glyph === undefined) {
    throw new LevelskipError(
      'INVALID_OPTION',
      `the label font has no glyph for ${JSON.stringify(character)}; labels may use letters, digits, space and ${JSON.stringify('=.,:-+_%()/')}`,
    );
  }
  return glyph;
}

/** Checks that the font can draw every character of `text` (throws like `glyphRows`). */
export function assertDrawable(text: string): void {
  for (const character of text) glyphRows(character);
}

/** Width in pixels of `text` drawn at `scale` (no trailing blank column). */
export function textWidth(text: string, scale: number): number {
  const length = [...text].length;
  return length === 0 ? 0 : (length * glyphAdvance - 1) * scale;
}

/** An 8-bit canvas with interleaved channels (1 = gray, 3 = RGB): `data[(y * width + x) * channels + c]`. */
export interface PixelCanvas {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/**
 * Draws `text` with its top-left corner at (x, y), each font pixel as a `scale`×`scale` square of
 * value `ink` (in every channel). Pixels outside the canvas are clipped; background pixels are left untouched.
 */
export function drawText(canvas: PixelCanvas, text: string, x: number, y: number, options: { readonly scale?: number; readonly ink?: number } = {}): void {
  const scale = options.scale ?? 1;
  const ink = options.ink ?? 0;
  let left = x;
  for (const character of text) {
    const rows = glyphRows(character);
    for (let row = 0; row < glyphHeight; row++) {
      const line = rows[row]!;
      for (let column = 0; column < glyphWidth; column++) {
        if (line[column] !== '#') continue;
        for (let dy = 0; dy < scale; dy++) {
          const py = y + row * scale + dy;
          if (py < 0 || py >= canvas.height) continue;
          for (let dx = 0; dx < scale; dx++) {
            const px = left + column * scale + dx;
            if (px < 0 || px >= canvas.width) continue;
            const base = (py * canvas.width + px) * canvas.channels;
            canvas.data.fill(ink, base, base + canvas.channels);
          }
        }
      }
    }
    left += glyphAdvance * scale;
  }
}
