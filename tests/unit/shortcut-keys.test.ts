import { describe, expect, it } from 'vitest';
import { decideShortcut, INITIAL_STATE, nextIndex, SEQUENCE_TIMEOUT_MS, shortcutList, type KeyPress, type ShortcutState } from '@/lib/keyboard/shortcut-keys';

const press = (key: string, time = 0, extra: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, altKey: false, metaKey: false, inField: false, time, ...extra });

/** Runs a sequence of presses and returns each one's action kind/target (or null). */
function run(keys: (string | KeyPress)[], canAudit = true) {
  let state: ShortcutState = INITIAL_STATE;
  return keys.map((k, i) => {
    const result = decideShortcut(state, typeof k === 'string' ? press(k, i * 100) : k, { canAudit });
    state = result.state;
    return result.action;
  });
}

describe('decideShortcut', () => {
  it('goes to the four pages with g and a second key', () => {
    expect(run(['g', 'o'])).toEqual([null, { kind: 'go', to: 'overview' }]);
    expect(run(['g', 'b'])[1]).toEqual({ kind: 'go', to: 'browse' });
    expect(run(['g', 'a'])[1]).toEqual({ kind: 'go', to: 'audit' });
    expect(run(['g', 'f'])[1]).toEqual({ kind: 'go', to: 'freshness' });
  });

  it('offers g a only to those who may see the audit log', () => {
    expect(run(['g', 'a'], false)).toEqual([null, null]);
    expect(shortcutList({ canAudit: false }).some((s) => s.keys.join(' ') === 'g a')).toBe(false);
    expect(shortcutList({ canAudit: true }).some((s) => s.keys.join(' ') === 'g a')).toBe(true);
  });

  it('forgets a g after the timeout, or after another key', () => {
    expect(run([press('g', 0), press('o', SEQUENCE_TIMEOUT_MS + 1)])).toEqual([null, null]);
    expect(run(['g', 'x', 'o'])).toEqual([null, null, null]);
    // A lone o is no shortcut; g g o still goes.
    expect(run(['o'])).toEqual([null]);
    expect(run(['g', 'g', 'o'])[2]).toEqual({ kind: 'go', to: 'overview' });
    // Shift pressed on its way to another key keeps the sequence; ? needs Shift on most layouts.
    expect(run(['g', 'Shift', 'o'])[2]).toEqual({ kind: 'go', to: 'overview' });
    expect(run(['Shift', '?'])[1]).toEqual({ kind: 'help' });
  });

  it('maps ?, j, k, [ and ]', () => {
    expect(run(['?', 'j', 'k', ']', '['])).toEqual([
      { kind: 'help' },
      { kind: 'row', step: 1 },
      { kind: 'row', step: -1 },
      { kind: 'folder', step: 1 },
      { kind: 'folder', step: -1 },
    ]);
  });

  it('never fires while typing in a field or with Ctrl, Alt or Meta held', () => {
    expect(run([press('?', 0, { inField: true }), press('j', 1, { inField: true })])).toEqual([null, null]);
    expect(run([press('j', 0, { ctrlKey: true }), press('k', 1, { altKey: true }), press('[', 2, { metaKey: true })])).toEqual([null, null, null]);
    // A g typed into a field does not start a sequence.
    expect(run([press('g', 0, { inField: true }), press('o', 1)])).toEqual([null, null]);
    // Ctrl in the middle of a sequence cancels it.
    expect(run([press('g', 0), press('o', 1, { ctrlKey: true }), press('o', 2)])).toEqual([null, null, null]);
  });
});

describe('nextIndex', () => {
  it('starts at the first or the last row and stays within the table', () => {
    expect(nextIndex(-1, 5, 1)).toBe(0);
    expect(nextIndex(-1, 5, -1)).toBe(4);
    expect(nextIndex(2, 5, 1)).toBe(3);
    expect(nextIndex(4, 5, 1)).toBe(4);
    expect(nextIndex(0, 5, -1)).toBe(0);
    expect(nextIndex(-1, 0, 1)).toBe(-1);
  });
});
