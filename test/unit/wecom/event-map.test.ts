import { type EventOf, EventRegistry, field } from '../../../server/wecom/events';

describe('typed event registry', () => {
  it('resolves a registered key, most specific first, and hands the handler its typed event', async () => {
    const reg = new EventRegistry();
    const got: string[] = [];
    reg.on('event/change_external_contact/transfer_fail', async (e) => {
      got.push(`${field(e, 'ExternalUserID')}:${field(e, 'FailReason')}`);
    });
    reg.on('event/change_external_tag', async (e) => {
      got.push(`tag:${field(e, 'Id')}`);
    });
    const fail = { MsgType: 'event', Event: 'change_external_contact', ChangeType: 'transfer_fail' };
    const r = reg.resolve(fail);
    expect(r?.key).toBe('event/change_external_contact/transfer_fail');
    await r?.handler(
      {
        ...fail,
        ToUserName: 'ww',
        FromUserName: 'sys',
        CreateTime: '1',
        ExternalUserID: ' wm1 ',
        FailReason: 'customer_refused',
      },
      {} as never,
    );
    expect(reg.resolve({ MsgType: 'event', Event: 'change_external_tag', ChangeType: 'create' })?.key).toBe(
      'event/change_external_tag',
    );
    expect(reg.resolve({ MsgType: 'event', Event: 'change_external_chat', ChangeType: 'create' })).toBeUndefined();
    expect(got).toEqual(['wm1:customer_refused']);
  });

  it('reads a repeated or nested element as no text', () => {
    const e = { ToUserName: 'ww', FromUserName: 'sys', CreateTime: '1', MsgType: 'event', ExternalUserID: ['a', 'b'] };
    expect(field(e as EventOf<'event/change_external_contact/del_follow_user'>, 'ExternalUserID')).toBe('');
  });

  it('refuses a second handler for one key', () => {
    const reg = new EventRegistry().on('event/change_contact/create_user', async () => undefined);
    expect(() => reg.on('event/change_contact/create_user', async () => undefined)).toThrow(/already registered/);
  });

  // Compile-time checks: `npm run typecheck` fails if any of these lines stops being an error.
  it('makes a misspelt key or field a type error', () => {
    const reg = new EventRegistry();
    // @ts-expect-error: no such event key
    expect(() => reg.on('event/change_external_contact/add_extrnal_contact', async () => undefined)).not.toThrow();
    reg.on('event/change_external_contact/del_external_contact', async (e) => {
      // @ts-expect-error: del_external_contact has no FailReason
      field(e, 'FailReason');
      field(e, 'Source');
    });
  });
});
