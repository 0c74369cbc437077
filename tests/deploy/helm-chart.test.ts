import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { replaceOnce } from './support/edit';
import { FRESHNESS_STATUSES } from '@/lib/freshness/types';
import { FINDING_STATUSES, SEVERITIES } from '@/lib/findings/types';
import { METRIC_NAMES } from '@/lib/metrics/render-metrics';
import { at, chartProblems, missingValues, readChart, skeleton, type Chart } from './support/helm-chart';

// The Helm chart, read without Helm: values.yaml, what the templates reference, and the Deployment's
// structure (replicas, /api/health probes, a non-root read-only container, the Secret's keys).

const chartDir = path.join(process.cwd(), 'deploy', 'helm', 'secrets-dashboard');
const chart = readChart(chartDir);

function withTemplate(name: string, edit: (text: string) => string): Chart {
  return { values: chart.values, templates: { ...chart.templates, [name]: edit(chart.templates[name]!) } };
}
function withValues(edit: (values: Record<string, unknown>) => void): Chart {
  const values = structuredClone(chart.values);
  edit(values);
  return { values, templates: chart.templates };
}

describe('Helm chart', () => {
  it('passes every check', () => {
    expect(chartProblems(chart)).toEqual([]);
  });

  it('is a v2 application chart whose appVersion is the app version', () => {
    const meta = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'));
    const pkg = JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
    expect({ apiVersion: meta.apiVersion, name: meta.name, type: meta.type, appVersion: meta.appVersion }).toEqual({
      apiVersion: 'v2',
      name: 'secrets-dashboard',
      type: 'application',
      appVersion: pkg.version,
    });
  });

  it('runs 2 replicas by default, as uid 10001 with no capabilities, and probes /api/health', () => {
    const { doc } = skeleton(chart.templates['deployment.yaml']!);
    const container = at(doc, 'spec.template.spec.containers.0');
    expect(chart.values.replicaCount).toBe(2);
    expect(at(container, 'securityContext')).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(['startupProbe', 'readinessProbe', 'livenessProbe'].map((p) => at(container, `${p}.httpGet`))).toEqual([
      { path: '/api/health', port: 'http' },
      { path: '/api/health', port: 'http' },
      { path: '/api/health', port: 'http' },
    ]);
    expect(at(container, 'ports.0')).toEqual({ name: 'http', containerPort: 3000, protocol: 'TCP' });
  });

  it('finds every template reference that values.yaml does not define', () => {
    expect(missingValues(chart)).toEqual([]);
    const typo = withTemplate('service.yaml', (t) => replaceOnce(t, '.Values.service.port', '.Values.service.prot'));
    expect(missingValues(typo)).toEqual(['service.yaml: .Values.service.prot']);
    const dollar = withTemplate('NOTES.txt', (t) => `${t}\n{{ $.Values.ingress.hostname }}\n`);
    expect(missingValues(dollar)).toEqual(['NOTES.txt: .Values.ingress.hostname']);
    const dropped = withValues((v) => delete (v.probes as Record<string, unknown>).liveness);
    expect(chartProblems(dropped)).toEqual(['deployment.yaml: .Values.probes.liveness is not in values.yaml']);
  });

  it('finds fixed replicas, one replica by default and probes elsewhere than /api/health', () => {
    expect(chartProblems(withTemplate('deployment.yaml', (t) => replaceOnce(t, 'replicas: {{ .Values.replicaCount }}', 'replicas: 1')))).toEqual([
      'spec.replicas does not come from .Values.replicaCount',
    ]);
    expect(chartProblems(withValues((v) => (v.replicaCount = 1)))).toEqual(["values.yaml's replicaCount is 1, not 2 or more"]);
    const readinessElsewhere = withTemplate('deployment.yaml', (t) => replaceOnce(t, /(readinessProbe:\n\s+httpGet:\n\s+path: )\/api\/health/, '$1/'));
    expect(chartProblems(readinessElsewhere)).toEqual(["the container's readinessProbe is not an httpGet of /api/health"]);
    const noLiveness = withTemplate('deployment.yaml', (t) =>
      replaceOnce(t, /          livenessProbe:\n(?:            .*\n)+/, ''),
    );
    expect(chartProblems(noLiveness)).toEqual(["the container's livenessProbe is not an httpGet of /api/health"]);
  });

  it('finds a container that may run as root, write its filesystem or keep capabilities', () => {
    const rootAllowed = withTemplate('deployment.yaml', (t) => t.replaceAll('runAsNonRoot: true', 'runAsNonRoot: false'));
    expect(chartProblems(rootAllowed)).toEqual(['runAsNonRoot is not set']);
    const writable = withTemplate('deployment.yaml', (t) => replaceOnce(t, 'readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false'));
    expect(chartProblems(writable)).toEqual(["the container's securityContext.readOnlyRootFilesystem is not true"]);
    const caps = withTemplate('deployment.yaml', (t) => replaceOnce(t, 'drop: [ALL]', 'drop: [NET_RAW]'));
    expect(chartProblems(caps)).toEqual(['the container does not drop ALL capabilities']);
    const tmpOnDisk = withTemplate('deployment.yaml', (t) => replaceOnce(t, '        - name: tmp\n          emptyDir: {}', '        - name: tmp\n          hostPath: { path: /tmp }'));
    expect(chartProblems(tmpOnDisk)).toEqual(['/tmp is not an emptyDir (the root filesystem is read-only)']);
  });

  it('finds a Secret that is made without its values, made beside an existingSecret, or not followed by the pods', () => {
    const optionalUrl = withTemplate('secret.yaml', (t) => replaceOnce(t, /\{\{ required "secrets\.databaseUrl[^"]*" \.Values\.secrets\.databaseUrl/, '{{ .Values.secrets.databaseUrl'));
    expect(chartProblems(optionalUrl)).toEqual(["secret.yaml's DATABASE_URL is not required"]);
    const always = withTemplate('secret.yaml', (t) => replaceOnce(t, '{{- if not .Values.existingSecret }}', '{{- if true }}'));
    expect(chartProblems(always)).toEqual(['secret.yaml is not skipped when existingSecret is set']);
    expect(chartProblems(withValues((v) => ((v.secrets as Record<string, unknown>).masterKey = 'q83vEjRWeJCrze8SNFxnKYq8Y1z0jYv2pM5w9lWwMCA=')))).toEqual([
      "values.yaml's secrets.masterKey is not empty by default",
    ]);
    const noChecksum = withTemplate('deployment.yaml', (t) => replaceOnce(t, /        checksum\/secret: .*\n/, ''));
    expect(chartProblems(noChecksum)).toEqual(['no checksum/secret annotation over secret.yaml (pods would not roll when it changes)']);
    const literalKey = withTemplate('deployment.yaml', (t) => replaceOnce(t, /- name: NEXTAUTH_SECRET\n\s+valueFrom:\n(?:\s+.*\n){3}/, '- name: NEXTAUTH_SECRET\n              value: "abc"\n'));
    expect(chartProblems(literalKey)).toEqual(["NEXTAUTH_SECRET does not come from the chart's Secret"]);
  });

  it('finds an ingress or configmap that is always made, and a template broken by its indentation', () => {
    expect(chartProblems(withTemplate('ingress.yaml', (t) => replaceOnce(t, '{{- if .Values.ingress.enabled }}', '{{- if true }}')))).toEqual([
      'ingress.yaml is not optional (ingress.enabled)',
    ]);
    expect(chartProblems(withTemplate('configmap.yaml', (t) => replaceOnce(t, '{{- if .Values.configFile }}', '{{- if true }}')))).toEqual([
      'configmap.yaml is not optional (configFile)',
    ]);
    const badIndent = withTemplate('service.yaml', (t) => replaceOnce(t, '  ports:\n', ' ports:\n'));
    expect(chartProblems(badIndent)).toEqual([expect.stringMatching(/^service\.yaml is not YAML once its actions are set aside/)]);
  });

  describe('the optional PrometheusRule and ServiceMonitor', () => {
    const rule = skeleton(chart.templates['prometheusrule.yaml']!);
    const rules = at(rule.doc, 'spec.groups') as { rules: { alert: string; expr: string; labels: { severity: string } }[] }[];

    it('are made only when enabled (off by default)', () => {
      expect(chart.templates['prometheusrule.yaml']!.split('\n')[0]).toBe('{{- if .Values.prometheusRule.enabled }}');
      expect(chart.templates['servicemonitor.yaml']!.split('\n')[0]).toBe('{{- if .Values.serviceMonitor.enabled }}');
      expect(at(chart.values, 'prometheusRule.enabled')).toBe(false);
      expect(at(chart.values, 'serviceMonitor.enabled')).toBe(false);
      expect(at(rule.doc, 'kind')).toBe('PrometheusRule');
      expect(at(skeleton(chart.templates['servicemonitor.yaml']!).doc, 'spec.endpoints.0.path')).toBe('/metrics');
    });

    it('alert on series /metrics serves, with label values it sets', () => {
      const exprs = rules.flatMap((g) => g.rules.map((r) => r.expr));
      expect(rules[0]!.rules.map((r) => r.alert)).toEqual(['SecretsDashboardItemsOverdue', 'SecretsDashboardRotationFailing', 'SecretsDashboardSyncFailing', 'SecretsDashboardCriticalFindings']);
      const served = new Set<string>(Object.values(METRIC_NAMES));
      for (const expr of exprs) {
        for (const metric of expr.match(/secrets_dashboard_[a-z_]+/g) ?? []) expect(served, expr).toContain(metric);
        for (const [, label, values] of expr.matchAll(/(status|severity)=~?"([^"]+)"/g)) {
          const known: readonly string[] = label === 'severity' ? SEVERITIES : [...FRESHNESS_STATUSES, ...FINDING_STATUSES];
          for (const value of values!.split('|')) expect(known, `${label}=${value} in ${expr}`).toContain(value);
        }
      }
      for (const r of rules[0]!.rules) expect(['warning', 'critical']).toContain(r.labels.severity);
    });
  });
});
