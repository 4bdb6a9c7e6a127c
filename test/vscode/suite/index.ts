// Runs the extension-host tests with mocha 11 inside VS Code (extensionTestsPath entry point).
import Mocha from 'mocha';
import { fleetTests } from './fleet.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'fleet.test', mocha);
  fleetTests();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension test(s) failed`)) : resolve()));
  });
}
