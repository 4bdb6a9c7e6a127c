// fleet.json: the inventory of hosts, with groups. The zod schema is the single source;
// the editor's JSON Schema is generated from it.
import { z } from 'zod';
import { readJsonFile } from '../jsonFile';

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a name of letters, digits, . _ - (at most 64)');

export const inventoryHostSchema = z
  .object({
    name: name.describe('how the host is shown and addressed in Fleet'),
    host: z.string().min(1, 'expected a host name or address').describe('address or name to connect to'),
    port: z.number().int().min(1).max(65535).optional().describe('SSH port (default 22)'),
    user: z.string().min(1).optional().describe('SSH user'),
    identityFile: z.string().optional().describe('private key file'),
    groups: z.array(name).default([]).describe('groups this host belongs to'),
    agent: z
      .string()
      .optional()
      .describe(
        'agent endpoint: ssh://user@host[:port] or https://host:port (TLS, its certificate pinned by fleet agent deploy --listen)',
      ),
  })
  .strict();

export const inventorySchema = z
  .object({
    $schema: z.string().optional(),
    defaults: z
      .object({
        user: z.string().min(1).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        identityFile: z.string().optional(),
      })
      .strict()
      .default({}),
    hosts: z.array(inventoryHostSchema).default([]),
  })
  .strict();

export type Inventory = z.output<typeof inventorySchema>;
export type InventoryHost = z.output<typeof inventoryHostSchema>;

export function loadInventory(file: string): Inventory {
  return readJsonFile(file, inventorySchema, { comments: true });
}

/** the hosts of `group`, or all hosts when group is undefined; `target` strings as the CLI takes them */
export function inventoryHosts(inv: Inventory, group?: string): InventoryHost[] {
  return group === undefined ? inv.hosts : inv.hosts.filter((h) => h.groups.includes(group));
}
