import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Repository root, from the compiled location `dist/src/`. */
export const REPO_ROOT = join(__dirname, '..', '..');

export const VERSION: string = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
