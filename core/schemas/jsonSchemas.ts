// The JSON Schemas of the files users edit, service.json and fleet.json, generated from their zod
// schemas (core/jsonSchema.ts puts their messages in words; `npm run schemas` writes them to
// schemas/). Fleet's own checks (core/rollout/diagnostics.ts) add the rest. Its own room: it joins
// core/rollout and core/inventory, which know nothing of each other.
import { editorJsonSchema } from '../jsonSchema';
import { inventorySchema } from '../inventory/fleetFile';
import { serviceSchema } from '../rollout/schema';

export function jsonSchemas(): Record<string, object> {
  return {
    'service.schema.json': editorJsonSchema(serviceSchema, 'Fleet rollout (service.json)'),
    'fleet.schema.json': editorJsonSchema(inventorySchema, 'Fleet inventory (fleet.json)'),
  };
}
