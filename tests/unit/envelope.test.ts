import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptValue, DecryptionError, encryptValue } from '@/lib/crypto/envelope';

const masterKey = randomBytes(32);
const flip = (buf: Buffer, index: number, mask = 0x01) => buf.writeUInt8(buf.readUInt8(index) ^ mask, index);

describe('envelope encryption', () => {
  it('round-trips a value, including unicode and empty strings', () => {
    for (const value of ['hunter2', '', 'pässwörd 🔑 with\nnewlines', 'x'.repeat(10_000)]) {
      const sealed = encryptValue(masterKey, value, '/a/b#1');
      expect(decryptValue(masterKey, sealed, '/a/b#1')).toBe(value);
      expect(sealed.ciphertext.includes(Buffer.from(value || 'never-empty'))).toBe(false);
    }
  });

  it('uses a fresh data key and IV for every value', () => {
    const a = encryptValue(masterKey, 'same', '/a#1');
    const b = encryptValue(masterKey, 'same', '/a#1');
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
  });

  it.each([0, 12, 20, 30])('fails with a clear error when ciphertext byte %i is flipped', (index) => {
    const sealed = encryptValue(masterKey, 'a secret value', '/a/b#1');
    flip(sealed.ciphertext, index);
    expect(() => decryptValue(masterKey, sealed, '/a/b#1')).toThrow(DecryptionError);
    expect(() => decryptValue(masterKey, sealed, '/a/b#1')).toThrow(/ciphertext was altered/);
  });

  it('fails when the wrapped data key is altered', () => {
    const sealed = encryptValue(masterKey, 'a secret value', '/a/b#1');
    flip(sealed.wrappedKey, sealed.wrappedKey.length - 1, 0x80);
    expect(() => decryptValue(masterKey, sealed, '/a/b#1')).toThrow(/wrapped key was altered or the master key/);
  });

  it('fails under another master key', () => {
    const sealed = encryptValue(masterKey, 'a secret value', '/a/b#1');
    expect(() => decryptValue(randomBytes(32), sealed, '/a/b#1')).toThrow(DecryptionError);
  });

  it('binds the value to its name and version', () => {
    const sealed = encryptValue(masterKey, 'a secret value', '/a/b#1');
    expect(() => decryptValue(masterKey, sealed, '/a/b#2')).toThrow(DecryptionError);
    expect(() => decryptValue(masterKey, sealed, '/a/c#1')).toThrow(DecryptionError);
  });

  it('never puts the value or the error detail into the error message', () => {
    const sealed = encryptValue(masterKey, 'TOP-SECRET-VALUE', '/a/b#1');
    flip(sealed.ciphertext, 15);
    try {
      decryptValue(masterKey, sealed, '/a/b#1');
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('TOP-SECRET-VALUE');
    }
  });
});
