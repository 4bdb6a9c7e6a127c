// openSession: a session the server refused for want of a free one ("open failed") is opened again
// after a short wait, a bounded number of times; any other failure is reported at once.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { isSessionRefused, openSession } from '../../core/ssh/sessionOpen';

const refused = () => new Error('(SSH) Channel open failure: open failed');

function opener(failures: Error[], ch = 'channel') {
  let calls = 0;
  const open = (cb: (err: Error | undefined, c: string) => void) => {
    const e = failures[calls++];
    setImmediate(() => cb(e, e ? '' : ch));
  };
  return { open, calls: () => calls };
}

describe('openSession', () => {
  it('opens again after the server said no session was free', async () => {
    const o = opener([refused(), refused()]);
    assert.equal(await openSession(o.open, (c) => c), 'channel');
    assert.equal(o.calls(), 3);
  });

  it('gives up after 5 attempts with the server’s refusal', async () => {
    const o = opener(Array.from({ length: 10 }, refused));
    await assert.rejects(
      openSession(o.open, (c) => c),
      /open failed/,
    );
    assert.equal(o.calls(), 5);
  });

  it('reports any other failure at once (a connection that is gone, a missing subsystem)', async () => {
    for (const e of [new Error('No response from server'), new Error('(SSH) Channel open failure: connect failed')]) {
      const o = opener([e]);
      await assert.rejects(
        openSession(o.open, (c) => c),
        (x) => x === e,
      );
      assert.equal(o.calls(), 1);
    }
    assert.equal(isSessionRefused(new Error('Not connected')), false);
  });

  it('a throw from the opener (ssh2 on a closed connection) is a rejection, not retried', async () => {
    const err = new Error('Not connected');
    await assert.rejects(
      openSession(
        () => {
          throw err;
        },
        (c) => c,
      ),
      (x) => x === err,
    );
  });

  it('sets the channel up inside the callback: an event emitted right after it is heard', async () => {
    // ssh2 emits a fast command's exit-status in the same tick as the channel's confirmation
    const ch = new EventEmitter();
    const code = await openSession<EventEmitter, number>(
      (cb) => {
        cb(undefined, ch);
        ch.emit('exit', 7);
      },
      (c) => new Promise((resolve) => c.once('exit', resolve)),
    );
    assert.equal(code, 7);
  });

  it('a failure of the setup is the caller’s, never a reason to open again', async () => {
    const o = opener([]);
    await assert.rejects(
      openSession(o.open, () => Promise.reject(new Error('(SSH) Channel open failure: open failed'))),
      /open failed/,
    );
    await assert.rejects(
      openSession(o.open, () => {
        throw new Error('setup threw');
      }),
      /setup threw/,
    );
    assert.equal(o.calls(), 2);
  });

  it('stops waiting when the signal aborts', async () => {
    const ctl = new AbortController();
    const o = opener(Array.from({ length: 10 }, refused));
    const p = openSession(o.open, (c) => c, ctl.signal);
    ctl.abort();
    await assert.rejects(p, /open failed/);
    assert.ok(o.calls() < 5);
  });
});
