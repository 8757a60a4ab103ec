/**
 * A minimal test runner for the extension host (where `vscode` is importable). node:test
 * cannot run in-process there on Node 20, and the suite is a handful of wiring checks, so a
 * list of named async functions run in order is enough. Failures are collected and reported
 * together; `runIntegrationTests` rejects when any failed, which fails @vscode/test-electron.
 */

/** One named check. */
export interface IntegrationTest {
  readonly name: string;
  readonly run: () => Promise<void> | void;
}

/** Runs the tests in order, logging `ok`/`not ok` lines; rejects listing the failures. */
export async function runIntegrationTests(suite: string, tests: readonly IntegrationTest[], log: (line: string) => void = console.log): Promise<void> {
  const failures: string[] = [];
  for (const test of tests) {
    const started = performance.now();
    try {
      await test.run();
      log(`ok - ${suite}: ${test.name} (${(performance.now() - started).toFixed(0)} ms)`);
    } catch (error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${test.name}: ${detail}`);
      log(`not ok - ${suite}: ${test.name}\n${detail}`);
    }
  }
  log(`# ${suite}: ${tests.length - failures.length}/${tests.length} passed`);
  if (failures.length > 0) throw new Error(`${failures.length} integration test(s) failed:\n${failures.join('\n')}`);
}

/** Polls `condition` until it is true or `timeoutMs` passes. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
