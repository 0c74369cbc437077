import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { valueFingerprint, valueFingerprintKey } from '@/lib/crypto/value-fingerprint';
import { compareVersions } from '@/lib/data/version-diff';
import type { ItemVersion, VersionMetadata } from '@/lib/stores/types';
import { parseVersionCompare } from '@/lib/validations/version-diff';

// "What changed" between two versions: the comparison of each kind of field, what is not on record,
// the keyed fingerprint behind "value changed", and the ?from=&to= the page takes.

const version = (id: string, metadata?: VersionMetadata, extra: Partial<ItemVersion> = {}): ItemVersion => ({
  id,
  createdAt: `2026-0${id}-01T00:00:00.000Z`,
  createdBy: 'alice@example.com',
  labels: [],
  ...(metadata ? { metadata } : {}),
  ...extra,
});

const SSM_BASE: VersionMetadata = {
  type: 'SecureString',
  description: 'Stripe key',
  kmsKeyId: 'alias/aws/ssm',
  tier: 'Standard',
  dataType: 'text',
  policies: [],
};

describe('compareVersions', () => {
  it('lists who and when, labels, and every Parameter Store field that differs, before and after', () => {
    const before = version('1', SSM_BASE, { labels: ['previous'] });
    const after = version(
      '2',
      {
        ...SSM_BASE,
        type: 'String',
        description: 'Stripe live key',
        kmsKeyId: null,
        tier: 'Advanced',
        dataType: 'aws:ec2:image',
        policies: [{ type: 'Expiration', status: 'Pending', text: '{"Type":"Expiration"}' }],
      },
      { createdBy: 'bob@example.com', labels: ['live', 'blue'] },
    );
    const diff = compareVersions('ssm', before, after, 'not-compared');
    expect(diff.changes).toEqual([
      { field: 'Written at', before: before.createdAt, after: after.createdAt, format: 'date' },
      { field: 'Written by', before: 'alice@example.com', after: 'bob@example.com', format: 'text' },
      { field: 'Labels', before: 'previous', after: 'blue, live', format: 'text' },
      { field: 'Type', before: 'SecureString', after: 'String', format: 'text' },
      { field: 'Description', before: 'Stripe key', after: 'Stripe live key', format: 'text' },
      { field: 'KMS key', before: 'alias/aws/ssm', after: null, format: 'text' },
      { field: 'Tier', before: 'Standard', after: 'Advanced', format: 'text' },
      { field: 'Data type', before: 'text', after: 'aws:ec2:image', format: 'text' },
      { field: 'Policy Expiration', before: null, after: '{"Type":"Expiration"}', format: 'text' },
    ]);
    expect(diff.unchanged).toEqual([]);
    // Parameter Store keeps tags per parameter only.
    expect(diff.notRecorded).toEqual(['Tags']);
    expect(diff.notRecordedWhy).toMatch(/tags for the parameter, not for each version/);
    expect(diff.value).toBe('not-compared');
  });

  it('compares tags key by key: added, removed and changed', () => {
    const before = version('1', { type: 'SecureString', description: null, kmsKeyId: 'local/master-key', tags: { env: 'prod', scope: 'read', team: 'a' } });
    const after = version('2', { type: 'SecureString', description: null, kmsKeyId: 'local/master-key', tags: { env: 'prod', owner: 'b', team: 'b' } });
    const diff = compareVersions('local', before, after, 'unchanged');
    expect(diff.changes.filter((c) => c.field.startsWith('Tag '))).toEqual([
      { field: 'Tag owner', before: null, after: 'b', format: 'text' },
      { field: 'Tag scope', before: 'read', after: null, format: 'text' },
      { field: 'Tag team', before: 'a', after: 'b', format: 'text' },
    ]);
    expect(diff.unchanged).toEqual(['Written by', 'Labels', 'Type', 'Description', 'KMS key']);
    expect(diff.notRecorded).toEqual([]);
    expect(diff.notRecordedWhy).toBeNull();
    expect(diff.value).toBe('unchanged');
  });

  it('reports nothing but the dates when two versions differ in nothing else', () => {
    const metadata = { type: 'String', description: 'd', kmsKeyId: null, tags: { a: '1' } };
    const diff = compareVersions('local', version('1', metadata), version('2', metadata), 'changed');
    expect(diff.changes.map((c) => c.field)).toEqual(['Written at']);
    expect(diff.unchanged).toEqual(['Written by', 'Labels', 'Type', 'Description', 'Tags', 'KMS key']);
    expect(diff.value).toBe('changed');
  });

  it('Secrets Manager: stages and dates only, and says AWS keeps no older metadata instead of comparing the current one', () => {
    const diff = compareVersions(
      'secretsmanager',
      version('a1b2c3d4-0001', undefined, { labels: ['AWSPREVIOUS'], createdBy: null }),
      version('a1b2c3d4-0002', undefined, { labels: ['AWSCURRENT'], createdBy: null }),
      'not-compared',
    );
    expect(diff.changes.map((c) => [c.field, c.before, c.after])).toEqual([
      ['Written at', '2026-0a1b2c3d4-0001-01T00:00:00.000Z', '2026-0a1b2c3d4-0002-01T00:00:00.000Z'],
      ['Stages', 'AWSPREVIOUS', 'AWSCURRENT'],
    ]);
    expect(diff.notRecorded).toEqual(['Description', 'Tags', 'KMS key']);
    expect(diff.notRecordedWhy).toMatch(/^AWS keeps no older metadata for Secrets Manager versions/);
  });

  it('Vault: labels (deleted, destroyed) and dates only; custom metadata is the secret\'s, not a version\'s, so it is not compared', () => {
    const diff = compareVersions('vault', version('1', undefined, { labels: ['deleted'], createdBy: null }), version('2', undefined, { labels: [], createdBy: null }), 'not-compared');
    expect(diff.changes.map((c) => c.field)).toEqual(['Written at', 'Labels']);
    expect(diff.notRecorded).toEqual(['Description', 'Tags']);
    expect(diff.notRecordedWhy).toMatch(/^Vault keeps custom metadata for the secret, not for each version/);
    expect(diff.value).toBe('not-compared');
  });

  it('built-in store: a version written before metadata was recorded is not compared, even against one that has it', () => {
    const diff = compareVersions('local', version('1'), version('2', { type: 'String', description: 'd', kmsKeyId: null, tags: {} }), 'changed');
    expect(diff.notRecorded).toEqual(['Type', 'Description', 'Tags', 'KMS key']);
    expect(diff.notRecordedWhy).toMatch(/written before the dashboard recorded metadata/);
    expect(diff.changes.map((c) => c.field)).toEqual(['Written at']);
  });
});

