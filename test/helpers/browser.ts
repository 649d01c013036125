import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../../src/version';

/** Debian's chromium (installed by scripts/ensure-chromium.sh); CHROMIUM_PATH overrides. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) throw new Error('chromium is not installed: run `bash scripts/ensure-chromium.sh` (npm test does)');
  return found;
}

/** Headless chromium through playwright-core; no browser download, no sandbox (CI runs as root). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
  });
}

/** Where the browser tests save screenshots: `test-output/<suite>/` (git-ignored), or TEST_OUTPUT_DIR. */
export function screenshotDir(suite: string): string {
  const dir = join(process.env.TEST_OUTPUT_DIR ?? join(REPO_ROOT, 'test-output'), suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}
