// The Fleet view's tooltip says when a host's key was trusted through a CA, and which.
import assert from 'node:assert/strict';
import { treeRoots } from '../../core/fleetView/treeModel';
import { type HostState } from '../../core/hosts/hostState';

describe('Fleet view: hosts trusted through a CA', () => {
  const host = (name: string, groups: string[] = []): HostState => ({ name, address: `u@${name}:22`, groups });
  const trust = (n: string) =>
    n === 'web1' ? 'host certificate signed by CA SHA256:abc (@cert-authority *.corp, known_hosts line 3)' : undefined;

  it('names the CA in the tooltip of a CA-trusted host, grouped or not, and says nothing for others', () => {
    for (const groups of [[], ['web']]) {
      const roots = treeRoots([host('web1', groups), host('db1', groups)], { hostKeyTrust: trust });
      const rows = groups.length ? roots[0].children! : roots;
      const web1 = rows.find((r) => r.label === 'web1')!;
      const db1 = rows.find((r) => r.label === 'db1')!;
      const text = web1.tooltipMarkdown!.replace(/\\(.)/g, '$1'); // Markdown escapes off
      assert.match(
        text,
        /host key trusted through a CA: host certificate signed by CA SHA256:abc \(@cert-authority \*\.corp, known_hosts line 3\)/,
      );
      assert.doesNotMatch(db1.tooltipMarkdown!, /CA/);
    }
  });
});
