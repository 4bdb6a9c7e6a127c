// JSON Schemas (draft-07, what VS Code supports) generated from the zod schemas of the files
// users edit: service.json and fleet.json. The editor's own messages are in words: a pattern says
// what it expects (`patternErrorMessage`, the zod check's message) instead of showing the regex, and
// an object that takes no other fields names the fields it takes (`errorMessage`, which VS Code
// shows for an unknown field). Fleet's own checks (core/rollout/diagnostics.ts) add the rest.
import { z } from 'zod';
import { inventorySchema } from './inventory/fleetFile';
import { serviceSchema } from './rollout/schema';

interface CheckDef {
  check?: string;
  format?: string;
  error?: () => unknown;
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown> };

/** the message of a zod regex check on this schema, if it has one */
function regexMessage(schema: z.ZodType): string | undefined {
  const checks = (schema as unknown as { _zod: { def: { checks?: Array<{ _zod: { def: CheckDef } }> } } })._zod.def
    .checks;
  for (const c of checks ?? []) {
    const d = c._zod.def;
    const m = d.format === 'regex' ? d.error?.() : undefined;
    if (typeof m === 'string') return m;
  }
  return undefined;
}

function inWords(ctx: { zodSchema: z.ZodType; jsonSchema: JsonSchema }): void {
  const js = ctx.jsonSchema;
  // an empty default (LB, which HAProxy does without) is no value to offer in completions
  if (js.default === '') delete js.default;
  if (typeof js.pattern === 'string' && js.patternErrorMessage === undefined) {
    const m = regexMessage(ctx.zodSchema);
    if (m) js.patternErrorMessage = m;
  }
  if (js.additionalProperties === false && js.properties && js.errorMessage === undefined) {
    const fields = Object.keys(js.properties).filter((k) => k !== '$schema');
    js.errorMessage = `not a field here; the fields are ${fields.join(', ')}`;
  }
}

export function jsonSchemas(): Record<string, object> {
  const gen = (s: z.ZodType, title: string) => ({
    title,
    ...z.toJSONSchema(s, {
      target: 'draft-7',
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => inWords(ctx as unknown as { zodSchema: z.ZodType; jsonSchema: JsonSchema }),
    }),
  });
  return {
    'service.schema.json': gen(serviceSchema, 'Fleet rollout (service.json)'),
    'fleet.schema.json': gen(inventorySchema, 'Fleet inventory (fleet.json)'),
  };
}
