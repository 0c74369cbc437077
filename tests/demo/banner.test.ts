import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';

const getStores = vi.fn();
vi.mock('@/lib/stores/registry', () => ({ getStores: () => getStores() }));

import { SimulatedAwsBanner } from '@/components/simulated-aws-banner';
import { ConfigError, readEnv } from '@/lib/config/env';

// The demo banner: on every page (mounted in the root layout) when the launcher names simulated
// stores in SIMULATED_AWS_STORES, naming each; nothing otherwise. Markup only, no inline style (CSP).

const render = async () => {
  const element = await SimulatedAwsBanner();
  return element === null ? null : renderToStaticMarkup(element);
};

afterEach(() => {
  vi.unstubAllEnvs();
  getStores.mockReset();
});

describe('SimulatedAwsBanner', () => {
  it('is absent without simulated stores', async () => {
    vi.stubEnv('SIMULATED_AWS_STORES', '');
    expect(await render()).toBeNull();
    expect(getStores).not.toHaveBeenCalled();
  });

  it('says the AWS stores are a demo on a simulated organisation and names each with its label', async () => {
    vi.stubEnv('SIMULATED_AWS_STORES', 'sim-prod-ssm,sim-staging-secrets');
    getStores.mockResolvedValue([
      { id: 'local', label: 'Built-in encrypted store' },
      { id: 'sim-prod-ssm', label: 'Production (simulated): Parameter Store' },
      { id: 'sim-staging-secrets', label: 'Staging (simulated): Secrets Manager' },
    ]);
    const html = (await render())!;
    expect(html).toContain('role="note"');
    expect(html).toContain('Demo on a simulated AWS organisation.');
    expect(html).toContain('not by AWS');
    expect(html).toContain('Production (simulated): Parameter Store</span> (<code>sim-prod-ssm</code>)');
    expect(html).toContain('Staging (simulated): Secrets Manager</span> (<code>sim-staging-secrets</code>)');
    expect(html).not.toContain('Built-in encrypted store');
    expect(html).not.toMatch(/style=/);
  });

  it('still names the stores by id when the stores cannot be opened', async () => {
    vi.stubEnv('SIMULATED_AWS_STORES', 'sim-prod-ssm');
    getStores.mockRejectedValue(new Error('boom'));
    expect(await render()).toContain('<code>sim-prod-ssm</code>');
  });
});

const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

describe('SIMULATED_AWS_STORES', () => {
  it('is a comma-separated list of store ids', () => {
    expect(readEnv(env({ SIMULATED_AWS_STORES: 'sim-prod-ssm,sim-prod-secrets' })).SIMULATED_AWS_STORES).toEqual(['sim-prod-ssm', 'sim-prod-secrets']);
    expect(readEnv(env({})).SIMULATED_AWS_STORES).toEqual([]);
    expect(() => readEnv(env({ SIMULATED_AWS_STORES: 'Prod Store' }))).toThrow(ConfigError);
    expect(() => readEnv(env({ SIMULATED_AWS_STORES: 'a,,b' }))).toThrow(/SIMULATED_AWS_STORES must be store ids/);
  });
});
