import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOOKFLOW_OUTCOMES } from '../src/contracts';
import { REPO_ROOT } from '../src/version';

/** The README documents the one outcome vocabulary: same values, same meanings, nothing extra. */
describe('README outcome table', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

  it('lists every HookflowOutcome value with its meaning, and nothing else', () => {
    const header = readme.search(/^\| `HookflowOutcome` +\| meaning +\|$/m);
    assert.ok(header >= 0, 'the README has an outcome table');
    const lines = readme.slice(header).split('\n').slice(2);
    const rows = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith('|')),
    );
    const documented = Object.fromEntries(
      rows.map((row) => {
        const [value, meaning] = row
          .split('|')
          .slice(1, 3)
          .map((cell) => cell.trim());
        return [value!.replace(/`/g, ''), meaning];
      }),
    );
    assert.deepEqual(documented, { ...HOOKFLOW_OUTCOMES });
  });
});
