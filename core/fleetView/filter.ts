// The Fleet view's filter: words a person types, every one of which a host must match. `group:web`,
// `state:down` (up, down, unknown), `agent:no` (or yes), anything else a part of the host's name
// or address; case does not matter.
import { liveness, type HostState } from '../hosts/hostState';

export interface HostFilter {
  /** as typed, for the view's message */
  text: string;
  terms: Array<{ key: 'group' | 'state' | 'agent' | 'text'; value: string }>;
}

export function parseFilter(text: string): HostFilter | undefined {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return undefined;
  return {
    text: text.trim(),
    terms: words.map((w) => {
      const m = /^(group|state|agent):(.+)$/.exec(w);
      return m ? { key: m[1] as 'group' | 'state' | 'agent', value: m[2] } : { key: 'text' as const, value: w };
    }),
  };
}

export function matchesFilter(h: HostState, f: HostFilter): boolean {
  const agent = h.probe?.ok ? (h.probe.probe.agentSocket ? 'yes' : 'no') : undefined;
  return f.terms.every((t) => {
    switch (t.key) {
      case 'group':
        return h.groups.some((g) => g.toLowerCase() === t.value);
      case 'state':
        return liveness(h) === t.value;
      case 'agent':
        return agent === t.value;
      case 'text':
        return h.name.toLowerCase().includes(t.value) || h.address.toLowerCase().includes(t.value);
    }
  });
}
