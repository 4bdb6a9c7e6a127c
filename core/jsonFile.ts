// Reads a JSON input file and validates it with a zod schema. Every failure is a ValidationError
// naming the file, the field (as a path like `hosts[2].port`) and what is expected.
import { readFileSync } from 'node:fs';
import { stripComments } from 'jsonc-parser';
import type { z } from 'zod';
import { cannotRead, ValidationError } from './errors';

/** `comments`: the file may hold line and block comments (fleet.json: its template explains itself) */
export function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  opts: { comments?: boolean } = {},
): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(file, '', cannotRead(e));
  }
  return parseJsonText(opts.comments ? stripComments(text) : text, file, schema);
}

export function parseJsonText<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(file, '', `not valid JSON: ${(e as Error).message}`);
  }
  return validate(data, file, schema);
}

export function validate<S extends z.ZodType>(data: unknown, file: string, schema: S): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const [first, ...more] = r.error.issues.map(describe);
  throw new ValidationError(file, first.field, first.expected, more);
}

function describe(issue: z.core.$ZodIssue): { field: string; expected: string } {
  if (issue.code === 'unrecognized_keys')
    return {
      field: fieldPath([...issue.path, issue.keys[0]]),
      expected: `unknown field${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}; check its spelling`,
    };
  return { field: fieldPath(issue.path), expected: issue.message };
}

export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
