/** What global-setup.ts hands the tests: the app made from the packed packages. */
export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  /** The tarball. */
  readonly file: string;
  readonly bytes: number;
  readonly files: number;
  /** src/ has a file newer than dist/: the tarball may not hold the latest code. */
  readonly stale: boolean;
}

export interface PackedApp {
  readonly directory: string;
  readonly packages: readonly PackedPackage[];
  readonly packMs: number;
  readonly installMs: number;
  readonly installer: 'pnpm' | 'npm';
  /** The install command that succeeded. */
  readonly install: string;
  readonly reused: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packedApp: PackedApp;
  }
}
