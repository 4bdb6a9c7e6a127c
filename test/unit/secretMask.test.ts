// Secrets sent by expect never show in what Fleet prints of a session, whatever the terminal does
// with them: echoed as sent, with control bytes in caret form (^A), newlines as CR LF, and cut into
// reads anywhere, a multi-byte character included. The session's path is used as expect uses it:
// one StringDecoder for the stream, the ExpectBuffer's transcript, then the mask.
import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import fc from 'fast-check';
import { ExpectBuffer } from '../../core/ssh/expectMatcher';
import { echoForms, mask, SecretMask } from '../../core/ssh/secretMask';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';

/** what a session shows of `bytes` read in the given pieces, masked */
function shown(bytes: Buffer, cuts: number[], secrets: string[]): string {
  const m = new SecretMask();
  for (const s of secrets) m.add(s);
  const dec = new StringDecoder('utf8');
  const buf = new ExpectBuffer();
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    buf.feed(dec.write(bytes.subarray(at, c)));
    at = c;
  }
  buf.feed(dec.end());
  return m.hide(buf.transcript);
}

describe('secret masking', () => {
  it('masks a control byte echoed in caret form (pa^Ass)', () => {
    const out = shown(Buffer.from('Password: pa^Ass\r\nwelcome\r\n'), [12], ['pa\x01ss']);
    assert.equal(out, `Password: ${mask}\nwelcome\n`);
  });

  it('masks a non-ASCII secret cut between two reads inside a character', () => {
    const bytes = Buffer.from('token: pässwört!\n');
    const inside = bytes.indexOf(Buffer.from('ä')) + 1; // between the two bytes of ä
    assert.equal(shown(bytes, [inside], ['pässwört']), `token: ${mask}!\n`);
  });

  it('echo forms: as sent, CR LF for newlines, caret for controls, DEL as ^?', () => {
    assert.deepEqual(echoForms('a\x01b\x7f'), ['a\x01b\x7f', 'a^Ab^?']);
    assert.ok(echoForms('a\nb').includes('a\r\nb'));
  });

  it('property: any secret, echoed any way, cut into reads anywhere, never shows', () => {
    // printable text around it that cannot contain the secret's characters
    const around = fc.string({ unit: fc.constantFrom(...'#= '), maxLength: 8 });
    const secret = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 24 })
      // ESC starts a sequence the transcript drops (a named limit), # = and space are the filler
      .filter((s) => ![...s].some((c) => '\u001b#= \r'.includes(c)) && s.trim().length > 0);
    fc.assert(
      fc.property(
        around,
        secret,
        around,
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pre, s, post, form, rawCuts) => {
          const echoed = echoForms(s)[Math.min(form, echoForms(s).length - 1)];
          const bytes = Buffer.from(`${pre}${echoed}${post}`);
          const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const out = shown(bytes, cuts, [s]);
          assert.equal(out, `${pre}${mask}${post}`, JSON.stringify({ s, echoed, cuts }));
        },
      ),
      { seed: fuzzSeed(2607), numRuns: fuzzRuns(200) },
    );
  });
});
