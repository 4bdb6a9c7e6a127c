// The panel's History view: the newest entries of every agent's history of the package (who
// deployed what to which backend, when), and what could not be read. A collapsible section of its
// own at the end of the page, rebuilt only when the entries change.
import type { FleetPanelData } from '../../core/rollout/fleetPanel';
import { el, prose } from './dom';

let section: HTMLElement | undefined;
let key = '';
let open = false;

export function renderHistory(app: HTMLElement, fleet: FleetPanelData | { error: string } | undefined): void {
  const k = JSON.stringify(fleet && ('error' in fleet ? fleet : [fleet.history, fleet.warnings]));
  if (section?.isConnected && k === key) return;
  key = k;
  const d = el('details', { class: 'history', id: 'history', ...(open ? { open: '' } : {}) });
  d.addEventListener('toggle', () => (open = (d as HTMLDetailsElement).open));
  d.append(el('summary', {}, 'History (every agent)'));
  if (!fleet) d.append(el('div', { class: 'muted small' }, 'reading the agents…'));
  else if ('error' in fleet) d.append(el('div', { class: 'muted small' }, ...prose(fleet.error)));
  else {
    if (!fleet.history.length)
      d.append(el('div', { class: 'muted small' }, 'no history of this package on its agents'));
    else
      d.append(
        el(
          'table',
          { class: 'small' },
          el('tr', {}, ...['when', 'backend', 'what', 'outcome', 'package', 'by'].map((h) => el('th', {}, h))),
          ...fleet.history.map((h) =>
            el(
              'tr',
              h.detail ? { title: h.detail } : {},
              el('td', {}, h.at.slice(0, 19).replace('T', ' ')),
              el('td', {}, h.backends),
              el('td', {}, h.action),
              el('td', {}, h.outcome),
              el('td', {}, h.sha),
              el('td', {}, `${h.origin}, ${h.by}`),
            ),
          ),
        ),
      );
    for (const w of fleet.warnings) d.append(el('div', { class: 'muted small' }, ...prose(w)));
  }
  if (section?.isConnected) section.replaceWith(d);
  else app.append(d);
  section = d;
}
