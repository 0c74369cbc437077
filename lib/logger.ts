import pino from 'pino';

// One structured logger. Log names and fingerprints only, never a value (see README, rule 3).
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  redact: { paths: ['value', '*.value', 'password', '*.password', 'secret', '*.secret'], censor: '[redacted]' },
});
