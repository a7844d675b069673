/**
 * Plain-text tables for terminal output: a header row, a rule, and padded columns (numbers
 * right-aligned by default). Every command that prints a table also offers `--json`.
 */

export interface TableColumn {
  readonly header: string;
  /** Default: `right` when every cell of the column is a number, else `left`. */
  readonly align?: 'left' | 'right';
}

export type TableCell = string | number;

/** Formats rows under headers; each line ends with a newline. */
export function formatTable(columns: readonly (TableColumn | string)[], rows: readonly (readonly TableCell[])[]): string {
  const specs = columns.map((column) => (typeof column === 'string' ? { header: column } : column));
  const text = rows.map((row) => specs.map((_, i) => String(row[i] ?? '')));
  const aligns = specs.map((spec, i) => spec.align ?? (rows.length > 0 && rows.every((row) => typeof row[i] === 'number') ? 'right' : 'left'));
  const widths = specs.map((spec, i) => Math.max(spec.header.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (aligns[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(specs.map((spec) => spec.header)), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

/** `12.3 %` from a fraction. */
export function formatPercent(fraction: number, digits = 1): string {
  return `${(100 * fraction).toFixed(digits)} %`;
}

/** `1.23 GFLOPs`, `456.7 MFLOPs`, `12.0 kFLOPs`. */
export function formatFlops(flops: number): string {
  if (flops >= 1e9) return `${(flops / 1e9).toFixed(2)} GFLOPs`;
  if (flops >= 1e6) return `${(flops / 1e6).toFixed(1)} MFLOPs`;
  if (flops >= 1e3) return `${(flops / 1e3).toFixed(1)} kFLOPs`;
  return `${flops} FLOPs`;
}

/** `2,997,793`. */
export function formatInteger(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `12.3 MB`, `45.6 kB`, `789 B`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
