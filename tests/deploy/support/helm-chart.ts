import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// The Helm chart read without Helm (none here): the values, the templates as text, and each template's
// YAML skeleton (every `{{ … }}` action that stands alone on a line dropped, every inline one replaced
// by a TPL<n> placeholder) so its structure can be inspected and its indentation is checked.

export interface Chart {
  values: Record<string, unknown>;
  templates: Record<string, string>;
}

export function readChart(dir: string): Chart {
  const templatesDir = path.join(dir, 'templates');
  const templates = Object.fromEntries(readdirSync(templatesDir).sort().map((name) => [name, readFileSync(path.join(templatesDir, name), 'utf8')]));
  return { values: parse(readFileSync(path.join(dir, 'values.yaml'), 'utf8')) ?? {}, templates };
}

export interface Skeleton {
  doc: unknown;
  /** TPL<n> → the action's text, e.g. TPL0 → `.Values.replicaCount`. */
  actions: string[];
}

export function skeleton(template: string): Skeleton {
  const actions: string[] = [];
  const lines = template
    .split(/\r?\n/)
    .filter((line) => !/^\s*(\{\{-?[\s\S]*?-?\}\}\s*)+$/.test(line))
    .map((line) =>
      line.replace(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g, (_, action: string) => {
        actions.push(action);
        return `TPL${actions.length - 1}`;
      }),
    );
  return { doc: parse(lines.join('\n')), actions };
}

/** Every `.Values.a.b.c` path the templates use (also as `$.Values…`), with where. */
export function valuesReferences(templates: Record<string, string>): { path: string[]; template: string }[] {
  const found: { path: string[]; template: string }[] = [];
  for (const [template, text] of Object.entries(templates)) {
    for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      found.push({ path: match[1]!.slice(1).split('.'), template });
    }
  }
  return found;
}

/** References to values that values.yaml does not define (a typo renders as nothing in Helm). */
export function missingValues(chart: Chart): string[] {
  const missing = new Set<string>();
  for (const { path: keys, template } of valuesReferences(chart.templates)) {
    let node: unknown = chart.values;
    for (const key of keys) {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) {
        missing.add(`${template}: .Values.${keys.join('.')}`);
        break;
      }
      node = (node as Record<string, unknown>)[key];
    }
  }
  return [...missing];
}

/** The value at a dotted path of a parsed document (`spec.template.spec.containers.0.name`). */
export function at(doc: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), doc);
}

const HEALTH_PROBES = ['readinessProbe', 'livenessProbe'];
const REQUIRED_SECRET_KEYS = { MASTER_KEY: 'masterKey', NEXTAUTH_SECRET: 'nextauthSecret', DATABASE_URL: 'databaseUrl' };

