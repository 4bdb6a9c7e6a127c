// Fleet's version: put into every bundle by esbuild (`define`), read from package.json when the
// sources run directly (tsx in tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

declare const FLEET_VERSION: string | undefined;

function fromPackageJson(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const fleetVersion: string = typeof FLEET_VERSION === 'string' ? FLEET_VERSION : fromPackageJson();