describe('value fingerprints', () => {
  const masterKey = randomBytes(32);
  const key = valueFingerprintKey(masterKey);

  it('the same value under the same master key gives the same fingerprint; another value another', () => {
    expect(valueFingerprint(valueFingerprintKey(masterKey), 'hunter2')).toBe(valueFingerprint(key, 'hunter2'));
    expect(valueFingerprint(key, 'hunter2')).not.toBe(valueFingerprint(key, 'hunter3'));
  });

  it('is keyed: another master key gives another fingerprint of the same value', () => {
    expect(valueFingerprint(valueFingerprintKey(randomBytes(32)), 'hunter2')).not.toBe(valueFingerprint(key, 'hunter2'));
  });

  it('is not an unkeyed hash of the value, and the key is not the master key itself', () => {
    const fingerprint = valueFingerprint(key, 'hunter2');
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toBe(createHash('sha256').update('hunter2').digest('hex'));
    expect(fingerprint).not.toBe(valueFingerprint(masterKey, 'hunter2'));
    expect(key.equals(masterKey)).toBe(false);
  });

  it('refuses a master key of the wrong length', () => {
    expect(() => valueFingerprintKey(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('parseVersionCompare', () => {
  it.each([
    ['no comparison', '', null],
    ['two version numbers', 'from=3&to=5', { from: '3', to: '5' }],
    ['newer first', 'from=5&to=3', { from: '5', to: '3' }],
    ['Secrets Manager version ids', 'from=a1b2c3d4-0001-4000-8000-00000000aaaa&to=a1b2c3d4-0002-4000-8000-00000000bbbb', { from: 'a1b2c3d4-0001-4000-8000-00000000aaaa', to: 'a1b2c3d4-0002-4000-8000-00000000bbbb' }],
    ['other parameters left alone', 'from=1&to=2&_rsc=abc', { from: '1', to: '2' }],
  ])('%s: accepted', (_, query, value) => {
    expect(parseVersionCompare(new URLSearchParams(query))).toEqual({ ok: true, value });
  });

  it.each([
    ['the same version twice', 'from=3&to=3', 'Pick two different versions: version 3 compared with itself shows nothing.'],
    ['only from', 'from=3', 'Pick two versions to compare: give both from and to, e.g. ?from=3&to=5.'],
    ['only to', 'to=3', 'Pick two versions to compare: give both from and to, e.g. ?from=3&to=5.'],
    ['an empty version', 'from=&to=3', 'from: "" is not a version'],
    ['a malformed version', 'from=3;drop&to=5', 'from: "3;drop" is not a version'],
    ['a path instead of a version', 'from=1&to=../2', 'to: "../2" is not a version'],
    ['a version over 64 characters', `from=1&to=${'a'.repeat(65)}`, 'to: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is not a version'],
    ['from given twice', 'from=1&from=2&to=3', 'Give from once.'],
  ])('%s: refused with a message', (_, query, message) => {
    const result = parseVersionCompare(new URLSearchParams(query));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it("takes a page's searchParams record as the proxy's URLSearchParams", () => {
    expect(parseVersionCompare({ from: '1', to: '2' })).toEqual({ ok: true, value: { from: '1', to: '2' } });
    expect(parseVersionCompare({ from: ['1', '2'], to: '3' })).toEqual({ ok: false, message: 'Give from once.' });
  });
});
