// Small DOM helpers for the rollout panel: build elements, and update the page in place. A Slot
// rebuilds its children only when what they show changed (its key), so an update that changes one
// row leaves every other node, a button under the pointer, a selection in the log, where it was.

export function el(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/** a place on the page whose children are rebuilt only when `key` differs from the last one */
export class Slot {
  private key: string | undefined;
  constructor(readonly node: HTMLElement) {}

  /** `build` is called only when the key changed; it returns the new children (none hides the slot) */
  show(key: string, build: () => Array<Node | string>): void {
    if (key === this.key) return;
    this.key = key;
    const children = build();
    this.node.replaceChildren(...children);
    this.node.hidden = children.length === 0;
  }
}

/**
 * Rows of a table keyed by a name: a row is rebuilt only when its own key changed, rows are added
 * and removed by name, and their order follows the data.
 */
export class KeyedRows {
  private rows = new Map<string, { key: string; node: HTMLElement }>();
  constructor(readonly body: HTMLElement) {}

  update<T>(items: readonly T[], name: (t: T) => string, key: (t: T) => string, build: (t: T) => HTMLElement): void {
    const seen = new Set<string>();
    let prev: HTMLElement | null = null;
    for (const item of items) {
      const n = name(item);
      const k = key(item);
      seen.add(n);
      let row = this.rows.get(n);
      if (!row || row.key !== k) {
        const node = build(item);
        if (row) row.node.replaceWith(node);
        row = { key: k, node };
        this.rows.set(n, row);
      }
      const want: ChildNode | null = prev ? prev.nextSibling : this.body.firstChild;
      if (want !== row.node) this.body.insertBefore(row.node, want);
      prev = row.node;
    }
    for (const [n, row] of this.rows)
      if (!seen.has(n)) {
        row.node.remove();
        this.rows.delete(n);
      }
  }
}

/**
 * A log that only grows while the same rollout runs: new lines are appended, and the view follows
 * them only while the reader is at the bottom (someone reading or selecting above stays put).
 */
export class LogView {
  private lines: readonly string[] = [];
  constructor(readonly node: HTMLElement) {}

  update(lines: readonly string[]): void {
    const atBottom = this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight < 4;
    const n = this.lines.length;
    // the same log, longer: its first and its last known line are where they were
    const grows = lines.length >= n && (n === 0 || (lines[0] === this.lines[0] && lines[n - 1] === this.lines[n - 1]));
    if (!grows) this.node.textContent = lines.join('\n');
    else if (lines.length > this.lines.length)
      this.node.append((this.lines.length ? '\n' : '') + lines.slice(this.lines.length).join('\n'));
    this.lines = [...lines];
    if (atBottom || !grows) this.node.scrollTop = this.node.scrollHeight;
  }
}

/** names and addresses in prose (`web-v1.zip`, `127.0.0.1:9092`) kept whole: the text wraps only at spaces */
export function prose(text: string): Array<Node | string> {
  const out: Array<Node | string> = [];
  let last = 0;
  for (const m of text.matchAll(/[^\s]*[A-Za-z0-9][.:/-][^\s]*/g)) {
    if (m[0].length > 40) continue; // a long URL may break rather than overflow a narrow panel
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(el('span', { class: 'nowrap' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
