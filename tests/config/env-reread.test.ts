import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '@/lib/config/env';

// readEnv keeps the settings it last read from process.env (every request reads them many times),
// and reads them again as soon as one variable changes: a kept value must never outlive its variable.

describe('readEnv', () => {
  const saved = process.env.SYNC_INTERVAL_MINUTES;
  afterEach(() => {
    if (saved === undefined) delete process.env.SYNC_INTERVAL_MINUTES;
    else process.env.SYNC_INTERVAL_MINUTES = saved;
  });

  it('answers the same settings while nothing changes, and the new ones once a variable does', () => {
    process.env.SYNC_INTERVAL_MINUTES = '17';
    const first = readEnv();
    expect(first.SYNC_INTERVAL_MINUTES).toBe(17);
    expect(readEnv()).toBe(first);
    process.env.SYNC_INTERVAL_MINUTES = '23';
    expect(readEnv().SYNC_INTERVAL_MINUTES).toBe(23);
    delete process.env.SYNC_INTERVAL_MINUTES;
    expect(readEnv().SYNC_INTERVAL_MINUTES).not.toBe(23);
  });

  it('refuses a bad value every time, even right after a good one was read', () => {
    process.env.SYNC_INTERVAL_MINUTES = '5';
    readEnv();
    process.env.SYNC_INTERVAL_MINUTES = 'often';
    expect(() => readEnv()).toThrow(ConfigError);
    expect(() => readEnv()).toThrow(ConfigError);
  });

  it('reads another source as given, without keeping it', () => {
    process.env.SYNC_INTERVAL_MINUTES = '5';
    expect(readEnv({ ...process.env, SYNC_INTERVAL_MINUTES: '9' }).SYNC_INTERVAL_MINUTES).toBe(9);
    expect(readEnv().SYNC_INTERVAL_MINUTES).toBe(5);
  });

  it('the settings handed out cannot be changed by a caller', () => {
    expect(() => {
      (readEnv() as { SYNC_INTERVAL_MINUTES: number }).SYNC_INTERVAL_MINUTES = 1;
    }).toThrow(TypeError);
  });
});
