import { classifyError, messageFor } from '../../../sidebar-app/src/composables/errors';
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
      message: '客户不在系统中',
    });
    expect(classifyError(new ApiError(403, 'forbidden_customer', 'x')).phase).toBe('forbidden');
    expect(classifyError(new ApiError(403, 'not_a_manager', 'x')).message).toBe(messageFor('not_a_manager'));
    expect(classifyError(new ApiError(0, 'network_error', 'x'))).toMatchObject({
      phase: 'error',
      message: messageFor('network_error'),
    });
    expect(classifyError(new ApiError(500, 'internal', 'x')).message).toBe('服务暂时不可用，请稍后重试');
    expect(classifyError(new WecomError('register', 'config:fail')).message).toContain('config:fail');
    expect(classifyError(new TypeError('boom')).phase).toBe('error');
  });
});
