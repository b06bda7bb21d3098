import { ApiError } from '../services/http';
import { WecomError } from '../wecom/adapter';

export type FailurePhase = 'not_found' | 'forbidden' | 'error';

export interface Failure {
  phase: FailurePhase;
  code: string;
  /** The state screen's title (Chinese). */
  title: string;
  /** Chinese, for the user. */
  message: string;
}

/** Chinese text for the codes the server and the SDK produce; the server's own message is English. */
const MESSAGES: Record<string, string> = {
  network_error: '网络连接失败，请检查网络后重试',
  customer_not_found: '客户不在系统中',
  forbidden_customer: '该客户不由您或您的网点服务，无法查看。',
  forbidden: '您没有执行此操作的权限',
  not_a_manager: '您不是已登记的客户经理，无法使用侧边栏',
  oauth_code_invalid: '登录链接已过期或已被使用过。请点击“重新登录”，或关闭后从聊天工具栏重新打开。',
  oauth_state_mismatch: '登录校验未通过（可能打开了旧的登录链接）。请点击“重新登录”。',
  reauth_pending: '登录已过期，正在重新登录，完成后自动保存',
  request_id_reused: '操作重复提交，请刷新后重试',
  empty_note: '请填写跟进内容',
  bad_date: '下次跟进日期需在今天到一年以内',
  session_not_kept: '登录状态无法保存（浏览器拦截了登录信息），请联系管理员',
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

/** Codes of a failed sign-in: the page offers 重新登录 rather than 网络或服务错误. */
const LOGIN_CODES = new Set(['oauth_code_invalid', 'oauth_state_mismatch', 'session_not_kept']);

/** "该客户由 张伟、李雷 服务" when the server could say who (names only), else the plain refusal. */
function forbiddenCustomer(err: ApiError): string {
  const served = (err.details as { servedBy?: unknown } | undefined)?.servedBy;
  const names = Array.isArray(served) ? served.filter((n): n is string => typeof n === 'string' && n !== '') : [];
  if (!names.length) return `${messageFor(err.code)}如需查看，请联系网点负责人。`;
  return `该客户目前由 ${names.join('、')} 服务，不在您的客户范围内。如需接手，请联系对方或网点负责人办理转交。`;
}

export function classifyError(err: unknown): Failure {
  if (err instanceof ApiError) {
    if (err.status === 404 && err.code === 'customer_not_found') {
      return { phase: 'not_found', code: err.code, title: '客户不在系统中', message: messageFor(err.code) };
    }
    if (err.status === 403) {
      if (err.code === 'forbidden_customer') {
        return { phase: 'forbidden', code: err.code, title: '无法查看该客户', message: forbiddenCustomer(err) };
      }
      const title = err.code === 'not_a_manager' || err.code === 'forbidden_role' ? '无法使用侧边栏' : '没有权限';
      return { phase: 'forbidden', code: err.code, title, message: messageFor(err.code, '您没有执行此操作的权限') };
    }
    if (LOGIN_CODES.has(err.code)) {
      return { phase: 'error', code: err.code, title: '需要重新登录', message: messageFor(err.code) };
    }
    if (err.isNetwork) {
      return { phase: 'error', code: err.code, title: '网络或服务错误', message: messageFor('network_error') };
    }
    return { phase: 'error', code: err.code, title: '网络或服务错误', message: messageFor(err.code) };
  }
  if (err instanceof WecomError) {
    return { phase: 'error', code: 'wecom_jssdk', title: '企业微信调用失败', message: wecomReasonZh(err) };
  }
  return { phase: 'error', code: 'unknown', title: '页面出错了', message: '页面出错了，请重试' };
}

/**
 * What a JS-SDK failure means for the manager, in plain Chinese (never the errMsg or API name).
 * WeCom's errMsg is "<api>:fail <reason>" or ":cancel".
 */
export function wecomReasonZh(err: unknown): string {
  const msg = err instanceof WecomError ? err.errMsg : err instanceof Error ? err.message : String(err);
  const m = msg.toLowerCase();
  if (m.includes(':cancel') || m.includes('cancel')) return '已取消';
  if (m.includes('no permission') || m.includes('permission denied') || m.includes('not in single chat')) {
    return '当前页面不在与客户的聊天中，或应用没有发送权限';
  }
  if (m.includes('not registered') || m.includes('invalid signature') || m.includes('config')) {
    return '企业微信组件没有加载成功，请关闭侧边栏后重新打开';
  }
  if (m.includes('not support') || m.includes('function not exist')) return '企业微信版本过低，请升级企业微信';
  if (err instanceof ApiError && err.isNetwork) return '网络连接失败';
  return '企业微信暂时无法完成该操作';
}
