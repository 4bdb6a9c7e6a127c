// The `fleet` command: dist/cli-main.js, run by dist/cli.js (cli/loader.ts) with a V8 code cache.
import { main } from './main';

main().then((code) => {
  process.exitCode = code;
});
