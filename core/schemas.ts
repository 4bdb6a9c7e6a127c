// JSON Schemas (draft-07, what VS Code supports) generated from the zod schemas of the files
// users edit: service.json and fleet.json.
import { z } from 'zod';
import { inventorySchema } from './inventory/fleetFile';
import { serviceSchema } from './rollout/schema';

export function jsonSchemas(): Record<string, object> {
  const gen = (s: z.ZodType, title: string) => ({
    title,
    ...z.toJSONSchema(s, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
  });
  return {
    'service.schema.json': gen(serviceSchema, 'Fleet rollout (service.json)'),
    'fleet.schema.json': gen(inventorySchema, 'Fleet inventory (fleet.json)'),
  };
}
