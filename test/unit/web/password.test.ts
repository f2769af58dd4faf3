/** Password hashing (scrypt): format, verification, parameters, salts, policy. */
import { expect } from 'chai';
import {
  generatePassword,
  hashPassword,
  needsRehash,
  parseHash,
  passwordProblem,
  verifyPassword,
} from '../../../src/users/password.ts';

describe('password hashing (scrypt)', function () {
  this.timeout(30_000);

  it('hashes to a self-describing scrypt string and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).to.match(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(parseHash(h)!.key).to.have.length(32);
    expect(await verifyPassword('correct horse battery staple', h)).to.equal(true);
    expect(await verifyPassword('correct horse battery stapl', h)).to.equal(false);
    expect(await verifyPassword('Correct horse battery staple', h)).to.equal(false);
    expect(await verifyPassword('', h)).to.equal(false);
  });

  it('salts every hash: the same password hashes differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password 123'), hashPassword('same password 123')]);
    expect(a).not.to.equal(b);
    expect(await verifyPassword('same password 123', a)).to.equal(true);
    expect(await verifyPassword('same password 123', b)).to.equal(true);
  });

  it('treats Vietnamese passwords in NFC and NFD alike', async () => {
    const nfc = 'Mật khẩu tiếng Việt'.normalize('NFC');
    const h = await hashPassword(nfc);
    expect(await verifyPassword(nfc.normalize('NFD'), h)).to.equal(true);
  });

  it('verifies with the parameters stored in the hash, and flags weaker ones for rehashing', async () => {
    const weak = await hashPassword('old parameters 1', { ln: 12, r: 8, p: 1 });
    expect(await verifyPassword('old parameters 1', weak)).to.equal(true);
    expect(needsRehash(weak)).to.equal(true);
    expect(needsRehash(await hashPassword('new parameters 1'))).to.equal(false);
  });

  it('rejects malformed or tampered hashes instead of throwing', async () => {
    const h = await hashPassword('tamper test 1234');
    const parts = h.split('$');
    const key = Buffer.from(parts[3]!, 'base64');
    key[0]! ^= 1;
    const tampered = [...parts.slice(0, 3), key.toString('base64')].join('$');
    expect(await verifyPassword('tamper test 1234', tampered)).to.equal(false);
    for (const bad of ['', 'plain', 'scrypt$ln=99,r=8,p=1$AAAA$BBBB', '$2b$10$abcdefghijklmnopqrstuv'])
      expect(await verifyPassword('x', bad)).to.equal(false);
  });

  it('requires 12 characters and some variety; generates 20-character passwords that pass', () => {
    expect(passwordProblem('short')).to.contain('12');
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).to.contain('different');
    expect(passwordProblem('DEV-ONLY-admin-password')).to.equal(null);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = generatePassword();
      expect(p).to.match(/^[A-HJ-NP-Za-km-z2-9]{20}$/);
      expect(passwordProblem(p)).to.equal(null);
      seen.add(p);
    }
    expect(seen.size).to.equal(50);
  });
});
