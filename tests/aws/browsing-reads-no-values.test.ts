import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ssm';
import type { AwsStub } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { SecretStore } from '@/lib/stores/types';
import { FIXTURE, SENTINEL } from '../contract/fixture';
import { fakeSecretsManagerClient } from './support/fake-secrets-manager';
import { fakeSsmClient } from './support/fake-ssm';

// Browsing (list, listFolders, getItem) must only ever send metadata calls. The fakes answer the
// value-reading commands with real values, so a mistaken call would succeed quietly; these tests
// look at what was sent instead, and prove the check itself notices a forbidden call.

const FORBIDDEN = new Set([
  'GetParameterCommand',
  'GetParametersCommand',
  'GetParametersByPathCommand',
  'GetSecretValueCommand',
  'BatchGetSecretValueCommand',
]);

type AnyStub = AwsStub<any, any, any>;

function sent(mock: AnyStub): { command: string; input: Record<string, unknown> }[] {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    return { command: command.constructor.name, input: command.input };
  });
}

/** Every problem with what was sent: a forbidden command, or any request for decryption. */
function violations(mock: AnyStub): string[] {
  return sent(mock).flatMap(({ command, input }) => [
    ...(FORBIDDEN.has(command) ? [`${command} was sent`] : []),
    ...(input.WithDecryption === true ? [`${command} asked for decryption`] : []),
  ]);
}

async function browseEverything(store: SecretStore): Promise<string> {
  const seen: unknown[] = [];
  for (const path of ['/', '/prod/', '/prod/payments/', '/bulk/']) {
    seen.push(await store.list({ path }));
    seen.push(await store.list({ path, recursive: true }));
    seen.push(await store.listFolders(path));
  }
  for (const item of FIXTURE.slice(0, 7)) seen.push(await store.getItem(item.name));
  seen.push(await store.getItem('/prod/payments/missing'));
  return JSON.stringify(seen);
}

describe('Parameter Store browsing reads no values', () => {
  let ssm: ReturnType<typeof fakeSsmClient>;
  beforeEach(() => {
    ssm?.mock.restore();
    ssm = fakeSsmClient();
  });

  it('sends only DescribeParameters, GetParameterHistory (WithDecryption false) and ListTagsForResource', async () => {
    const output = await browseEverything(new SsmStore('prod-params', 'prod', () => ssm.client));

    expect(ssm.mock.commandCalls(DescribeParametersCommand).length).toBeGreaterThan(0);
    expect(ssm.mock.commandCalls(GetParameterHistoryCommand).length).toBeGreaterThan(0);
    expect(ssm.mock.commandCalls(ListTagsForResourceCommand).length).toBeGreaterThan(0);
    for (const call of ssm.mock.commandCalls(GetParameterHistoryCommand)) expect(call.args[0].input.WithDecryption).toBe(false);

    expect(ssm.mock.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(ssm.mock.commandCalls(GetParametersCommand)).toHaveLength(0);
    expect(ssm.mock.commandCalls(GetParametersByPathCommand)).toHaveLength(0);
    expect(violations(ssm.mock)).toEqual([]);
    expect(new Set(sent(ssm.mock).map((c) => c.command))).toEqual(
      new Set(['DescribeParametersCommand', 'GetParameterHistoryCommand', 'ListTagsForResourceCommand']),
    );
    // GetParameterHistory did carry values (see the next test); none came out.
    expect(output).not.toContain(SENTINEL);
  });

  it('the fake really returns values in history, so dropping them is the adapter\'s doing', async () => {
    const out = await ssm.client.send(new GetParameterHistoryCommand({ Name: '/motd', WithDecryption: false }));
    expect(JSON.stringify(out)).toContain(SENTINEL);
  });

  it('the check catches a forbidden command and a request for decryption', async () => {
    await ssm.client.send(new GetParameterCommand({ Name: '/motd' }));
    await ssm.client.send(new GetParameterHistoryCommand({ Name: '/motd', WithDecryption: true }));
    expect(violations(ssm.mock)).toEqual(['GetParameterCommand was sent', 'GetParameterHistoryCommand asked for decryption']);
  });
});

describe('Secrets Manager browsing reads no values', () => {
  let sm: ReturnType<typeof fakeSecretsManagerClient>;
  beforeEach(() => {
    sm?.mock.restore();
    sm = fakeSecretsManagerClient({ keepLeadingSlash: ['/prod/payments/db/password'] });
  });

  it('sends only ListSecrets, DescribeSecret and ListSecretVersionIds', async () => {
    const output = await browseEverything(new SecretsManagerStore('prod-secrets', 'prod', () => sm.client));

    expect(sm.mock.commandCalls(ListSecretsCommand).length).toBeGreaterThan(0);
    expect(sm.mock.commandCalls(DescribeSecretCommand).length).toBeGreaterThan(0);
    expect(sm.mock.commandCalls(ListSecretVersionIdsCommand).length).toBeGreaterThan(0);
    for (const call of sm.mock.commandCalls(ListSecretVersionIdsCommand)) expect(call.args[0].input.IncludeDeprecated).toBe(true);

    expect(sm.mock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.mock.commandCalls(BatchGetSecretValueCommand)).toHaveLength(0);
    expect(violations(sm.mock)).toEqual([]);
    expect(new Set(sent(sm.mock).map((c) => c.command))).toEqual(
      new Set(['ListSecretsCommand', 'DescribeSecretCommand', 'ListSecretVersionIdsCommand']),
    );
    expect(output).not.toContain(SENTINEL);
  });

  it('the check catches GetSecretValue', async () => {
    const out = await sm.client.send(new GetSecretValueCommand({ SecretId: 'motd' }));
    expect(out.SecretString).toContain(SENTINEL);
    expect(violations(sm.mock)).toEqual(['GetSecretValueCommand was sent']);
  });
});
