import 'server-only';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { VaultAuthConfig } from '@/lib/config/stores';
import { realClock, RateLimiter, type Clock } from '@/lib/inventory/rate-limiter';
import { logger } from '@/lib/logger';
import { StoreError } from '../errors';

// One Vault server as a store sees it: HTTP(S) with the configured CA, X-Vault-Token and
// X-Vault-Namespace, every request within the store's rate and concurrency, and Vault's answers
// mapped to StoreErrors that name the cause (sealed, standby, refused, token expired, throttled).
// Logs in with AppRole or Kubernetes, renews the token before it expires and logs in again once
// renewal no longer helps. No token, secret id, service-account token or response body ever goes
// into a log line or an error message.

export interface VaultAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or null for an empty body. */
  body: any;
}

export interface VaultClientOptions {
  storeId: string;
  address: string;
  namespace?: string;
  auth: VaultAuthConfig;
  caFile?: string;
  /** Requests per second at most. */
  rate: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Where tokenEnv, roleIdEnv and secretIdEnv are read (process.env). */
  env?: Record<string, string | undefined>;
  /** Milliseconds since the epoch (tests move it to reach renewal and expiry). */
  now?: () => number;
  clock?: Clock;
  /** Per request (default 15 s). */
  timeoutMs?: number;
}

/** Renew (or log in again) once this share of the token's TTL is left. */
const RENEW_WHEN_LEFT = 1 / 3;
/** The longest a Retry-After is waited for inside one call; longer ones fail as throttled. */
const MAX_RETRY_AFTER_S = 30;
const MAX_THROTTLE_RETRIES = 4;
/** A 403 with a token Vault still knows is a policy refusal; the check is trusted this long. */
const TOKEN_CHECK_MS = 5_000;

interface TokenState {
  token: string;
  /** Milliseconds since the epoch, or null for a token that does not expire (root). */
  expiresAt: number | null;
  ttlMs: number;
  renewable: boolean;
  /** Renewal reached the token's max TTL: only a new login gives more time. */
  capped: boolean;
  /** From a login (AppRole, Kubernetes): can be replaced by logging in again. */
  fromLogin: boolean;
}

