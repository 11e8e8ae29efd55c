// Reads the logs scripts/test.sh wrote (phases.tsv and one log per phase) and prints the
// phase table, the ten slowest tests and one closing count of every suite together.
// Usage: node scripts/test-report.mjs tests/output/ci
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'tests/output/ci';
const minutes = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

const phases = readFileSync(join(dir, 'phases.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
console.log('\n== phases (wall time, m:ss)');
for (const [name, secs, result] of phases) {
  const time = secs === '?' ? '?' : minutes(Number(secs));
  console.log(`${name.padEnd(56)} ${time.padStart(7)}  ${result}`);
}

// Per-test times: nextest's `PASS [  1.234s] (3/95) ticketsr::integration cli::eval` lines
// and node's spec reporter's `✔ name (1234.5ms)`. The wasm runner reports no per-test time.
const tests = [];
let passed = 0;
let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
  const suite = file.replace(/\.log$/, '');
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    let m = line.match(/^\s*(PASS|FAIL|TIMEOUT|SIGSEGV|SIGABRT)\s*\[\s*([\d.]+)s\]\s*(?:\(\s*\d+\/\d+\)\s*)?(.+)$/);
    if (m) tests.push({ suite, name: m[3].trim(), seconds: Number(m[2]) });
    m = line.match(/^\s*[✔✖]\s+(.+?)\s+\(([\d.]+)ms\)$/);
    if (m && suite.startsWith('e2e')) tests.push({ suite, name: m[1], seconds: Number(m[2]) / 1000 });
    // Closing counts: nextest, the wasm runner (libtest's format), node's spec reporter.
    m = line.match(/^\s*Summary \[.*\] (\d+) tests? run: (\d+) passed/);
    if (m) { passed += Number(m[2]); failed += Number(m[1]) - Number(m[2]); }
    m = line.match(/^test result: \w+\. (\d+) passed; (\d+) failed/);
    if (m) { passed += Number(m[1]); failed += Number(m[2]); }
    m = line.match(/^ℹ (pass|fail) (\d+)$/);
    if (m) { if (m[1] === 'pass') passed += Number(m[2]); else failed += Number(m[2]); }
  }
}
tests.sort((a, b) => b.seconds - a.seconds);
console.log('\n== ten slowest tests (s)');
for (const t of tests.slice(0, 10)) console.log(`${t.seconds.toFixed(1).padStart(7)}  ${t.suite}: ${t.name}`);
writeFileSync(join(dir, 'tests.tsv'), tests.map((t) => `${t.suite}\t${t.name}\t${t.seconds}`).join('\n') + '\n');
console.log(`\ntests: ${passed} passed, ${failed} failed`);
