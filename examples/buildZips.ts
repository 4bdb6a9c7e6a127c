// `npm run build:examples`: writes the sample apps' zips to examples/dist/ and prints their paths.
import { buildExamples } from './build';

buildExamples().then((o) => {
  for (const f of Object.values(o)) process.stdout.write(`${f}\n`);
});