/** Vault's `errors` array joined, for matching only (never shown: it can echo a request). */
function errorText(body: unknown): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.filter((e) => typeof e === 'string').join('\n') : '';
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resume) => this.waiting.push(resume));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class VaultClient {
  readonly storeId: string;
  readonly address: string;
  readonly namespace: string | undefined;
  private readonly auth: VaultAuthConfig;
  private readonly env: Record<string, string | undefined>;
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly slots: Semaphore;
  private agentMade: http.Agent | null = null;
  private readonly caFile: string | undefined;
  private readonly maxSockets: number;
  private readonly timeoutMs: number;
  private readonly url: URL;
  private token: TokenState | null = null;
  private tokenTask: Promise<TokenState> | null = null;
  private blockedUntil = 0;
  private tokenCheckedAt = -Infinity;

  constructor(options: VaultClientOptions) {
    this.storeId = options.storeId;
    this.address = options.address.replace(/\/+$/, '');
    this.url = new URL(this.address);
    this.namespace = options.namespace;
    this.auth = options.auth;
    this.env = options.env ?? process.env;
    this.now = options.now ?? Date.now;
    this.clock = options.clock ?? realClock;
    this.limiter = new RateLimiter(options.rate, this.clock);
    this.slots = new Semaphore(options.concurrency);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.caFile = options.caFile;
    this.maxSockets = options.concurrency;
  }

  /** Made on the first request, so a CA file that cannot be read fails this store's calls, not start-up. */
  private get agent(): http.Agent {
    if (this.agentMade) return this.agentMade;
    const agentOptions = { keepAlive: true, maxSockets: this.maxSockets };
    if (this.url.protocol !== 'https:') return (this.agentMade = new http.Agent(agentOptions));
    let ca: Buffer | undefined;
    if (this.caFile) {
      try {
        ca = readFileSync(this.caFile);
      } catch {
        throw new StoreError('unavailable', this.storeId, `${this.head()}: caFile ${this.caFile} cannot be read; fix the path in CONFIG_FILE.`);
      }
    }
    return (this.agentMade = new https.Agent({ ...agentOptions, ...(ca ? { ca } : {}) }));
  }

  private head(): string {
    return `Store "${this.storeId}"`;
  }

  /** The token as it stands (tests): expiry and whether it came from a login. Never the token. */
  tokenInfo(): { expiresAt: number | null; renewable: boolean; capped: boolean; fromLogin: boolean } | null {
    return this.token && { expiresAt: this.token.expiresAt, renewable: this.token.renewable, capped: this.token.capped, fromLogin: this.token.fromLogin };
  }

  close(): void {
    this.agentMade?.destroy();
    this.agentMade = null;
  }

  /** One HTTP exchange, no pacing, no mapping (beyond network failures). */
  private send(method: string, path: string, options: { body?: unknown; token?: string | null }): Promise<VaultAnswer> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const target = new URL(`${this.url.pathname.replace(/\/+$/, '')}/v1/${path}`, this.url);
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise<VaultAnswer>((resolve, reject) => {
      const req = transport.request(
        target,
        {
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(options.token ? { 'x-vault-token': options.token } : {}),
            ...(this.namespace ? { 'x-vault-namespace': this.namespace } : {}),
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            try {
              body = text ? JSON.parse(text) : null;
            } catch {
              body = null;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    }).catch((error: unknown) => {
      if (error instanceof StoreError) throw error;
      const code = (error as { code?: string } | null)?.code;
      if (code === 'ETIMEDOUT')
        throw new StoreError('timeout', this.storeId, `${this.head()}: Vault at ${this.address} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`);
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
        throw new StoreError('unavailable', this.storeId, `${this.head()}: Vault's TLS certificate at ${this.address} is not trusted (${code}); set caFile to the CA that signed it.`);
      throw new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} cannot be reached${code ? ` (${code})` : ''}.`);
    });
  }

  /** The answers every path shares: sealed, standby, not initialised, server errors. */
  private unavailable(answer: VaultAnswer): StoreError | null {
    const text = errorText(answer.body);
    if (answer.status === 503 && /sealed/i.test(text))
      return new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} is sealed; unseal it (vault operator unseal) and the store comes back by itself.`);
    if (answer.status === 307 || answer.status === 308) {
      const location = typeof answer.headers.location === 'string' ? new URL(answer.headers.location, this.address).origin : 'the active node';
      return new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} is a standby node and redirects to ${location}; set address to the active node (or a load balancer that sends requests to it).`);
    }
    if (answer.status === 500 && /not active|active cluster node not found/i.test(text))
      return new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} is a standby node and knows no active node; check the cluster's leader (vault status).`);
    if (answer.status === 501 || (answer.status === 503 && /not initialized/i.test(text)))
      return new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} is not initialised.`);
    if (answer.status >= 500) return new StoreError('unavailable', this.storeId, `${this.head()}: Vault at ${this.address} answered HTTP ${answer.status}; see Vault's server log.`);
    return null;
  }

  /** Paced, within the concurrency, waiting out a Retry-After; throttling past that fails as throttled. */
  private async paced(method: string, path: string, options: { body?: unknown; token?: string | null }): Promise<VaultAnswer> {
    for (let attempt = 1; ; attempt++) {
      const blocked = this.blockedUntil - this.clock.now();
      if (blocked > 0) await this.clock.sleep(blocked);
      await this.limiter.take();
      const answer = await this.slots.run(() => this.send(method, path, options));
      if (answer.status !== 429) {
        this.limiter.succeeded();
        return answer;
      }
      this.limiter.throttled();
      const retryAfter = Number(answer.headers['retry-after'] ?? '1');
      const wait = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1;
      if (wait > MAX_RETRY_AFTER_S || attempt >= MAX_THROTTLE_RETRIES)
        throw new StoreError('throttled', this.storeId, `${this.head()}: Vault's rate limit quota refused requests (retry after ${wait} s); lower the store's rate in CONFIG_FILE or raise the quota.`);
      this.blockedUntil = Math.max(this.blockedUntil, this.clock.now() + wait * 1000);
    }
  }

  // ---- tokens ---------------------------------------------------------------------------------

  private envValue(name: string, what: string): string {
    const value = this.env[name];
    if (!value) throw new StoreError('credentials-expired', this.storeId, `${this.head()}: the environment variable ${name} (${what}) is not set or empty.`);
    return value.trim();
  }

  private fromAuth(auth: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown }, fromLogin: boolean): TokenState {
    if (typeof auth.client_token !== 'string' || !auth.client_token)
      throw new StoreError('credentials-expired', this.storeId, `${this.head()}: Vault's login answer carried no token.`);
    const ttlS = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
    return { token: auth.client_token, expiresAt: ttlS > 0 ? this.now() + ttlS * 1000 : null, ttlMs: ttlS * 1000, renewable: auth.renewable === true, capped: false, fromLogin };
  }

  private async login(): Promise<TokenState> {
    const auth = this.auth;
    if (auth.method === 'token') {
      const token = this.envValue(auth.tokenEnv, 'the Vault token');
      const answer = await this.paced('GET', 'auth/token/lookup-self', { token });
      const down = this.unavailable(answer);
      if (down) throw down;
      if (answer.status === 403)
        throw new StoreError('credentials-expired', this.storeId, `${this.head()}: Vault refused the token in ${auth.tokenEnv} (expired, revoked or unknown); put a valid token there and restart.`);
      if (answer.status !== 200) throw new StoreError('unavailable', this.storeId, `${this.head()}: looking up the token in ${auth.tokenEnv} failed (HTTP ${answer.status}).`);
      const data = answer.body?.data ?? {};
      const ttlS = typeof data.ttl === 'number' ? data.ttl : 0;
      this.tokenCheckedAt = this.clock.now();
      return { token, expiresAt: ttlS > 0 ? this.now() + ttlS * 1000 : null, ttlMs: (typeof data.creation_ttl === 'number' ? data.creation_ttl : ttlS) * 1000, renewable: data.renewable === true, capped: false, fromLogin: false };
    }
    const [path, body, what] =
      auth.method === 'approle'
        ? [`auth/${auth.mount ?? 'approle'}/login`, { role_id: this.envValue(auth.roleIdEnv, 'the AppRole role id'), secret_id: this.envValue(auth.secretIdEnv, 'the AppRole secret id') }, `AppRole login (role id from ${auth.roleIdEnv}, secret id from ${auth.secretIdEnv})`]
        : [`auth/${auth.mount ?? 'kubernetes'}/login`, { role: auth.role, jwt: this.serviceAccountToken(auth.tokenFile) }, `Kubernetes login as role "${auth.role}"`];
    const answer = await this.paced('POST', path, { body, token: null });
    const down = this.unavailable(answer);
    if (down) throw down;
    if (answer.status === 200 && answer.body?.auth) {
      logger.info({ store: this.storeId, method: auth.method }, 'logged in to Vault');
      this.tokenCheckedAt = this.clock.now();
      return this.fromAuth(answer.body.auth, true);
    }
    const reason = answer.status === 400 || answer.status === 403 ? 'Vault refused the credentials' : `Vault answered HTTP ${answer.status}`;
    throw new StoreError('credentials-expired', this.storeId, `${this.head()}: ${what} failed: ${reason}; check the role and its credentials.`);
  }

  private serviceAccountToken(file: string | undefined): string {
    const path = file ?? '/var/run/secrets/kubernetes.io/serviceaccount/token';
    try {
      const jwt = readFileSync(path, 'utf8').trim();
      if (jwt) return jwt;
    } catch {
      // Named below.
    }
    throw new StoreError('credentials-expired', this.storeId, `${this.head()}: the service-account token file ${path} cannot be read or is empty.`);
  }

  /** renew-self; false when Vault will not renew (not renewable, or refused). */
  private async renew(state: TokenState): Promise<TokenState | null> {
    const increment = Math.max(60, Math.round(state.ttlMs / 1000));
    const answer = await this.paced('POST', 'auth/token/renew-self', { body: { increment: `${increment}s` }, token: state.token });
    const down = this.unavailable(answer);
    if (down) throw down;
    if (answer.status !== 200 || !answer.body?.auth) return null;
    const renewed = this.fromAuth(answer.body.auth, state.fromLogin);
    // Vault caps a renewal at the token's max TTL (with a warning): more renewals give nothing.
    renewed.capped = renewed.ttlMs < increment * 1000 - 1000;
    renewed.ttlMs = state.ttlMs;
    logger.info({ store: this.storeId, capped: renewed.capped }, 'renewed the Vault token');
    return renewed;
  }

  private needsRefresh(state: TokenState): boolean {
    if (state.expiresAt === null) return false;
    return state.expiresAt - this.now() <= state.ttlMs * RENEW_WHEN_LEFT;
  }

  private async refresh(current: TokenState | null): Promise<TokenState> {
    if (!current) return this.login();
    if (current.renewable && !current.capped) {
      const renewed = await this.renew(current);
      if (renewed && !(renewed.capped && current.fromLogin && this.needsRefresh(renewed))) return renewed;
    }
    if (current.fromLogin) return this.login();
    if (current.expiresAt !== null && current.expiresAt <= this.now())
      throw new StoreError('credentials-expired', this.storeId, `${this.head()}: the Vault token in ${(this.auth as { tokenEnv: string }).tokenEnv} has expired and cannot be renewed; put a new token there and restart.`);
    return current;
  }

  /** A token good for now: logged in, renewed or logged in again as needed (one at a time). */
  private async currentToken(force = false): Promise<TokenState> {
    const state = this.token;
    if (state && !force && !this.needsRefresh(state)) return state;
    if (!this.tokenTask) {
      const task = this.refresh(force ? null : state);
      this.tokenTask = task;
      task
        .then((next) => (this.token = next))
        .catch(() => undefined)
        .finally(() => {
          if (this.tokenTask === task) this.tokenTask = null;
        });
    }
    return this.tokenTask;
  }

  /** Whether Vault still knows the token (a 403 is then a policy refusal, not an expired token). */
  private async tokenValid(token: string): Promise<boolean> {
    if (this.clock.now() - this.tokenCheckedAt < TOKEN_CHECK_MS) return true;
    const answer = await this.paced('GET', 'auth/token/lookup-self', { token });
    if (answer.status === 200) this.tokenCheckedAt = this.clock.now();
    return answer.status === 200;
  }

  /**
   * One authenticated request. Sealed, standby and server errors become StoreErrors; a 403 with
   * a token Vault no longer knows logs in again (AppRole, Kubernetes) and retries once, or fails as
   * credentials-expired; a 403 with a valid token is answered as it is (the caller names the path).
   */
  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST', path: string, body?: unknown): Promise<VaultAnswer> {
    const [verb, target] = method === 'LIST' ? (['GET', `${path}${path.includes('?') ? '&' : '?'}list=true`] as const) : ([method, path] as const);
    for (let attempt = 1; ; attempt++) {
      const state = await this.currentToken();
      const answer = await this.paced(verb, target, { body, token: state.token });
      const down = this.unavailable(answer);
      if (down) throw down;
      if (answer.status !== 403) return answer;
      if (await this.tokenValid(state.token)) return answer;
      // The token is gone (expired, revoked): the next request must not use it either.
      if (this.token === state) this.token = null;
      if (!state.fromLogin)
        throw new StoreError('credentials-expired', this.storeId, `${this.head()}: Vault no longer accepts the token in ${(this.auth as { tokenEnv?: string }).tokenEnv ?? 'the environment'} (expired or revoked); put a valid token there and restart.`);
      if (attempt >= 2) throw new StoreError('credentials-expired', this.storeId, `${this.head()}: Vault refused the token it had just issued at login; check the auth role's token settings.`);
      logger.warn({ store: this.storeId }, 'the Vault token was refused; logging in again');
      await this.currentToken(true);
    }
  }

  /** sys/health without a token: what the node says it is. */
  async health(): Promise<{ status: number; sealed: boolean; standby: boolean; initialized: boolean }> {
    // Not through paced(): health answers 429 for a standby, which is no throttling.
    await this.limiter.take();
    const answer = await this.slots.run(() => this.send('GET', 'sys/health', { token: null }));
    const body = answer.body ?? {};
    return { status: answer.status, sealed: body.sealed === true, standby: body.standby === true, initialized: body.initialized !== false };
  }
}
