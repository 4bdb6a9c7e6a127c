// Runs the Restricted Mode tests inside VS Code (extensionTestsPath entry point).
import { runMocha } from './mochaRun';
import { restrictedTests } from './restricted.test';

export function run(): Promise<void> {
  return runMocha('restricted.test', restrictedTests, 60_000);
}