export function chartProblems(chart: Chart): string[] {
  const problems: string[] = missingValues(chart).map((ref) => `${ref} is not in values.yaml`);
  for (const [name, text] of Object.entries(chart.templates).filter(([n]) => n.endsWith('.yaml'))) {
    try {
      const { doc } = skeleton(text);
      if (!at(doc, 'apiVersion') || !at(doc, 'kind')) problems.push(`${name} has no apiVersion and kind`);
    } catch (error) {
      problems.push(`${name} is not YAML once its actions are set aside: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  const deploymentText = chart.templates['deployment.yaml'];
  if (!deploymentText) return [...problems, 'no templates/deployment.yaml'];
  const { doc: deployment, actions } = skeleton(deploymentText);
  const action = (value: unknown) => (typeof value === 'string' && /^TPL\d+$/.test(value) ? actions[Number(value.slice(3))] : undefined);

  if (action(at(deployment, 'spec.replicas')) !== '.Values.replicaCount') problems.push('spec.replicas does not come from .Values.replicaCount');
  if (typeof chart.values.replicaCount !== 'number' || chart.values.replicaCount < 2) {
    problems.push(`values.yaml's replicaCount is ${String(chart.values.replicaCount)}, not 2 or more`);
  }

  const pod = at(deployment, 'spec.template.spec');
  const container = (at(pod, 'containers') as unknown[] | undefined)?.[0];
  if (!container) return [...problems, 'the deployment has no container'];
  for (const probe of HEALTH_PROBES) {
    if (at(container, `${probe}.httpGet.path`) !== '/api/health') problems.push(`the container's ${probe} is not an httpGet of /api/health`);
  }
  if (at(pod, 'securityContext.runAsNonRoot') !== true && at(container, 'securityContext.runAsNonRoot') !== true) problems.push('runAsNonRoot is not set');
  for (const [key, expected] of Object.entries({ runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })) {
    if (at(container, `securityContext.${key}`) !== expected) problems.push(`the container's securityContext.${key} is not ${expected}`);
  }
  const dropped = at(container, 'securityContext.capabilities.drop');
  if (!Array.isArray(dropped) || !dropped.includes('ALL')) problems.push('the container does not drop ALL capabilities');
  // `resources:` is followed by `{{- toYaml .Values.resources | nindent 12 }}`, which the skeleton drops.
  const hasResources = typeof container === 'object' && Object.hasOwn(container, 'resources') && /toYaml \.Values\.resources\b/.test(deploymentText);
  if (!hasResources || !at(chart.values, 'resources.limits.memory')) problems.push('the container has no resources (with a memory limit) from values.yaml');

  const volumes = (at(pod, 'volumes') as { name?: string; emptyDir?: unknown }[] | undefined) ?? [];
  const mounts = (at(container, 'volumeMounts') as { name?: string; mountPath?: string }[] | undefined) ?? [];
  for (const mountPath of ['/tmp', '/data']) {
    const mount = mounts.find((m) => m.mountPath === mountPath);
    const volume = mount && volumes.find((v) => v.name === mount.name);
    if (!volume || !('emptyDir' in volume)) problems.push(`${mountPath} is not an emptyDir (the root filesystem is read-only)`);
  }

  const env = (at(container, 'env') as { name?: string; value?: unknown; valueFrom?: { secretKeyRef?: { name?: unknown; key?: string } } }[] | undefined) ?? [];
  for (const key of Object.keys(REQUIRED_SECRET_KEYS)) {
    const ref = env.find((e) => e.name === key)?.valueFrom?.secretKeyRef;
    if (ref?.key !== key || !/secrets-dashboard\.secretName/.test(action(ref.name) ?? '')) problems.push(`${key} does not come from the chart's Secret`);
  }
  const dataDir = env.find((e) => e.name === 'DATA_DIR')?.value;
  if (dataDir !== '/data') problems.push(`DATA_DIR is ${String(dataDir)}, not the /data emptyDir`);

  const annotations = (at(deployment, 'spec.template.metadata.annotations') as Record<string, unknown> | undefined) ?? {};
  if (!/secret\.yaml.*sha256sum/.test(action(annotations['checksum/secret']) ?? '')) problems.push('no checksum/secret annotation over secret.yaml (pods would not roll when it changes)');

  const secret = chart.templates['secret.yaml'] ?? '';
  if (!/\{\{-?\s*if not \.Values\.existingSecret\s*-?\}\}/.test(secret)) problems.push('secret.yaml is not skipped when existingSecret is set');
  const secretValues = (chart.values.secrets ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(REQUIRED_SECRET_KEYS)) {
    if (!new RegExp(`${key}:\\s*\\{\\{\\s*required\\s+"[^"]+"\\s+\\.Values\\.secrets\\.${value}\\b`).test(secret)) problems.push(`secret.yaml's ${key} is not required`);
    if (secretValues[value] !== '') problems.push(`values.yaml's secrets.${value} is not empty by default`);
  }
  if (chart.values.existingSecret !== '') problems.push("values.yaml's existingSecret is not empty by default");

  if (!/\{\{-?\s*if \.Values\.ingress\.enabled\s*-?\}\}/.test(chart.templates['ingress.yaml'] ?? '')) problems.push('ingress.yaml is not optional (ingress.enabled)');
  if (at(chart.values, 'ingress.enabled') !== false) problems.push('the ingress is not off by default');
  if (!/\{\{-?\s*if \.Values\.configFile\s*-?\}\}/.test(chart.templates['configmap.yaml'] ?? '')) problems.push('configmap.yaml is not optional (configFile)');
  if (!chart.templates['NOTES.txt']) problems.push('no templates/NOTES.txt');
  return problems;
}
