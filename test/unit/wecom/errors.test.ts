import { ipFromErrmsg, ruleFor, toError, wecomErrorInfo } from '../../../server/wecom/errors';

describe('errcode table', () => {
  it.each([
    [-1, 'backoff', 'retryable'],
    [45009, 'backoff', 'retryable'],
    [45033, 'backoff', 'retryable'],
    [40014, 'refresh', 'retryable'],
    [42001, 'refresh', 'retryable'],
    [40001, 'refresh', 'retryable'],
    [40013, 'fail', 'config'],
    [48002, 'fail', 'config'],
    [48009, 'fail', 'config'],
    [60020, 'fail', 'config'],
    [50001, 'fail', 'config'],
    [84061, 'fail', 'data'],
    [60011, 'fail', 'data'],
    [40096, 'fail', 'data'],
    [41051, 'fail', 'final'],
    [40128, 'fail', 'final'],
    [40029, 'fail', 'auth'],
    [12345, 'fail', 'unknown'],
  ])('errcode %i on an API → %s / %s', (code, action, kind) => {
    expect(ruleFor('externalcontact/get', code)).toMatchObject({ action, kind });
  });

  it('40001 on gettoken is a config error, not a refresh', () => {
    expect(ruleFor('gettoken', 40001)).toMatchObject({ action: 'fail', kind: 'config' });
    expect(ruleFor('gettoken', -1)).toMatchObject({ action: 'backoff' });
  });

  it('reads the caller IP out of a 60020 errmsg', () => {
    expect(
      ipFromErrmsg('not allow to access from your ip, hint: [x], from ip: 101.35.2.4, more info at https://…'),
    ).toBe('101.35.2.4');
    expect(ipFromErrmsg('from ip: 2001:db8::1, more')).toBe('2001:db8::1');
    expect(ipFromErrmsg('no ip here')).toBeUndefined();
    const e = toError('user/get', 60020, 'not allow to access from your ip', ruleFor('user/get', 60020));
    expect(e.message).toContain("the server's egress IP");
  });
});

describe('wecomErrorInfo: the one reading of a WeCom error', () => {
  it('gives the classification of a client error and nothing for other errors', () => {
    const err = toError('externalcontact/get', 84061, 'not external contact', ruleFor('externalcontact/get', 84061));
    expect(wecomErrorInfo(err)).toEqual({ kind: err.kind, errcode: 84061 });
    // Look-alikes are not WeCom errors: a duck-typed object must not steer retries or dead letters.
    expect(wecomErrorInfo({ kind: 'data', errcode: 84061 })).toEqual({ kind: 'unknown', errcode: null });
    expect(wecomErrorInfo(new Error('ECONNRESET'))).toEqual({ kind: 'unknown', errcode: null });
    expect(wecomErrorInfo(null)).toEqual({ kind: 'unknown', errcode: null });
  });
});
