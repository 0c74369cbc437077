import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { startSimulatedAws } from '@/simulator/simulated-aws';
import { makeTempDir } from '../support/temp-dir';

// The registry opens AWS stores from CONFIG_FILE without any AWS call, so start-up works offline.
const temp = makeTempDir('registry-aws-');
afterAll(() => {
  vi.unstubAllEnvs();
  temp.cleanup();
});

it('opens local, Parameter Store and Secrets Manager stores from CONFIG_FILE, sending nothing', async () => {
  const server = await startSimulatedAws({ latencyMs: 0, recordCalls: true });
  try {
    const file = path.join(temp.dir, 'dashboard.yaml');
    writeFileSync(
      file,
      [
        'stores:',
        '  - id: local',
        '    kind: local',
        '  - id: prod-params',
        '    kind: ssm',
        '    region: eu-west-1',
        `    endpoint: ${server.url}`,
        '  - id: prod-secrets',
        '    kind: secretsmanager',
        '    label: Production secrets',
        '    region: us-east-1',
        '    roleArn: arn:aws:iam::123456789012:role/dashboard-read',
        `    endpoint: ${server.url}`,
        '',
      ].join('\n'),
    );
    vi.stubEnv('CONFIG_FILE', file);
    vi.stubEnv('DATA_DIR', path.join(temp.dir, 'data'));
    vi.stubEnv('DEMO_DATA', '0');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const { getStores } = await import('@/lib/stores/registry');
    const stores = await getStores();
    expect(stores.map((s) => [s.id, s.kind, s.label])).toEqual([
      ['local', 'local', 'Built-in encrypted store'],
      ['prod-params', 'ssm', 'prod-params (eu-west-1)'],
      ['prod-secrets', 'secretsmanager', 'Production secrets'],
    ]);
    expect(server.calls()).toEqual([]);
    // The allowed side: the first read of an AWS store does reach it.
    await stores[1]!.list({ path: '/' });
    expect(server.calls().map((c) => c.operation)).toEqual(['DescribeParameters']);
  } finally {
    await server.close();
  }
});
