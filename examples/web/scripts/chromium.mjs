/**
 * Finds and starts the system's Chromium for puppeteer-core (nothing downloads a browser): the
 * `CHROMIUM_PATH` environment variable, else the usual Debian/Ubuntu paths. Headless, with
 * WebGPU exposed (`--enable-unsafe-webgpu`: SwiftShader's adapter where there is no GPU) and
 * SwiftShader allowed for WebGL.
 */
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser's path, or an Error that says how to install one. */
export function chromiumPath() {
  const path = process.env.CHROMIUM_PATH ?? candidates.find((p) => existsSync(p));
  if (path === undefined || !existsSync(path)) {
    throw new Error(
      `No Chromium found (looked at ${process.env.CHROMIUM_PATH ?? candidates.join(', ')}). Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  return path;
}

/** Launches headless Chromium with the flags the demo's engines need. */
export function launchChromium() {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    protocolTimeout: 600_000,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--window-size=1280,1000'],
    defaultViewport: { width: 1280, height: 1000 },
  });
}
