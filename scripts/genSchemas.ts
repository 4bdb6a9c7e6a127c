// Writes the JSON Schemas (draft-07) that VS Code validates service.json and fleet.json with,
// generated from the zod schemas (`npm run schemas`; a unit test checks they are current).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../core/schemas/jsonSchemas';

for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(__dirname, '..', 'schemas', name), JSON.stringify(schema, null, 2) + '\n');
  process.stdout.write(`schemas/${name}\n`);
}
