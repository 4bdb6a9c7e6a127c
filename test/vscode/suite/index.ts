// Runs the extension-host tests with mocha 11 inside VS Code (extensionTestsPath entry point).
import { fleetTests } from './fleet.test';
import { runMocha } from './mochaRun';

export function run(): Promise<void> {
  return runMocha('fleet.test', fleetTests, 120_000);
}
