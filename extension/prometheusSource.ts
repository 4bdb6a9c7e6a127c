// Where the Hosts view's stats come from when `fleet.prometheus.url` is set: the client with the
// credentials the settings name. Secrets never sit in settings: a bearer token comes from
// `fleet.prometheus.tokenFile` (0600) or the editor's SecretStorage, a basic-auth password from
// SecretStorage (Fleet: Set Prometheus Credentials…).
import * as vscode from 'vscode';
import { defaultJob, type PrometheusSource } from '../core/hosts/promStats';
import { checkJobName } from '../core/prometheus/jobName';
import { PrometheusClient, type PrometheusAuth } from '../core/prometheus/client';
import { readTokenFile } from '../core/token';

export const prometheusSecretKey = 'fleet.prometheus.secret';

export async function prometheusSource(secrets: vscode.SecretStorage): Promise<PrometheusSource | undefined> {
  const c = vscode.workspace.getConfiguration('fleet.prometheus');
  const url = c.get<string>('url', '').trim();
  if (!url) return undefined;
  const kind = c.get<'none' | 'basic' | 'bearer'>('auth', 'none');
  let auth: PrometheusAuth = { kind: 'none' };
  if (kind === 'bearer') {
    const file = c.get<string>('tokenFile', '').trim();
    const token = file ? readTokenFile(file) : await secrets.get(prometheusSecretKey);
    if (!token)
      throw new Error(
        'fleet.prometheus.auth is bearer: set fleet.prometheus.tokenFile or run Fleet: Set Prometheus Credentials…',
      );
    auth = { kind: 'bearer', token };
  } else if (kind === 'basic') {
    const user = c.get<string>('user', '').trim();
    const password = await secrets.get(prometheusSecretKey);
    if (!user || password === undefined)
      throw new Error(
        'fleet.prometheus.auth is basic: set fleet.prometheus.user and run Fleet: Set Prometheus Credentials…',
      );
    auth = { kind: 'basic', user, password };
  }
  return {
    client: new PrometheusClient(url, { auth, timeoutMs: 10_000 }),
    job: checkJobName(c.get<string>('job', defaultJob) || defaultJob),
  };
}

/** asks for the password or token without echo and keeps it in SecretStorage */
export async function setPrometheusCredentials(secrets: vscode.SecretStorage): Promise<void> {
  const kind = vscode.workspace.getConfiguration('fleet.prometheus').get<string>('auth', 'none');
  const value = await vscode.window.showInputBox({
    prompt:
      kind === 'basic'
        ? 'Prometheus password (kept in the editor secret storage)'
        : 'Prometheus bearer token (kept in the editor secret storage)',
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  await secrets.store(prometheusSecretKey, value);
}
