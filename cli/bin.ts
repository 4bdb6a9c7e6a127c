// Entry point of dist/cli.js, the `fleet` command.
import { main } from './main';

main(process.argv).then((code) => {
  process.exitCode = code;
});
