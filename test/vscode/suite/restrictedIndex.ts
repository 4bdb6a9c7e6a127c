// Runs the Restricted Mode tests with mocha 11 inside VS Code (extensionTestsPath entry point).
import Mocha from 'mocha';
import { restrictedTests } from './restricted.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'restricted.test', mocha);
  restrictedTests();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension test(s) failed`)) : resolve()));
  });
}
