// The package's TypeScript declarations, generated from the library's option types
// (crate::options, tsify) with the hand-written rest (crate/src/wasm/api.d.ts): the
// README's examples compile against them as written, and misspelt options do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const tests = fileURLToPath(new URL('..', import.meta.url));
const tsc = `${tests}node_modules/.bin/tsc`;

/** tsc's diagnostics as `file(line,col): error ...` lines, and whether it passed. */
function compile(args) {
  try {
    execFileSync(tsc, args, { cwd: tests, encoding: 'utf8', stdio: 'pipe' });
    return { ok: true, errors: [] };
  } catch (e) {
    return { ok: false, errors: `${e.stdout}${e.stderr}`.split('\n').filter((l) => l.includes('error TS')) };
  }
}

test("the README's examples type-check against the generated declarations", () => {
  const { ok, errors } = compile(['-p', 'types/tsconfig.json']);
  assert.ok(ok, errors.join('\n'));
});

test('a misspelt option or value is a type error, in every call that takes options', () => {
  const file = 'types/misspelt.ts';
  const expected = readFileSync(`${tests}${file}`, 'utf8').split('\n')
    .map((line, i) => (line.endsWith('// error') ? i + 1 : null)).filter((n) => n !== null);
  const { errors } = compile(['--strict', '--noEmit', '--target', 'es2022', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--lib', 'es2022,dom', file]);
  const lines = errors.map((e) => {
    const at = e.match(/^types\/misspelt\.ts\((\d+),/);
    assert.ok(at, `an error outside the test file: ${e}`);
    return Number(at[1]);
  });
  assert.deepEqual([...new Set(lines)].sort((a, b) => a - b), expected, errors.join('\n'));
});
