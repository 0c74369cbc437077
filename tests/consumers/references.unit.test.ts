import { describe, expect, it } from 'vitest';
import { parseEnvValue, parseValueFrom } from '@/lib/consumers/references';

// Every way ECS and Lambda name a parameter or a secret, read as AWS reads it; and values that name
// nothing.

describe('parseValueFrom (ECS secrets[].valueFrom)', () => {
  it.each([
    ['a parameter ARN', 'arn:aws:ssm:us-east-1:111111111111:parameter/prod/db/password', { service: 'ssm', account: '111111111111', region: 'us-east-1', names: ['/prod/db/password'] }],
    ['a parameter ARN without hierarchy', 'arn:aws:ssm:eu-west-1:222222222222:parameter/plain', { service: 'ssm', account: '222222222222', region: 'eu-west-1', names: ['plain', '/plain'] }],
    ['a parameter name', '/prod/db/password', { service: 'ssm', account: null, region: null, names: ['/prod/db/password'] }],
    ['a full secret ARN', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/payments/db-password-AbC123', { service: 'secretsmanager', account: '111111111111', region: 'us-east-1', names: ['/prod/payments/db-password', '/prod/payments/db-password-AbC123'] }],
    ['a secret ARN with a JSON key', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/api-AbC123:username::', { service: 'secretsmanager', account: '111111111111', region: 'us-east-1', names: ['/prod/api', '/prod/api-AbC123'] }],
    ['a partial secret ARN', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/api', { service: 'secretsmanager', account: '111111111111', region: 'us-east-1', names: ['/prod/api'] }],
  ])('reads %s', (_, value, expected) => {
    expect(parseValueFrom(value)).toEqual(expected);
  });

  it.each([['an ARN of another service', 'arn:aws:s3:::bucket/key'], ['text with spaces', 'not a name']])('reads nothing from %s', (_, value) => {
    expect(parseValueFrom(value)).toBeNull();
  });
});

describe('parseEnvValue (Lambda environment)', () => {
  it('reads the extension paths', () => {
    expect(parseEnvValue('/systemsmanager/parameters/get?name=%2Fprod%2Fdb%2Fpassword&withDecryption=true')).toEqual([
      { service: 'ssm', account: null, region: null, names: ['/prod/db/password'] },
    ]);
    expect(parseEnvValue('http://localhost:2773/secretsmanager/get?secretId=prod%2Fpayments%2Fdb-password')).toEqual([
      { service: 'secretsmanager', account: null, region: null, names: ['/prod/payments/db-password'] },
    ]);
  });

  it('reads a secret id both ways it could be meant, and a parameter name one way', () => {
    expect(parseEnvValue('prod/payments/db-password').map((c) => c.service)).toEqual(['ssm', 'secretsmanager']);
    expect(parseEnvValue('/payments/api/key')).toEqual([{ service: 'ssm', account: null, region: null, names: ['/payments/api/key'] }]);
  });

  it('reads ARNs as ECS does', () => {
    expect(parseEnvValue('arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/api-AbC123')[0]!.names[0]).toBe('/prod/api');
  });

  it.each([['a word', 'INFO'], ['a region', 'eu-west-1'], ['a number', '42'], ['a URL', 'https://api.example.com/v1'], ['nothing', '']])('reads nothing from %s', (_, value) => {
    expect(parseEnvValue(value)).toEqual([]);
  });
});
