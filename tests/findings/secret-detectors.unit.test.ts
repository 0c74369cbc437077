import { describe, expect, it } from 'vitest';
import { detectSecret, shannonEntropy } from '@/lib/findings/secret-detectors';

// Secrets in plain sight: each detector on a value it must catch and on a near miss it must leave
// alone (configuration that merely looks technical). All values are fake.

describe('detectSecret', () => {
  it.each([
    ['aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE'],
    ['aws-access-key-id', 'key=ASIAY34FZKBOKMUTVV7A;'],
    ['github-token', `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`],
    ['gitlab-token', 'glpat-abcdefghij0123456789'],
    ['slack-token', 'xoxb-123456789012-abcdefABCDEF'],
    ['stripe-secret-key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['google-api-key', `AIza${'Sy0123456789abcdefghijABCDEFGHIJ_-x'}`],
    ['private-key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...'],
    ['json-web-token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['url-with-password', 'postgres://app:s3cr3tpass@db.internal:5432/app'],
    ['high-entropy', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['high-entropy', 'Zx9q2LmN4vB7tR1yK8pW3sD6'],
  ])('finds %s', (detector, value) => {
    expect(detectSecret(value)).toBe(detector);
  });

  it.each([
    ['a log level', 'INFO'],
    ['a region', 'eu-west-1'],
    ['a parameter name', '/prod/payments/db-password'],
    ['an ARN', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/payments/db-password-AbCdEf'],
    ['a URL without a password', 'https://api.example.com/v1/payments?region=eu'],
    ['a UUID', '3f2b8c1e-9a4d-4e7f-b6a1-0c2d3e4f5a6b'],
    ['a short hex build id', 'a1b2c3d4e5f6a7b8c9d0e1'],
    ['a sentence', 'Send the nightly report to the payments team'],
    ['a repeated token', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['an extension path', '/systemsmanager/parameters/get?name=/prod/db/password'],
  ])('leaves %s alone', (_, value) => {
    expect(detectSecret(value)).toBeNull();
  });

  it('measures entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
