import { ApiError } from '../services/http';
import { WecomError } from '../wecom/adapter';

export type FailurePhase = 'not_found' | 'forbidden' | 'error';

export interface Failure {
  phase: FailurePhase;
  code: string;
  /** Chinese, for the user. */
  message: string;
}

/** Chinese text for the codes the server and the SDK produce; the server's own message is English. */
const MESSAGES: Record<string, string> = {
  network_error: '网络连接失败，请检查网络后重试',
  customer_not_found: '客户不在系统中',
  forbidden_customer: '您无权查看该客户',
  forbidden: '您无权执行此操作',
  not_a_manager: '您不是已登记的客户经理，无法使用侧边栏',
  oauth_code_invalid: '登录凭证已失效，请重新登录',
  oauth_state_mismatch: '登录校验失败，请重新打开侧边栏',
  session_not_kept: '登录状态无法保存（Cookie 被拦截），请联系管理员',
  wecom_error: '企业微信接口调用失败',
  bad_request: '请求参数有误',
  rate_limited: '操作过于频繁，请稍后再试',
  // Linking a contact to a bank customer. Not found and a wrong phone are one answer on purpose.
  customer_ambiguous: '该手机号对应多位客户，请同时填写客户号',
  customer_owned_elsewhere: '该客户由其他客户经理管户，且对方未添加此微信客户，无法关联',
  link_rate_limited: '核验失败次数过多，请稍后再试',
  invalid_phone: '请输入正确的手机号',
  // The script library: a script that changed since the list was loaded, a refused save.
  template_expired: '该话术已过期，请选择其他话术',
  template_retired: '该话术已停用，请选择其他话术',
  template_not_found: '该话术已不可用，请选择其他话术',
  template_invalid: '该话术内容有误，暂不能使用，请选择其他话术',
  template_noncompliant: '话术未通过合规检查，请按提示修改',
  touch_not_found: '没有找到这次复制记录，请重新复制',
  touch_not_copy: '这条记录已是发送记录，无需确认',
  forbidden_role: '您的角色无法执行此操作',
  // JS-SDK signing: the page address is not this service's own (opened through an odd link).
  url_not_canonical: '页面地址异常，请从企业微信重新打开侧边栏',
  url_foreign_origin: '页面地址异常，请从企业微信重新打开侧边栏',
  url_has_fragment: '页面地址异常，请从企业微信重新打开侧边栏',
  url_not_absolute: '页面地址异常，请从企业微信重新打开侧边栏',
};

export function messageFor(code: string, fallback = '服务暂时不可用，请稍后重试'): string {
  return MESSAGES[code] ?? fallback;
}

export function classifyError(err: unknown): Failure {
  if (err instanceof ApiError) {
    if (err.status === 404 && err.code === 'customer_not_found') {
      return { phase: 'not_found', code: err.code, message: messageFor(err.code) };
    }
    if (err.status === 403) return { phase: 'forbidden', code: err.code, message: messageFor(err.code, '无权限') };
    if (err.isNetwork) return { phase: 'error', code: err.code, message: messageFor('network_error') };
    return { phase: 'error', code: err.code, message: messageFor(err.code) };
  }
  if (err instanceof WecomError) {
    return { phase: 'error', code: 'wecom_jssdk', message: `企业微信调用失败：${err.errMsg}` };
  }
  return { phase: 'error', code: 'unknown', message: '页面出错了，请重试' };
}
