// A zod schema as the JSON Schema (draft-07, what VS Code supports) the editor validates a file with,
// its messages in words: a pattern says what it expects (`patternErrorMessage`, the zod check's
// message) instead of showing the regex, and an object that takes no other fields names the fields it
// takes (`errorMessage`, which VS Code shows for an unknown field).
import { z } from 'zod';

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

/** `s` as an editor's JSON Schema titled `title` */
export function editorJsonSchema(s: z.ZodType, title: string): Record<string, unknown> {
  return {
    title,
    ...z.toJSONSchema(s, {
      target: 'draft-7',
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => inWords(ctx as unknown as { zodSchema: z.ZodType; jsonSchema: JsonSchema }),
    }),
  };
}
