import type { Principal } from './principal';

// The caller for machinery with no signed-in user that reads freshness across every store: the report
// CLI (run on the server's machine by its operator) and /metrics (behind METRICS_TOKEN). A viewer on
// every path of every store: it lists metadata and may do nothing else, so a mistake here can never
// rotate, reveal or manage anything.

export function operatorPrincipal(actor: string): Principal {
  return {
    via: 'session',
    userId: `system:${actor}`,
    email: actor,
    name: null,
    role: 'viewer',
    grants: [{ role: 'viewer', stores: null, paths: ['/**'] }],
  };
}

/**
 * The same machinery as an auditor of every path, for reads that need view-audit (/metrics' findings
 * counts). Only ever handed to read functions; nothing that writes takes it.
 */
export function operatorAuditorPrincipal(actor: string): Principal {
  return { ...operatorPrincipal(actor), role: 'auditor', grants: [{ role: 'auditor', stores: null, paths: ['/**'] }] };
}
