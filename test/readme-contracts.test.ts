import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES } from '../src/config';
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

/**
 * The README's configuration table and `.env.example` name exactly the variables `loadConfig`
 * reads: a new setting cannot go undocumented, and a removed one cannot linger.
 */
describe('configuration documentation', () => {
  const sorted = (names: Iterable<string>) => [...new Set(names)].sort();
  const variable = /^[A-Z][A-Z0-9_]+$/;

  it('lists every variable of loadConfig in the README configuration table, and nothing else', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const header = readme.search(/^\| variable +\| default +\| meaning +\|$/m);
    assert.ok(header >= 0, 'the README has a configuration table');
    const lines = readme.slice(header).split('\n').slice(2);
    const rows = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith('|')),
    );
    const documented = rows.flatMap((row) =>
      [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!).filter((name) => variable.test(name)),
    );
    assert.deepEqual(sorted(documented), sorted(CONFIG_VARIABLES));
  });

  it('lists every variable of loadConfig in .env.example, and nothing else', () => {
    const example = readFileSync(join(REPO_ROOT, '.env.example'), 'utf8');
    const listed = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    assert.deepEqual(sorted(listed), sorted(CONFIG_VARIABLES));
  });
});
