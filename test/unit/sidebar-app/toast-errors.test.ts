import { classifyError, messageFor, wecomReasonZh } from '../../../sidebar-app/src/composables/errors';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { ApiError } from '../../../sidebar-app/src/services/http';
import { WecomError } from '../../../sidebar-app/src/wecom/adapter';

describe('useToast', () => {
  it('shows toasts, dismisses them on their timer and keeps at most three', () => {
    const timers: Array<() => void> = [];
    const toast = useToast({ setTimer: (fn) => timers.push(fn) });
    for (const text of ['a', 'b', 'c', 'd']) toast.show('info', text);
    expect(toast.items.map((t) => t.text)).toEqual(['b', 'c', 'd']);
    timers[2](); // the timer of "c"
    expect(toast.items.map((t) => t.text)).toEqual(['b', 'd']);
    toast.dismiss(toast.items[0].id);
    expect(toast.items.map((t) => t.text)).toEqual(['d']);
  });
});

describe('classifyError', () => {
  it('maps server codes and network failures to page states with Chinese text', () => {
    expect(classifyError(new ApiError(404, 'customer_not_found', 'x'))).toEqual({
      phase: 'not_found',
      code: 'customer_not_found',
      title: '客户不在系统中',
      message: '客户不在系统中',
    });
    expect(classifyError(new ApiError(403, 'forbidden_customer', 'x')).phase).toBe('forbidden');
    expect(classifyError(new ApiError(403, 'not_a_manager', 'x')).message).toBe(messageFor('not_a_manager'));
    expect(classifyError(new ApiError(0, 'network_error', 'x'))).toMatchObject({
      phase: 'error',
      message: messageFor('network_error'),
    });
    expect(classifyError(new ApiError(500, 'internal', 'x')).message).toBe('服务暂时不可用，请稍后重试');
    // Never the SDK's errMsg or an API name: what it means and what to do.
    const sdk = classifyError(new WecomError('register', 'config:fail'));
    expect(sdk.message).toBe('企业微信组件没有加载成功，请关闭侧边栏后重新打开');
    expect(sdk.message).not.toMatch(/[A-Za-z]/);
    expect(classifyError(new TypeError('boom')).phase).toBe('error');
  });

  it('names who serves a customer the manager may not see, and gives one refusal title', () => {
    const named = classifyError(new ApiError(403, 'forbidden_customer', 'x', { servedBy: ['张伟', '李雷'] }));
    expect(named).toMatchObject({ phase: 'forbidden', title: '无法查看该客户' });
    expect(named.message).toContain('张伟、李雷');
    expect(named.message).not.toContain('无权限');
    const unnamed = classifyError(new ApiError(403, 'forbidden_customer', 'x'));
    expect(unnamed.message).toContain('网点负责人');
  });

  it('a stale OAuth code asks to sign in again, not 网络或服务错误', () => {
    expect(classifyError(new ApiError(401, 'oauth_code_invalid', 'x'))).toMatchObject({
      phase: 'error',
      title: '需要重新登录',
    });
  });
});

describe('wecomReasonZh', () => {
  it('says what a JS-SDK failure means, never the errMsg', () => {
    const m = wecomReasonZh(new WecomError('sendChatMessage', 'sendChatMessage:fail_no permission'));
    expect(m).toBe('当前页面不在与客户的聊天中，或应用没有发送权限');
    expect(wecomReasonZh(new WecomError('sendChatMessage', 'sendChatMessage:cancel'))).toBe('已取消');
    expect(wecomReasonZh(new WecomError('openEnterpriseChat', 'openEnterpriseChat:fail function not exist'))).toBe(
      '企业微信版本过低，请升级企业微信',
    );
  });
});
