// service.json checked as a person edits it: every problem with its place in the text (offsets),
// in words, and a quick fix where one is obvious. Two kinds: what the JSON Schema says too
// (`schema`: the editor's own check shows those for a file named service.json, so the extension
// publishes them only for files the schema does not cover), and what only Fleet knows (`fleet`):
// the files it names exist and lie beside it (fileChecks.ts), budgets that contradict each other
// (budgetChecks.ts), a misspelt field (did you mean CanaryNum?), and, when asked, whether its load
// balancer answers (a warning). Pure of vscode; reads only the files service.json names.
import { advice } from '../advice';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { fieldPath } from '../jsonFile';
import { editorJsonSchema } from '../jsonSchema';
import { budgetChecks } from './budgetChecks';
import { fileChecks } from './fileChecks';
import { lbProblem, lbTarget } from './lbReachable';
import { nearestName } from './nearestName';
import { serviceSchema, type ServiceConfig } from './schema';

export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

export interface ServiceDiagnostic {
  severity: 'error' | 'warning' | 'info';
  /** the field, as messages name it (`Backends[2].Addr`); '' for the whole file */
  field: string;
  message: string;
  offset: number;
  length: number;
  source: 'schema' | 'fleet';
  fixes?: QuickFix[];
}

/** a found problem before it has a place: the JSON path it is about (a key, or a value) */
export interface Finding {
  severity: ServiceDiagnostic['severity'];
  path: Array<string | number>;
  message: string;
  /** point at the property's name instead of its value */
  atKey?: boolean;
  source?: ServiceDiagnostic['source'];
  fixes?: QuickFix[];
}

/** what the checks work on: the file, its text, the parsed tree and (when valid) the config */
export interface CheckInput {
  file: string;
  text: string;
  root: Node;
  /** the raw JSON value */
  value: Record<string, unknown>;
  /** set when the schema accepts the file */
  config?: ServiceConfig;
}

export interface CheckOptions {
  /** also try to connect to the load balancer (a warning when nothing answers) */
  lb?: boolean;
}

export async function checkService(file: string, text: string, opts: CheckOptions = {}): Promise<ServiceDiagnostic[]> {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  if (errors.length || !root)
    return errors.slice(0, 20).map((e) => ({
      severity: 'error',
      field: '',
      message: `not valid JSON: ${parseWords[printParseErrorCode(e.error)] ?? printParseErrorCode(e.error)}`,
      offset: Math.min(e.offset, text.length),
      // at least one character to underline, never past the end (an error at the end of the text)
      length: Math.max(0, Math.min(Math.max(1, e.length), text.length - e.offset)),
      source: 'schema',
    }));
  if (root.type !== 'object')
    return [
      {
        severity: 'error',
        field: '',
        message: 'expected an object: { "Src": …, "Backends": [ … ] }',
        offset: root.offset,
        length: 1,
        source: 'schema',
      },
    ];
  const value = JSON.parse(text) as Record<string, unknown>;
  const parsed = serviceSchema.safeParse(value);
  // budgets are checked also when the only problems are misspelt fields: the rest still means something
  const config = parsed.success ? parsed.data : withoutUnknownFields(value, parsed.error.issues);
  const input: CheckInput = { file, text, root, value, ...(config ? { config } : {}) };
  const findings: Finding[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((i) => schemaFinding(i, input))),
    ...(await fileChecks(input)),
    ...budgetChecks(input),
    ...(opts.lb ? await lbFindings(input) : []),
  ];
  return findings.map((f) => place(f, root));
}

const parseWords: Record<string, string> = {
  InvalidSymbol: 'an unexpected character',
  PropertyNameExpected: 'a field name in double quotes expected',
  ValueExpected: 'a value expected',
  ColonExpected: 'a colon expected',
  CommaExpected: 'a comma expected',
  CloseBraceExpected: 'a closing } expected',
  CloseBracketExpected: 'a closing ] expected',
  EndOfFileExpected: 'nothing may follow the closing }',
  InvalidCommentToken: 'comments are not allowed in service.json',
};

/** the config once the fields the schema does not know are left out, if that makes it valid */
function withoutUnknownFields(
  value: Record<string, unknown>,
  issues: readonly z.core.$ZodIssue[],
): ServiceConfig | undefined {
  if (!issues.every((i) => i.code === 'unrecognized_keys')) return undefined;
  const copy = structuredClone(value);
  for (const i of issues) {
    let obj: unknown = copy;
    for (const p of i.path) obj = (obj as Record<PropertyKey, unknown>)?.[p as PropertyKey];
    if (obj && typeof obj === 'object' && i.code === 'unrecognized_keys')
      for (const k of i.keys) delete (obj as Record<string, unknown>)[k];
  }
  const again = serviceSchema.safeParse(copy);
  return again.success ? again.data : undefined;
}

