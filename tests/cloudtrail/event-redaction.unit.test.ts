import { describe, expect, it } from 'vitest';
import { redactOtherItems, type EventVisibility } from '@/lib/cloudtrail/event-redaction';

// redactOtherItems field by field (event-redaction.test.ts has whole CloudTrail events): each field
// that names an item, however the name is written, keeps the caller's item and loses anyone else's;
// selectors always go; a free-text message shows only when it can tell of nothing else.

const ACCOUNT = '111122223333';
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const paramArn = (name: string) => `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${name}`;
const MINE: EventVisibility = { visible: new Set(['/prod/payments/a', '/prod/payments/']), everyItemVisible: true };
const NOT_ALL_MINE: EventVisibility = { ...MINE, everyItemVisible: false };

const cutParameters = (requestParameters: Record<string, unknown>, visibility = MINE) =>
  redactOtherItems({ requestParameters }, visibility).requestParameters;

describe('fields that name an item', () => {
  // Every field the mapper or AWS uses for an item, with a bare name (not an ARN), as AWS writes it.
  it.each([['name'], ['Name'], ['names'], ['secretId'], ['SecretIdList'], ['resourceId'], ['ARN'], ['arn'], ['secretArn'], ['PARAMETER_ARN'], ['parameterArn'], ['parameterName']])(
    '%s keeps the caller\'s item and loses another',
    (field) => {
      expect(cutParameters({ [field]: '/prod/payments/a', other: 1 })).toEqual({ [field]: '/prod/payments/a', other: 1 });
      expect(cutParameters({ [field]: '/prod/web/b', other: 1 })).toEqual({ other: 1 });
      expect(cutParameters({ [field]: ['/prod/web/b', '/prod/payments/a'] })).toEqual({ [field]: ['/prod/payments/a'] });
    },
  );

  it.each([
    ['/prod/payments', true],
    ['/prod/payments/', true],
    ['prod/payments', true],
    ['/prod/web', false],
    ['/prod', false],
  ])('a path read of %s is kept: %s', (path, kept) => {
    expect(cutParameters({ path, recursive: true })).toEqual(kept ? { path, recursive: true } : { recursive: true });
  });

  it.each([
    ['a name padded with spaces', { secretId: '  prod/payments/a ' }, { secretId: '  prod/payments/a ' }],
    ['another name padded with spaces', { secretId: ' prod/web/b ' }, {}],
    ['an ARN padded with spaces, in a field no one maps', { note: `  ${secretArn('prod/web/b')}` }, {}],
    ['the caller\'s ARN padded with spaces, in a field no one maps', { note: `  ${paramArn('/prod/payments/a')}` }, { note: `  ${paramArn('/prod/payments/a')}` }],
    ['plain values', { withDecryption: true, maxResults: 5, nextToken: null, description: 'x' }, { withDecryption: true, maxResults: 5, nextToken: null, description: 'x' }],
  ])('%s', (_label, parameters, expected) => {
    expect(cutParameters(parameters)).toEqual(expected);
  });

  it('cuts fields at the top of the event too, in any case, leaving no trace of them', () => {
    const cut = redactOtherItems({ eventName: 'X', Name: '/prod/web/b', ARN: secretArn('prod/web/b'), secretId: 'prod/payments/a' }, MINE);
    expect(cut).toEqual({ eventName: 'X', secretId: 'prod/payments/a' });
    expect(Object.keys(cut)).toEqual(['eventName', 'secretId']);
  });

  it('drops an object inside a field as a whole when it names another item, keeping the caller\'s', () => {
    expect(
      cutParameters({
        errors: [
          { secretId: 'prod/web/b', code: 'ResourceNotFound' },
          { secretId: 'prod/payments/a', code: 'ResourceNotFound' },
        ],
        nested: { deeper: { name: '/prod/web/b', kept: false } },
      }),
    ).toEqual({ errors: [{ secretId: 'prod/payments/a', code: 'ResourceNotFound' }] });
  });
});

describe('selectors', () => {
  it.each([['filters'], ['Filters'], ['parameterFilters'], ['values'], ['Values']])('%s is removed, whatever it holds', (field) => {
    expect(cutParameters({ [field]: [{ key: 'Name', values: ['/prod/payments/'] }], maxResults: 10 })).toEqual({ maxResults: 10 });
  });
});

describe('the error message', () => {
  it.each<[string, unknown, EventVisibility, boolean]>([
    ['a message quoting no ARN, every item the caller\'s', 'The parameter is not found.', MINE, true],
    ['a message quoting no ARN, some item another\'s', 'The parameter is not found.', NOT_ALL_MINE, false],
    ['a message quoting the caller\'s ARN, then a full stop', `User is not authorized on ${secretArn('prod/payments/a')}.`, MINE, true],
    ['a message quoting the caller\'s ARN, then an ellipsis', `Denied on ${paramArn('/prod/payments/a')}...`, MINE, true],
    ['a message quoting the caller\'s ARN, then a colon', `Denied on ${paramArn('/prod/payments/a')}: try again`, MINE, true],
    ['a message quoting the caller\'s ARN and another', `Denied on ${paramArn('/prod/payments/a')} and ${paramArn('/prod/web/b')}`, MINE, false],
    ['a message quoting another ARN first', `Denied on ${paramArn('/prod/web/b')} and ${paramArn('/prod/payments/a')}`, MINE, false],
    ['a message quoting a KMS key', `Key arn:aws:kms:us-east-1:${ACCOUNT}:key/k is disabled`, MINE, false],
    ['no message at all (null)', null, NOT_ALL_MINE, true],
    ['a message that is not text', { code: 1 }, NOT_ALL_MINE, true],
  ])('%s: shown %s', (_label, errorMessage, visibility, shown) => {
    const cut = redactOtherItems({ errorCode: 'AccessDenied', errorMessage }, visibility);
    expect(cut).toEqual(shown ? { errorCode: 'AccessDenied', errorMessage } : { errorCode: 'AccessDenied' });
  });
});
