import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generatedAccessKeyId, generatedOrganisation, startSimulatedOrganisation, type SimulatedOrganisation } from '@/simulator/simulated-organisation';

// The benchmark's many-account organisation: every account and region holds the same generated
// sets, reached through the real SDK clients with the account's own key, routed by key and region.

let org: SimulatedOrganisation;

beforeAll(async () => {
  org = await startSimulatedOrganisation({
    accounts: generatedOrganisation({ accounts: 3, regions: 2, ssmSets: [{ pattern: 'hierarchy', count: 30 }, { pattern: 'flat:bulk', count: 10 }], secretSets: [{ pattern: 'hierarchy', count: 5 }] }),
    latencyMs: 0,
    recordCalls: false,
    trailDeliveryMs: null,
  });
});
afterAll(() => org.close());

const credentials = (index: number) => ({ accessKeyId: generatedAccessKeyId(index), secretAccessKey: 'bench' });

async function describeAll(client: SSMClient): Promise<string[]> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeParametersCommand({ MaxResults: 50, NextToken: token }));
    arns.push(...(page.Parameters ?? []).map((p) => p.ARN!));
    token = page.NextToken;
  } while (token);
  return arns;
}

describe('generatedOrganisation', () => {
  it('lists every account in every region, each holding the generated sets', () => {
    expect(org.accounts).toHaveLength(6);
    expect(org.accounts.map((a) => `${a.alias}/${a.region}`)).toEqual([
      'acct01/us-east-1',
      'acct01/eu-west-1',
      'acct02/us-east-1',
      'acct02/eu-west-1',
      'acct03/us-east-1',
      'acct03/eu-west-1',
    ]);
    for (const a of org.accounts) expect(org.aws(a.account, a.region).stats()).toMatchObject({ parameters: 40, secrets: 5 });
  });

  it("routes an account's key and region to that account's stores, through the real SDK", async () => {
    const ssm = new SSMClient({ region: 'eu-west-1', endpoint: org.url, credentials: credentials(2), maxAttempts: 1 });
    const arns = await describeAll(ssm);
    expect(arns).toHaveLength(40);
    expect(arns.every((arn) => arn.startsWith('arn:aws:ssm:eu-west-1:900000000002:parameter/'))).toBe(true);
    const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: org.url, credentials: credentials(3), maxAttempts: 1 });
    const secrets = await sm.send(new ListSecretsCommand({ MaxResults: 100 }));
    expect(secrets.SecretList!.length).toBeGreaterThan(0);
    expect(secrets.SecretList!.every((s) => s.ARN!.startsWith('arn:aws:secretsmanager:us-east-1:900000000003:secret:'))).toBe(true);
  });

  it('refuses a key no account has, and a region outside the shape is there but empty', async () => {
    const stranger = new SSMClient({ region: 'us-east-1', endpoint: org.url, credentials: { accessKeyId: generatedAccessKeyId(4), secretAccessKey: 'bench' }, maxAttempts: 1 });
    await expect(stranger.send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const elsewhere = new SSMClient({ region: 'us-west-2', endpoint: org.url, credentials: credentials(1), maxAttempts: 1 });
    expect(await describeAll(elsewhere)).toEqual([]);
  });

  it('refuses shapes it cannot build', () => {
    expect(() => generatedOrganisation({ accounts: 0, regions: 1, ssmSets: [], secretSets: [] })).toThrow(/1 to 999 accounts/);
    expect(() => generatedOrganisation({ accounts: 2, regions: 7, ssmSets: [], secretSets: [] })).toThrow(/regions/);
  });
});
