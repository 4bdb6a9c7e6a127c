// The KeyObject signer answers as ssh2's own sign does, for every key type ssh2 can hold.
import assert from 'node:assert/strict';
import { utils, type ParsedKey } from 'ssh2';
import { signWithKeyObject } from '../../core/ssh/keyObjectSign';

function pair(type: 'ed25519' | 'ecdsa' | 'rsa', bits?: number): [ParsedKey, ParsedKey] {
  const { private: pem } = utils.generateKeyPairSync(type, bits ? { bits } : {});
  const parse = () => {
    const k = utils.parseKey(pem);
    if (k instanceof Error || Array.isArray(k)) throw new Error(`cannot parse the ${type} key`);
    return k;
  };
  return [parse(), parse()];
}

describe('signWithKeyObject', () => {
  const data = Buffer.from('session id and userauth request');

  it('ed25519: the same bytes as ssh2 (the signature is deterministic)', () => {
    const [theirs, ours] = pair('ed25519');
    signWithKeyObject(ours);
    assert.notEqual(ours.sign, theirs.sign);
    assert.deepEqual(ours.sign(data), theirs.sign(data));
  });

  for (const [type, bits, algos] of [
    ['rsa', 2048, [undefined, 'sha256', 'sha512']],
    ['ecdsa', 256, [undefined]],
    ['ecdsa', 521, [undefined]],
  ] as const) {
    it(`${type} ${bits}: ssh2's own verify accepts every signature, default hash and named`, () => {
      const [theirs, ours] = pair(type, bits);
      signWithKeyObject(ours);
      assert.notEqual(ours.sign, theirs.sign);
      for (const algo of algos) assert.equal(theirs.verify(data, ours.sign(data, algo), algo), true, String(algo));
      // rsa with sha1 (ssh2's default for ssh-rsa) and rsa-sha2-256 must differ
      if (type === 'rsa') assert.notDeepEqual(ours.sign(data), ours.sign(data, 'sha256'));
    });
  }

  it('returns an Error, never throws, as ssh2 does', () => {
    const [, ours] = pair('ed25519');
    signWithKeyObject(ours);
    assert.ok((ours.sign(data, 'no-such-hash') as unknown) instanceof Error);
  });
});
