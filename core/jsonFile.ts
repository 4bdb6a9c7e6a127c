// Reads a JSON input file and validates it with a zod schema. Every failure is a ValidationError
// naming the file, the field (as a path like `hosts[2].port`) and what is expected.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ValidationError } from './errors';

export function readJsonFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(file, '', `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseJsonText(text, file, schema);
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
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return fail(
      file,
      fieldPath([...issue.path, key]),
      `unknown field${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}; check its spelling`,
    );
  }
  throw new ValidationError(file, fieldPath(issue.path), issue.message);
}

function fail(file: string, field: string, expected: string): never {
  throw new ValidationError(file, field, expected);
}

export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