/** one zod issue as a finding, in words; a misspelt field gets its suggestion and a quick fix */
function schemaFinding(issue: z.core.$ZodIssue, input: CheckInput): Finding[] {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownField(path, key, input));
  // the refinements (`LBKind haproxy needs …`, a backend listed twice) are Fleet's: no JSON Schema says them
  const source = issue.code === 'custom' ? 'fleet' : 'schema';
  let message = issue.message;
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    const d = describeAt(path);
    message = `missing field ${String(path.at(-1))}${d ? `: ${d}` : ''}`;
  } else if (issue.code === 'invalid_type') message = `expected ${article(issue.expected)}`;
  else if (issue.code === 'invalid_union') message = `expected ${describeAt(path) ?? 'another value'}`;
  return [{ severity: 'error', path, message, source }];
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** `Canarys`: not a field; the nearest known one, with a quick fix that renames it */
function unknownField(objPath: Array<string | number>, key: string, input: CheckInput): Finding {
  const known = fieldsAt(objPath);
  const obj = findNodeAtLocation(input.root, objPath);
  const have = new Set((obj?.children ?? []).map((p) => p.children?.[0]?.value as string));
  const near = nearestName(
    key,
    known.filter((k) => !have.has(k)),
  );
  const keyNode = obj?.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0];
  return {
    severity: 'error',
    path: [...objPath, key],
    atKey: true,
    message: near
      ? `${key} is not a field of service.json: did you mean ${near}?`
      : `${key} is not a field here; the fields are ${known.join(', ')}`,
    source: near ? 'fleet' : 'schema',
    ...(near && keyNode
      ? {
          fixes: [
            {
              title: `Rename ${key} to ${near}`,
              edits: [{ offset: keyNode.offset, length: keyNode.length, content: JSON.stringify(near) }],
            },
          ],
        }
      : {}),
  };
}

let schemaCache: Record<string, unknown> | undefined;

/** the JSON Schema node at a path (through anyOf, items, defaults) */
function schemaAt(path: Array<string | number>): Record<string, unknown> | undefined {
  schemaCache ??= editorJsonSchema(serviceSchema, 'Fleet rollout (service.json)');
  let nodes: Array<Record<string, unknown>> = [schemaCache];
  for (const p of path) {
    const next: Array<Record<string, unknown>> = [];
    for (const n of nodes.flatMap((x) => [x, ...((x.anyOf as Array<Record<string, unknown>>) ?? [])])) {
      if (typeof p === 'number' && n.items) next.push(n.items as Record<string, unknown>);
      const props = n.properties as Record<string, Record<string, unknown>> | undefined;
      if (typeof p === 'string' && props?.[p]) next.push(props[p]);
    }
    nodes = next;
  }
  return (
    nodes.flatMap((x) => [x, ...((x.anyOf as Array<Record<string, unknown>>) ?? [])]).find((x) => x.properties) ??
    nodes[0]
  );
}

function fieldsAt(path: Array<string | number>): string[] {
  return Object.keys((schemaAt(path)?.properties as object | undefined) ?? {}).filter((k) => k !== '$schema');
}

function describeAt(path: Array<string | number>): string | undefined {
  const d = schemaAt(path)?.description;
  return typeof d === 'string' ? d : undefined;
}

/** the LB answers? A warning on LB (or HAProxySocket) when nothing accepts a connection there */
async function lbFindings(input: CheckInput): Promise<Finding[]> {
  const c = input.config;
  if (!c) return [];
  if (c.LBKind === 'haproxy') {
    if (!c.HAProxySocket) return [];
    const path = c.HAProxySocket.startsWith('/')
      ? c.HAProxySocket
      : `${input.file.replace(/[^/]*$/, '')}${c.HAProxySocket}`;
    const why = await lbProblem({ kind: 'unix', path, text: c.HAProxySocket });
    return why
      ? [
          {
            severity: 'warning',
            path: ['HAProxySocket'],
            message: `HAProxy's admin socket ${c.HAProxySocket} does not answer: ${why}; a rollout would stop before changing anything. Start HAProxy with "stats socket … level admin", or fix the path`,
          },
        ]
      : [];
  }
  const t = lbTarget(c.LB);
  const why = t && (await lbProblem(t));
  return why
    ? [
        {
          severity: 'warning',
          path: ['LB'],
          message: `the load balancer at ${c.LB} does not answer: ${why}; a rollout would stop before changing anything. Start it (${advice().startLb(c.LB)}), or fix LB`,
        },
      ]
    : [];
}

/** a finding at its place in the text: the value (or the key) at its path, else the nearest parent there is */
function place(f: Finding, root: Node): ServiceDiagnostic {
  let path = f.path;
  let node: Node | undefined;
  let atKey = f.atKey ?? false;
  for (;;) {
    node = findNodeAtLocation(root, path);
    if (node || path.length === 0) break;
    path = path.slice(0, -1);
    atKey = true; // a missing field: point at the name of the object that lacks it
  }
  node ??= root;
  if (atKey && node.parent?.type === 'property') node = node.parent.children![0];
  else if (atKey && node === root) node = { ...root, length: 1 };
  return {
    severity: f.severity,
    field: fieldPath(f.path),
    message: f.message,
    offset: node.offset,
    length: node.length,
    source: f.source ?? 'fleet',
    ...(f.fixes?.length ? { fixes: f.fixes } : {}),
  };
}
