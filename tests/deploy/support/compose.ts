import { parse } from 'yaml';

// What the Compose file must do: PostgreSQL 16 with a named volume and a readiness check, the app
// built from the Dockerfile and started once the database is healthy, and every secret taken from the
// environment (an env file or the shell), never written in the file.

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: unknown;
  environment?: Env | string[];
  healthcheck?: { test?: string | string[] };
  volumes?: (string | { source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | { target?: number })[];
  profiles?: string[];
}
interface ComposeFile {
  services?: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

export function parseCompose(text: string): ComposeFile {
  // Compose reads YAML merge keys (`<<: *anchor`).
  return parse(text, { merge: true }) as ComposeFile;
}

export function envOf(service: Service): Env {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
  return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : '']));
}

/** `${NAME}`, `${NAME:?message}` or `${NAME:-}` alone: the value comes from outside, with no literal default. */
const FROM_OUTSIDE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?\?[^}]*)|(?::?-))?\}$/;
/** `${NAME:?message}` (or `${NAME?message}`): Compose stops, naming it, when it is unset. */
const REQUIRED = /^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$/;
const SECRET_NAME = /PASSWORD|SECRET|MASTER_KEY|TOKEN|PRIVATE_KEY|CREDENTIAL/i;
const REQUIRED_SECRETS = ['MASTER_KEY', 'NEXTAUTH_SECRET'];

/** The password part of a postgres:// URL whose password may be a `${…}` interpolation. */
function urlParts(url: string): { password: string; host: string } | undefined {
  const match = url.match(/^postgres(?:ql)?:\/\/[^:@/]+:(\$\{[^}]*\}|[^@]*)@([^:/]+)(?::\d+)?\/\w+/);
  return match ? { password: match[1]!, host: match[2]! } : undefined;
}

export function composeProblems(text: string): string[] {
  const problems: string[] = [];
  const file = parseCompose(text);
  const services = file.services ?? {};

  const postgresEntry = Object.entries(services).find(([, s]) => /^postgres:16(\b|$)/.test(s.image ?? ''));
  if (!postgresEntry) return ['no postgres:16 service'];
  const [postgresName, postgres] = postgresEntry;
  const test = [postgres.healthcheck?.test ?? []].flat().join(' ');
  if (!test.includes('pg_isready')) problems.push(`the ${postgresName} service has no pg_isready healthcheck`);
  const dataMount = (postgres.volumes ?? [])
    .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
    .find((v) => v.target === '/var/lib/postgresql/data');
  if (!dataMount?.source || !Object.hasOwn(file.volumes ?? {}, dataMount.source)) {
    problems.push(`the ${postgresName} service keeps /var/lib/postgresql/data in no named volume`);
  }
  const postgresPassword = envOf(postgres).POSTGRES_PASSWORD ?? '';
  if (!REQUIRED.test(postgresPassword)) problems.push(`POSTGRES_PASSWORD is ${postgresPassword ? 'not a required ${…:?…} variable' : 'unset'}`);

  const appEntry = Object.entries(services).find(([, s]) => s.build !== undefined && !s.profiles?.length);
  if (!appEntry) return [...problems, 'no app service built from the Dockerfile'];
  const [appName, app] = appEntry;
  const dependsOn = app.depends_on;
  const condition = dependsOn && !Array.isArray(dependsOn) ? dependsOn[postgresName]?.condition : undefined;
  if (condition !== 'service_healthy') problems.push(`${appName} does not wait for ${postgresName} to be healthy (depends_on condition: service_healthy)`);
  const appEnv = envOf(app);
  const url = appEnv.DATABASE_URL;
  const parts = url ? urlParts(url) : undefined;
  if (!parts) problems.push(`${appName}'s DATABASE_URL is ${url ? 'not a postgres://user:password@host:port/db URL' : 'unset'}`);
  else if (parts.host !== postgresName) problems.push(`${appName}'s DATABASE_URL points at ${parts.host}, not the ${postgresName} service`);
  for (const name of REQUIRED_SECRETS) {
    if (!REQUIRED.test(appEnv[name] ?? '')) problems.push(`${appName}'s ${name} is not a required \${${name}:?…} variable`);
  }
  const ports = (app.ports ?? []).map(String);
  if (!ports.some((p) => /(^|:)3000$/.test(p))) problems.push(`${appName} does not publish container port 3000`);

  for (const [serviceName, service] of Object.entries(services)) {
    for (const [name, value] of Object.entries(envOf(service))) {
      if (name === 'DATABASE_URL' || /^postgres(ql)?:\/\//.test(value)) {
        const password = urlParts(value)?.password;
        if (password !== undefined && !FROM_OUTSIDE.test(password)) problems.push(`${serviceName}'s ${name} has a literal password`);
      } else if (SECRET_NAME.test(name) && value !== '' && !FROM_OUTSIDE.test(value)) {
        problems.push(`${serviceName}'s ${name} is written in the file (use \${${name}:?…})`);
      }
    }
  }
  return problems;
}
