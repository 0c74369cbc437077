import { describe, expect, it } from 'vitest';
import { firstBadEscape, malformedUrlProblem } from '@/lib/http/malformed-url';

describe('malformedUrlProblem', () => {
  it.each([
    ['/', ''],
    ['/', '?'],
    ['/browse', ''],
    ['/browse/local/prod/payments', '?q=stripe&sort=name&dir=desc'],
    ['/items/local/prod/auth/jwt%2Fprivate-key', ''],
    ['/browse/local/%41%42', '?q=%25ZZ'], // a literal "%ZZ", escaped properly
    ['/caf%C3%A9/%E2%82%AC/%F0%9F%98%80', '?q=%e2%82%ac'], // UTF-8 of é, €, an emoji; lower-case hex too
    ['/api/v1/stores/local/items', '?path=%2Fprod%2F&recursive=true&limit=10'],
    ['/api/auth/callback/oidc', '?code=abc.DEF-_~&state=x%3D%3D&iss=http%3A%2F%2F127.0.0.1%3A3297'],
    ['/api/v1/audit', '?flag&=&a=1&&b=+plus+'], // keys without values, empty pairs, "+" for spaces
    ['/sign-in', '?callbackUrl=%2Fbrowse%2Flocal%3Fq%3Da%2526b'],
    ['/browse', '?q=100%25'],
  ])('accepts %s with query %j', (pathname, search) => {
    expect(malformedUrlProblem(pathname, search)).toBeNull();
  });

  it.each([
    // path
    ['/api/v1/stores/%ZZ/items', '', '%ZZ', 'in its path'],
    ['/api/v1/stores/local/items/%ZZ', '', '%ZZ', 'in its path'],
    ['/browse/local/%', '', '%', 'in its path'],
    ['/%', '', '%', 'in its path'],
    ['/browse/local/prod%', '', '%', 'in its path'],
    ['/items/local/a%4', '', '%4', 'in its path'],
    ['/items/local/%E0%A4%A', '', '%E0%A4%A', 'in its path'], // truncated UTF-8, then a broken escape
    ['/items/local/%E0%A4', '', '%E0%A4', 'in its path'], // truncated UTF-8
    ['/items/local/%C0%AF', '', '%C0%AF', 'in its path'], // overlong "/", not UTF-8
    ['/items/local/ok%41%C0%AFrest', '', '%C0%AF', 'in its path'], // the good %41 in front is not blamed
    ['/items/local/%ED%A0%80', '', '%ED%A0%80', 'in its path'], // a UTF-16 surrogate, not UTF-8
    ['/browse/local/%FF', '', '%FF', 'in its path'],
    ['/browse/ok/%G1/%ZZ', '', '%G1', 'in its path'], // the first bad segment is named
    // query
    ['/browse', '?q=%ZZ', '%ZZ', 'query parameter "q"'],
    ['/browse', 'q=%ZZ', '%ZZ', 'query parameter "q"'], // without the leading "?"
    ['/api/v1/stores/local/items', '?path=%', '%', 'query parameter "path"'],
    ['/api/v1/audit', '?%ZZ=1', '%ZZ', 'a query parameter name'],
    ['/api/v1/audit', '?%ZZ', '%ZZ', 'a query parameter name'],
    ['/browse', '?sort=name&q=%E0%A4%A', '%E0%A4%A', 'query parameter "q"'],
    ['/browse', '?q=%C0%AF', '%C0%AF', 'query parameter "q"'],
    ['/browse', '?q=ok&dir=asc%2', '%2', 'query parameter "dir"'],
    ['/browse', '?na%20me=%Z', '%Z', 'query parameter "na me"'],
  ])('rejects %s with query %j, naming %s', (pathname, search, escape, where) => {
    const problem = malformedUrlProblem(pathname, search);
    expect(problem).not.toBeNull();
    expect(problem).toContain(`malformed %-escape ("${escape}")`);
    expect(problem).toContain(where);
    expect(problem).toContain('%25');
  });

  it('reports the path before the query', () => {
    expect(malformedUrlProblem('/a/%ZZ', '?q=%C0%AF')).toContain('("%ZZ") in its path');
  });
});

describe('firstBadEscape', () => {
  it.each(['', 'plain', '%41', '%2F%2f', 'a%20b', '%E2%82%AC', '100%25'])('finds nothing wrong in %j', (component) => {
    expect(firstBadEscape(component)).toBeNull();
  });

  it.each([
    ['%ZZ', '%ZZ'],
    ['%', '%'],
    ['x%Z', '%Z'],
    ['%Z%41', '%Z'],
    ['%E2%82%AC%', '%'],
    ['%F0%9F%98%80%C0', '%C0'],
    ['%E0%A4%A', '%E0%A4%A'],
    ['%C0%AF', '%C0%AF'],
  ])('in %j blames %j', (component, escape) => {
    expect(firstBadEscape(component)).toBe(escape);
  });
});
