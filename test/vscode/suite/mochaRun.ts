// Runs mocha 11 inside VS Code's extension host (an extensionTestsPath entry point calls this):
// `register` declares the suite's describe/it blocks.
import Mocha from 'mocha';

export function runMocha(name: string, register: () => void, timeout: number): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, name, mocha);
  register();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension test(s) failed`)) : resolve()));
  });
}
