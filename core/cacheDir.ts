// The user's cache directory for Fleet (agent runtimes, the CLI's V8 code cache).
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** `$FLEET_CACHE_DIR`, else the platform's cache directory + `/fleet` (XDG on Linux) */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home = homedir(),
): string {
  if (env.FLEET_CACHE_DIR) return env.FLEET_CACHE_DIR;
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'fleet');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'fleet', 'Cache');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'fleet');
}
