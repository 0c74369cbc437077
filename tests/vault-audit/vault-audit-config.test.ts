import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '@/lib/config/env';
import { storesFromConfig } from '@/lib/config/stores';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { auditSourcesFromConfig, storeLocators, vaultFileSourcesFromConfig, vaultStoresWithAuditSource } from '@/lib/cloudtrail/sources-config';
import { makeTempDir } from '../support/temp-dir';

// `audit:` entries of kind vault-file: tied to a Vault store by its id (its mount, namespace and
// pathPrefix come from the store), the path made absolute against CONFIG_FILE's folder; every
// mistake names its line.

const STORES = `stores:
  - { id: params, kind: ssm, region: eu-west-1 }
  - { id: vault-kv, kind: vault, address: "http://127.0.0.1:8200", auth: { method: token, tokenEnv: VAULT_TOKEN } }
  - { id: team-a, kind: vault, address: "http://127.0.0.1:8200", namespace: admin/team-a, mount: kv, pathPrefix: apps/prod, auth: { method: token, tokenEnv: VAULT_TOKEN } }
`;
const awsEnv = { AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };

function load(audit: string) {
  const doc = parseConfigYaml(`${STORES}audit:\n${audit}`, '/etc/dashboard/config.yaml');
  const stores = storesFromConfig(doc, awsEnv);
  return { vault: vaultFileSourcesFromConfig(doc, stores), aws: auditSourcesFromConfig(doc, awsEnv), locators: storeLocators(stores) };
}

function problems(audit: string): string {
  try {
    load(audit);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the audit section to be rejected');
}

describe('vault-file audit sources in CONFIG_FILE', () => {
  it('take the store’s mount, namespace and pathPrefix; a relative path is against the file’s folder', () => {
    const { vault, aws, locators } = load('  - { id: vault-audit, kind: vault-file, store: vault-kv, path: logs/vault_audit.log }\n  - { id: team-a-audit, kind: vault-file, store: team-a, path: /var/log/vault }\n');
    expect(vault).toEqual([
      { id: 'vault-audit', kind: 'vault-file', storeId: 'vault-kv', mount: 'secret', namespace: '', prefix: '', path: path.resolve('/etc/dashboard/logs/vault_audit.log') },
      { id: 'team-a-audit', kind: 'vault-file', storeId: 'team-a', mount: 'kv', namespace: 'admin/team-a', prefix: 'apps/prod/', path: '/var/log/vault' },
    ]);
    expect(aws).toEqual([]);
    expect(locators.filter((l) => l.kind === 'vault')).toEqual([
      { storeId: 'vault-kv', kind: 'vault', prefix: '' },
      { storeId: 'team-a', kind: 'vault', prefix: 'apps/prod/' },
    ]);
  });

  it.each([
    ['a store that is not Vault', '  - { id: a, kind: vault-file, store: params, path: /x }\n', /config\.yaml:\d+: audit\[0\] \(id "a"\): store "params" is a store of kind ssm, not vault; the Vault stores are "vault-kv", "team-a"/],
    ['an unknown store', '  - { id: a, kind: vault-file, store: nope, path: /x }\n', /store "nope" names no configured store/],
    ['no path', '  - { id: a, kind: vault-file, store: vault-kv }\n', /audit\[0\] \(id "a"\): path is required: Vault.s audit file/],
    ['no store', '  - { id: a, kind: vault-file, path: /x }\n', /store is required/],
    ['an unknown key', '  - { id: a, kind: vault-file, store: vault-kv, path: /x, region: eu-west-1 }\n', /unknown key "region"/],
    ['an unknown kind', '  - { id: a, kind: vault-socket, store: vault-kv }\n', /kind must be one of lookup-events, cloudtrail-s3, vault-file/],
    ['a repeated id', '  - { id: a, kind: vault-file, store: vault-kv, path: /x }\n  - { id: a, kind: vault-file, store: vault-kv, path: /y }\n', /id "a" is already used by audit\[0\]/],
  ])('%s is refused, naming the line', (_what, audit, message) => {
    expect(problems(audit)).toMatch(message);
  });
});

describe('which Vault stores have an access source (the item page: Access panel, or how to configure one)', () => {
  const temp = makeTempDir('vault-audit-config-');
  afterAll(() => temp.cleanup());
  const withConfig = (text: string) => {
    const file = path.join(temp.dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return vaultStoresWithAuditSource(readEnv({ CONFIG_FILE: file } as unknown as NodeJS.ProcessEnv), awsEnv);
  };

  it('the Vault store a vault-file entry names, and not the other Vault store', () => {
    const stores = withConfig(`${STORES}audit:\n  - { id: vault-audit, kind: vault-file, store: vault-kv, path: logs/vault_audit.log }\n`);
    expect([...stores]).toEqual(['vault-kv']);
    expect(stores.has('team-a')).toBe(false);
    expect(stores.has('params')).toBe(false);
  });

  it('none when the audit section has no vault-file entry, has none at all, or there is no CONFIG_FILE', () => {
    expect([...withConfig(`${STORES}audit:\n  - { id: trail, kind: cloudtrail-s3, bucket: my-trail, region: eu-west-1 }\n`)]).toEqual([]);
    expect([...withConfig(STORES)]).toEqual([]);
    expect([...vaultStoresWithAuditSource(readEnv({} as unknown as NodeJS.ProcessEnv), awsEnv)]).toEqual([]);
  });
});
