// Entry point of dist/cli.js, the `fleet` command.
import { main } from './main';

main().then((code) => {
  process.exitCode = code;
});
