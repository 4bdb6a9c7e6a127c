// The client connection's state table (lb/front/connectionStates.ts) as data: every state says what
// the client leaving does, `closed` takes every event and stays closed, every state is reachable from
// `idle`, and from every state the connection can end.
import assert from 'node:assert/strict';
import { events, next, states, table, type ConnState } from '../../lb/front/connectionStates';

function reachable(from: ConnState): Set<ConnState> {
  const seen = new Set<ConnState>([from]);
  const todo = [from];
  while (todo.length) {
    const s = todo.pop()!;
    for (const to of Object.values(table[s]))
      if (to && !seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
  }
  return seen;
}

describe('LB client connection: the state table', () => {
  it('every state takes the client leaving, and goes to closed', () => {
    for (const s of states) assert.equal(next(s, 'clientGone'), 'closed', s);
  });

  it('closed takes every event and stays closed', () => {
    for (const e of events) assert.equal(next('closed', e), 'closed', e);
  });

  it('every state is reachable from idle, and every state can reach closed', () => {
    assert.deepEqual([...reachable('idle')].sort(), [...states].sort());
    for (const s of states) assert.ok(reachable(s).has('closed'), `${s} cannot end`);
  });

  it('names only known states and events', () => {
    for (const s of states)
      for (const [e, to] of Object.entries(table[s])) {
        assert.ok((events as readonly string[]).includes(e), `${s}: unknown event ${e}`);
        assert.ok(to && (states as readonly string[]).includes(to), `${s} ${e}: unknown state ${to}`);
      }
  });

  it('a request is read only from idle or head: no state past a head takes another head', () => {
    for (const s of states)
      if (s !== 'idle' && s !== 'head' && s !== 'closed')
        for (const e of ['headStart', 'headWhole', 'headWholeNoBody', 'headBad'] as const)
          assert.equal(next(s, e), undefined, `${s} takes ${e}`);
  });
});
