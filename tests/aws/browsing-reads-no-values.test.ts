import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParameterHistoryCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { SecretStore } from '@/lib/stores/types';
import type { SimRecordedCall, SimulatedAws } from '@/simulator/simulated-aws';
import { FIXTURE, SENTINEL } from '../contract/fixture';
import { FIXTURE_REGION, startFixtureAws } from './support/fixture-aws';
import { recordedSecretsManagerClient, recordedSsmClient, type SentCommand } from './support/recorded-clients';

// Browsing (list, listFolders, getItem) must only ever send metadata calls. The simulated AWS holds
// FIXTURE's values and answers the value-reading commands with them (and every history entry with
// a value), so a mistaken call would succeed quietly; these tests look at what was sent, on the
// client and in the simulator's own call log, and prove the check itself notices a forbidden call.

const FORBIDDEN = new Set(['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue', 'BatchGetSecretValue']);

/** Every problem with what the client sent: a forbidden command, or any request for decryption. */
function violations(sent: SentCommand[]): string[] {
  return sent.flatMap(({ command, input }) => [
    ...(FORBIDDEN.has(command.replace(/Command$/, '')) ? [`${command} was sent`] : []),
    ...(input.WithDecryption === true ? [`${command} asked for decryption`] : []),
  ]);
}

/** The same problems as the simulated AWS saw them arrive. */
function receivedViolations(calls: SimRecordedCall[]): string[] {
  return calls.flatMap((call) => [
    ...(FORBIDDEN.has(call.operation) ? [`${call.operation} arrived`] : []),
    ...(call.withDecryption ? [`${call.operation} asked for decryption`] : []),
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

let sim: SimulatedAws;
beforeAll(async () => {
  sim = await startFixtureAws({ recordCalls: true, keepLeadingSlash: ['/prod/payments/db/password'] });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.control({ clearCalls: true });
});

describe('Parameter Store browsing reads no values', () => {
  let ssm: ReturnType<typeof recordedSsmClient>;
  beforeEach(() => {
    ssm = recordedSsmClient(sim.url, { region: FIXTURE_REGION });
  });

  it('sends only DescribeParameters, GetParameterHistory (WithDecryption false) and ListTagsForResource', async () => {
    const output = await browseEverything(new SsmStore('prod-params', 'prod', () => ssm));

    for (const command of ['DescribeParametersCommand', 'GetParameterHistoryCommand', 'ListTagsForResourceCommand'])
      expect(ssm.log.inputsOf(command).length, command).toBeGreaterThan(0);
    for (const input of ssm.log.inputsOf('GetParameterHistoryCommand')) expect(input.WithDecryption).toBe(false);
    expect(violations(ssm.log.sent)).toEqual([]);
    expect(new Set(ssm.log.sent.map((c) => c.command))).toEqual(new Set(['DescribeParametersCommand', 'GetParameterHistoryCommand', 'ListTagsForResourceCommand']));

    // What arrived at AWS says the same.
    const received = sim.calls();
    expect(received).toHaveLength(ssm.log.sent.length);
    expect(receivedViolations(received)).toEqual([]);
    expect(new Set(received.map((c) => `${c.service}:${c.operation}`))).toEqual(
      new Set(['ssm:DescribeParameters', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource']),
    );
    // GetParameterHistory did carry values (see the next test); none came out.
    expect(output).not.toContain(SENTINEL);
  });

  it('the simulated AWS really returns values in history, so dropping them is the adapter\'s doing', async () => {
    const out = await ssm.send(new GetParameterHistoryCommand({ Name: '/motd', WithDecryption: false }));
    expect(JSON.stringify(out)).toContain(SENTINEL);
  });

  it('the check catches a forbidden command and a request for decryption', async () => {
    const value = await ssm.send(new GetParameterCommand({ Name: '/motd' }));
    expect(value.Parameter?.Value).toContain(SENTINEL);
    await ssm.send(new GetParameterHistoryCommand({ Name: '/motd', WithDecryption: true }));
    expect(violations(ssm.log.sent)).toEqual(['GetParameterCommand was sent', 'GetParameterHistoryCommand asked for decryption']);
    expect(receivedViolations(sim.calls())).toEqual(['GetParameter arrived', 'GetParameterHistory asked for decryption']);
  });
});

describe('Secrets Manager browsing reads no values', () => {
  let sm: ReturnType<typeof recordedSecretsManagerClient>;
  beforeEach(() => {
    sm = recordedSecretsManagerClient(sim.url, { region: FIXTURE_REGION });
  });

  it('sends only ListSecrets, DescribeSecret and ListSecretVersionIds', async () => {
    const output = await browseEverything(new SecretsManagerStore('prod-secrets', 'prod', () => sm));

    for (const command of ['ListSecretsCommand', 'DescribeSecretCommand', 'ListSecretVersionIdsCommand'])
      expect(sm.log.inputsOf(command).length, command).toBeGreaterThan(0);
    for (const input of sm.log.inputsOf('ListSecretVersionIdsCommand')) expect(input.IncludeDeprecated).toBe(true);
    expect(violations(sm.log.sent)).toEqual([]);
    expect(new Set(sm.log.sent.map((c) => c.command))).toEqual(new Set(['ListSecretsCommand', 'DescribeSecretCommand', 'ListSecretVersionIdsCommand']));

    const received = sim.calls();
    expect(received).toHaveLength(sm.log.sent.length);
    expect(receivedViolations(received)).toEqual([]);
    expect(new Set(received.map((c) => `${c.service}:${c.operation}`))).toEqual(
      new Set(['secretsmanager:ListSecrets', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds']),
    );
    expect(output).not.toContain(SENTINEL);
  });

  it('the check catches GetSecretValue', async () => {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: 'motd' }));
    expect(out.SecretString).toContain(SENTINEL);
    expect(violations(sm.log.sent)).toEqual(['GetSecretValueCommand was sent']);
    expect(receivedViolations(sim.calls())).toEqual(['GetSecretValue arrived']);
  });
});
