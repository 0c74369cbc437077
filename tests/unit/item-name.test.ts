import { describe, expect, it } from 'vitest';
import { ancestorsOf, checkFolderPath, checkItemName, folderOf, itemNameSchema, leafOf } from '@/lib/validations/item-name';

describe('Parameter Store naming rules', () => {
  it.each(['/prod/payments/db-password', '/a', '/A_b.c-d/e', `/${'a'.repeat(2047)}`, `/${Array(15).fill('x').join('/')}`])(
    'accepts %s',
    (name) => expect(checkItemName(name)).toBeNull(),
  );

  it.each([
    ['', 'required'],
    ['/prod/db password', 'characters'],
    ['/prod/ключ', 'characters'],
    ['/prod/a:b', 'characters'],
    ['prod/db', 'leading-slash'],
    ['/prod/db/', 'trailing-slash'],
    ['/prod//db', 'empty-level'],
    [`/${'a'.repeat(2048)}`, 'length'],
    [`/${Array(16).fill('x').join('/')}`, 'levels'],
    ['/aws/thing', 'reserved-prefix'],
    ['/SSM-config/x', 'reserved-prefix'],
  ])('rejects %j by the %s rule', (name, rule) => {
    expect(checkItemName(name)?.rule).toBe(rule);
    expect(checkItemName(name)?.message.length).toBeGreaterThan(10);
  });

  it('names the offending characters', () => {
    expect(checkItemName('/a b!')?.message).toContain('" "');
    expect(checkItemName('/a b!')?.message).toContain('"!"');
  });

  it('exposes the rules as a zod schema', () => {
    expect(itemNameSchema.safeParse('/ok/name').success).toBe(true);
    const bad = itemNameSchema.safeParse('/bad name');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/only letters, digits/);
  });

  it('checks folder paths', () => {
    expect(checkFolderPath('/')).toBeNull();
    expect(checkFolderPath('/prod/payments/')).toBeNull();
    expect(checkFolderPath('/prod/payments')?.rule).toBe('folder-form');
    expect(checkFolderPath('/prod bad/')?.rule).toBe('characters');
  });

  it('splits names into folders and leaves', () => {
    expect(folderOf('/a/b/c')).toBe('/a/b/');
    expect(folderOf('/c')).toBe('/');
    expect(leafOf('/a/b/c')).toBe('c');
    expect(leafOf('/a/b/')).toBe('b');
    expect(ancestorsOf('/a/b/')).toEqual(['/', '/a/', '/a/b/']);
    expect(ancestorsOf('/')).toEqual(['/']);
  });
});
