import { SANDBOX_TASKS_SECTION } from './page-tasks';

/**
 * The sandbox page (/sandbox/): plain HTML + JS, no build step, kept in a TS string so `tsc` ships
 * it in dist/ with the server. It only calls the sandbox's own JSON endpoints.
 *
 * Written for a newcomer on a phone (360 px, no horizontal scroll): the guided story (演示剧本,
 * story.ts) comes first; people are shown by name, never by userid; every technical field
 * (state, WelcomeCode, chatId, DELETE_BY_TRANSFER …) sits in a folded 技术细节 with a sentence
 * that says what it is. The client script avoids template-literal syntax (this file is one).
 */
export const SANDBOX_PAGE_HTML = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>企业微信沙箱 · 演示</title>
<style>
  * { box-sizing: border-box; }
  body { font: 14px/1.6 -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f5f6f7; color: #222; overflow-wrap: anywhere; }
  header { background: #1f6feb; color: #fff; padding: 10px 12px; }
  header strong { font-size: 16px; }
  header a { color: #fff; }
  header .sub { font-size: 12px; opacity: .9; }
  main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 10px; padding: 10px; max-width: 1200px; margin: 0 auto; }
  @media (min-width: 900px) { main { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } .wide { grid-column: 1 / -1; } }
  section { background: #fff; border-radius: 8px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
  h2 { font-size: 16px; margin: 2px 0 8px; }
  h3 { font-size: 14px; margin: 0 0 4px; }
  p { margin: 4px 0; }
  label { display: block; margin: 4px 0; }
  select, input[type=text], button, .btn { font: inherit; max-width: 100%; }
  select, input[type=text] { width: 100%; max-width: 520px; padding: 4px; }
  input[type=checkbox] { vertical-align: middle; }
  button, .btn { display: inline-block; margin: 4px 6px 4px 0; padding: 6px 14px; border-radius: 6px; border: 1px solid #1f6feb; background: #1f6feb; color: #fff; cursor: pointer; text-decoration: none; }
  button.plain, .btn.plain { background: #fff; color: #1f6feb; }
  button[disabled], .btn.off { background: #c9d1d9; border-color: #c9d1d9; color: #fff; cursor: default; pointer-events: none; }
  ol.steps { list-style: none; padding: 0; margin: 0; }
  ol.steps > li { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 10px; margin: 8px 0; }
  ol.steps > li.done { border-color: #2e7d32; background: #f3fbf4; }
  ol.steps > li.current { border-color: #1f6feb; box-shadow: 0 0 0 2px rgba(31,111,235,.15); }
  .num { display: inline-block; width: 22px; height: 22px; line-height: 22px; border-radius: 50%; background: #1f6feb; color: #fff; text-align: center; font-size: 12px; margin-right: 4px; }
  li.done .num { background: #2e7d32; }
  .result { margin: 6px 0 0; padding: 6px 8px; background: #f0f4ff; border-radius: 6px; }
  .result:empty { display: none; }
  details { margin: 6px 0; }
  details > summary { cursor: pointer; color: #555; font-size: 13px; }
  details.tech { font-size: 12px; color: #444; background: #fafafa; border-radius: 6px; padding: 2px 8px; }
  details.tech dl { margin: 4px 0; } details.tech dt { font-weight: 600; } details.tech dd { margin: 0 0 4px 0; }
  code { font-size: 12px; background: #f0f2f4; padding: 0 3px; border-radius: 3px; }
  .chat { background: #ededed; border-radius: 8px; padding: 8px; min-height: 60px; }
  .chat .who { font-size: 12px; color: #666; text-align: center; margin-bottom: 4px; }
  .msg { max-width: 85%; margin: 6px 0 6px auto; background: #95ec69; padding: 6px 8px; border-radius: 6px; }
  .msg small { display: block; color: #557; font-size: 11px; }
  .sys { text-align: center; font-size: 12px; color: #888; margin: 6px 0; }
  .scroll { overflow-x: auto; max-width: 100%; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  td, th { border-bottom: 1px solid #eee; padding: 3px 4px; text-align: left; vertical-align: top; }
  pre { background: #f0f2f4; padding: 6px; max-height: 220px; overflow: auto; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
  .err { color: #c62828; } .ok { color: #2e7d32; } .muted { color: #888; }
  .act { border-top: 1px solid #eee; padding: 6px 0; }
  .nw { white-space: nowrap; }
  table.rec th, table.rec td:not(:last-child), table.log th, table.log td:nth-child(-n+2) { white-space: nowrap; }
</style>
</head>
<body>
<header>
  <strong>企业微信沙箱（演示模式）</strong>
  <div class="sub">这里的银行、客户经理和客户都是虚构的；企业微信由本服务内置的模拟替代，不会连到真实企业微信。</div>
  <div class="sub"><a href="/sidebar/" target="_blank" rel="noopener">打开侧边栏</a> · 以 <b id="hdrManager">…</b> 身份 · <span id="hdrPlace">…</span></div>
</header>
<main>
<section class="wide" id="story" data-testid="story">
  <h2>演示剧本：从扫码到报表，5 步</h2>
  <p class="muted">每一步点一下。第 3、4 步在侧边栏里完成，完成后回到本页。</p>
  <ol class="steps">
    <li id="s1">
      <h3><span class="num">1</span>客户在手机银行扫网点的「联系我」二维码</h3>
      <p>手机银行把客户号发给本服务的分配接口，接口选出客户经理并生成他的二维码。</p>
      <label>扫码的客户 <select id="storyCustomer" data-testid="story-customer"></select></label>
      <button id="s1go" data-testid="step1">扫码</button>
      <div class="result" id="s1out" data-testid="step1-result"></div>
      <details class="tech" id="s1tech"><summary>技术细节</summary><dl id="s1dl"></dl></details>
    </li>
    <li id="s2">
      <h3><span class="num">2</span>客户添加客户经理</h3>
      <p>客户扫码后点「添加」。企业微信通知本服务，本服务发出欢迎语，并把这位微信客户和银行客户对上号。</p>
      <button id="s2go" data-testid="step2" disabled>添加</button>
      <div class="result" id="s2out" data-testid="step2-result"></div>
      <details class="tech"><summary>技术细节</summary><dl id="s2dl"></dl></details>
    </li>
    <li id="chatBox">
      <h3>聊天窗口（模拟）</h3>
      <div class="chat" id="chat" data-testid="chat"><div class="sys">完成第 2 步后，这里显示客户经理和客户的聊天。</div></div>
    </li>
    <li id="s3">
      <h3><span class="num">3</span>客户经理在这个聊天里打开侧边栏</h3>
      <p>侧边栏在新窗口打开，就像在企业微信聊天窗口右侧点开工具栏：客户卡片上有分配原因、客户资料和推荐话术。</p>
      <a class="btn off" id="s3go" data-testid="step3" href="/sandbox/story/open-sidebar" target="_blank" rel="noopener">打开侧边栏</a>
      <div class="result" id="s3out"></div>
      <details class="tech"><summary>技术细节</summary><dl id="s3dl"></dl></details>
    </li>
    <li id="s4">
      <h3><span class="num">4</span>在侧边栏发一条话术</h3>
      <p>在侧边栏任选一条话术点「发送」，再回到本页：聊天窗口里会出现这条消息。</p>
      <div class="result" id="s4out" data-testid="step4-result"></div>
    </li>
    <li id="s5">
      <h3><span class="num">5</span>客户删除了客户经理</h3>
      <p>客户流失了。运营报表会把它算进这位客户经理的流失数。</p>
      <button id="s5go" data-testid="step5" disabled>客户删除客户经理</button>
      <div class="result" id="s5out" data-testid="step5-result"></div>
      <details class="tech"><summary>技术细节</summary><dl id="s5dl"></dl></details>
    </li>
  </ol>
  <button class="plain" id="storyReset" data-testid="story-reset">换一位客户，重新开始</button>
  <span id="storyMsg" class="err" data-testid="story-error"></span>
</section>

<section id="customers">
  <h2>演示客户</h2>
  <p>60 位演示客户，客户号 <code>DEMO0001</code>–<code>DEMO0060</code>。手机号都是编的：客户号 DEMO00NN 对应 139000000NN（例如 DEMO0012 → 13900000012），在侧边栏「关联客户」时可用。</p>
  <details><summary>展开客户名单</summary>
    <div class="scroll"><table class="rec"><thead><tr><th>客户</th><th>手机号（虚构）</th><th>已添加的客户经理</th></tr></thead><tbody id="custRows"></tbody></table></div>
  </details>
</section>

<section id="identity">
  <h2>当前身份</h2>
  <label>登录侧边栏的客户经理 <select id="curManager" data-testid="cur-manager"></select></label>
  <label>侧边栏打开在 <select id="place" data-testid="place"></select></label>
  <span id="ctxMsg" class="muted"></span>
  <details class="tech"><summary>技术细节</summary><dl>
    <dt>OAuth 登录</dt><dd>侧边栏打开时向企业微信问「我是谁」，沙箱回答上面选的客户经理。换人时本页会让侧边栏重新登录。</dd>
    <dt>入口 entry</dt><dd>单聊工具栏 single_chat_tools、群聊工具栏 group_chat_tools、普通页面 normal（不在聊天中，侧边栏显示今日待办）。</dd>
    <dt>外部联系人 ID external_userid / 客户群 chatId</dt><dd>企业微信给微信客户、客户群的编号；侧边栏靠它知道正在和谁聊。</dd>
  </dl></details>
</section>

<section id="more">
  <h2>更多模拟</h2>
  <p class="muted">剧本之外，自由模拟企业微信发给本服务的事件。结果在下方显示。</p>
  <details><summary>展开</summary>
  <div class="act">
    <b>客户添加客户经理</b>
    <label>客户经理 <select class="mgr" id="addMgr"></select></label>
    <label>谁来添加 <select id="addWho"></select></label>
    <details class="tech"><summary>技术细节</summary>
      <label>经过哪个「联系我」二维码 <select id="addWay"><option value="">（不经二维码）</option></select></label>
      <label>渠道参数 state <input type="text" id="addState" maxlength="30" placeholder="可选"></label>
      <label><input type="checkbox" id="addWelcome" checked> 事件带 WelcomeCode（发欢迎语的一次性凭证）</label>
      <label><input type="checkbox" id="addHalf"> 半好友（客户加了客户经理，客户经理还未通过）</label>
      <dl><dt>state</dt><dd>二维码上的渠道参数（≤30 字），客户添加时企业微信原样带回，本服务用它找到分配记录和银行客户。</dd>
      <dt>WelcomeCode</dt><dd>添加事件里的一次性凭证，20 秒内可用来发一次欢迎语。</dd></dl>
    </details>
    <button data-act="add-contact">添加</button>
  </div>
  <div class="act">
    <b>客户删除客户经理</b>（流失）
    <label>客户 <select class="contact" id="cdContact"></select></label>
    <label>客户经理 <select class="mgr" id="cdMgr"></select></label>
    <button data-act="customer-deletes-manager">发送</button>
  </div>
  <div class="act">
    <b>客户经理删除客户</b>
    <label>客户 <select class="contact" id="mdContact"></select></label>
    <label>客户经理 <select class="mgr" id="mdMgr"></select></label>
    <label><input type="checkbox" id="mdTransfer"> 因转接删除（客户已转给另一位客户经理）</label>
    <details class="tech"><summary>技术细节</summary><dl><dt>DELETE_BY_TRANSFER</dt><dd>转接完成时，企业微信发「成员删除客户」事件并带 Source=DELETE_BY_TRANSFER；本服务不把它算作流失。</dd></dl></details>
    <button data-act="manager-deletes-customer">发送</button>
  </div>
  <div class="act">
    <b>客户拒绝转接</b>
    <label>客户 <select class="contact" id="trContact"></select></label>
    <label>接替的客户经理 <select class="mgr" id="trMgr"></select></label>
    <button data-act="transfer-refused">发送</button>
  </div>
  <div class="act">
    <b>企业标签变更</b>（管理后台里改了标签）
    <label>怎么改 <select id="tgType"><option value="create">新建</option><option value="update">改名</option><option value="delete">删除</option></select></label>
    <label>哪个标签 <select id="tgTag"></select></label>
    <label>新名称 <input type="text" id="tgName" placeholder="新建或改名时填写"></label>
    <button data-act="tag-changed">发送</button>
  </div>
  <div class="act">
    <b>客户经理给应用发消息</b>
    <label>客户经理 <select class="mgr" id="msgMgr"></select></label>
    <label>内容 <input type="text" id="msgText" value="你好"></label>
    <button data-act="text-message">发送</button>
  </div>
  <div class="result" id="simOut"></div>
  <details class="tech"><summary>技术细节：回调原文</summary><pre id="simRaw" class="muted">（尚无）</pre></details>
  </details>
</section>

<section id="records">
  <h2>记录</h2>
  <h3>侧边栏发出的消息</h3>
  <div class="scroll"><table class="rec"><thead><tr><th>时间</th><th>客户经理</th><th>发给</th><th>内容</th></tr></thead><tbody id="sent"></tbody></table></div>
  <h3>欢迎语与应用消息</h3>
  <div class="scroll"><table class="rec"><thead><tr><th>时间</th><th>类型</th><th>谁 → 谁</th><th>内容</th></tr></thead><tbody id="outbox"></tbody></table></div>
  <h3>奖励发放请求</h3>
  <p class="muted">沙箱自带的接收端（验签、重复请求只算一次）。</p>
  <div class="scroll"><table class="rec"><thead><tr><th>时间</th><th>活动</th><th>客户经理</th><th>金额</th><th>结果</th></tr></thead><tbody id="rewards"></tbody></table></div>
</section>

${SANDBOX_TASKS_SECTION}
<section class="wide" id="tech">
  <h2>技术细节</h2>
  <p class="muted">企业ID <code id="corp"></code> · 应用ID <code id="agent"></code> · 监控指标在独立端口 METRICS_PORT（默认 http://127.0.0.1:9464/metrics），不在公网端口上。</p>
  <details><summary>模拟企业微信收到的接口请求（每 2 秒刷新，不含 token 和密钥）</summary>
    <div class="scroll"><table class="log"><thead><tr><th>#</th><th>时间</th><th>接口</th><th>参数</th><th>结果</th></tr></thead><tbody id="log"></tbody></table></div>
  </details>
</section>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var data = null, lastSeq = 0, story = null;
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]; }); }
  // An app message as the manager reads it (server/sandbox/message-view.ts turned the card's HTML
  // into lines of text): every piece is escaped, the message's own HTML never reaches the page.
  function appMessage(m) {
    var v = m.view || { title: null, lines: [m.content], url: null, button: null };
    return (v.title ? '<b>' + esc(v.title) + '</b><br>' : '') + v.lines.map(esc).join('<br>') +
      (v.url ? '<br><span class="muted">' + (v.button ? '按钮「' + esc(v.button) + '」打开 ' : '卡片链接 ') + esc(v.url) + '</span>' : '');
  }
  function time(ms) { var d = new Date(ms); return d.toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }); }
  function pct(r) { return r == null ? '—' : (Math.round(r * 1000) / 10) + '%'; }
  function api(method, url, body) {
    return fetch(url, { method: method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status)); return j; }); });
  }
  function options(items) { return items.map(function (i) { return '<option value="' + esc(i[0]) + '">' + esc(i[1]) + '</option>'; }).join(''); }
  function fill(sel, items, keep) { var old = sel.value; sel.innerHTML = options(items); if (keep && old) sel.value = old; }
  function mgrName(id) { var m = data && data.managers.filter(function (x) { return x.userid === id; })[0]; return m ? m.name : '（未知成员）'; }
  function mgrLabel(m) { return m.name + ' · ' + (m.branch || '未分网点') + (m.role === 'branch_lead' ? '（负责人）' : ''); }
  function contactOf(ext) { return data && data.contacts.filter(function (c) { return c.externalUserId === ext; })[0]; }
  function contactLabel(c) {
    if (!c) return '（未知客户）';
    var f = c.follows.map(function (x) { return mgrName(x.userid) + (x.deletedByCustomer ? '（已被删）' : ''); }).join('、');
    return c.name + (c.customerId ? '（' + c.customerId + '）' : '（未关联）') + ' · ' + (f || '无客户经理');
  }
  function dt(k, v) { return '<dt>' + esc(k) + '</dt><dd>' + v + '</dd>'; }

  // ---------- the story ----------
  function mark(id, state) { $(id).className = state; }
  function renderStory(v) {
    story = v;
    var s = v.story, a = s && s.allocation;
    var sel = $('storyCustomer'), old = sel.value;
    // While a story runs the select shows its customer; afterwards the next one who is still new.
    var list = a ? [{ id: s.customerId, name: s.customerName, segment: s.segment }] : v.fresh;
    sel.innerHTML = options(list.map(function (c) { return [c.id, c.id + ' · ' + c.name + ' · ' + c.segment + '客户']; }));
    if (old && v.fresh.some(function (c) { return c.id === old; })) sel.value = old;
    sel.disabled = !!a; $('s1go').disabled = !!a;
    var chat = v.chat || [];
    var welcomed = chat.some(function (m) { return m.kind === 'welcome'; });
    var sent = chat.filter(function (m) { return m.kind === 'sent'; });
    var added = !!(s && s.externalUserId);
    var done = [!!a, added && (welcomed || s.welcomeMissing), !!(s && s.sidebarOpened), sent.length > 0, !!(s && s.deleted)];
    var cur = done.indexOf(false);
    ['s1', 's2', 's3', 's4', 's5'].forEach(function (id, i) { mark(id, done[i] ? 'done' : i === cur ? 'current' : ''); });
    $('s2go').disabled = !a || added;
    $('s3go').className = 'btn' + (added ? '' : ' off');
    $('s5go').disabled = !added || !!(s && s.deleted);
    if (a) {
      $('s3go').textContent = '以 ' + a.managerName + ' 的身份打开侧边栏';
      $('s5go').textContent = (s.customerName || '客户') + ' 删除 ' + a.managerName;
    } else { $('s3go').textContent = '打开侧边栏'; $('s5go').textContent = '客户删除客户经理'; }

    $('s1out').innerHTML = a ? (esc(s.customerName) + '（' + esc(s.customerId) + '）分配给 <b>' + esc(a.managerName) + '</b>' +
      (a.branchName ? '（' + esc(a.branchName) + '）' : '') + '。<br>分配原因：<b>' + esc(a.reasonZh) + '</b>' +
      (a.summary ? '——' + esc(a.summary) : '') + (!a.summary && a.distanceMeters != null ? '<br>客户离网点约 ' + (Math.round(a.distanceMeters / 100) / 10) + ' 公里。' : '')) : '';
    $('s1dl').innerHTML = a ? dt('分配接口', '<code>POST /api/entry/allocate</code>，请求体 <code>' + esc(a.request.body) + '</code>。由沙箱服务器签名（请求头 x-entry-timestamp、x-entry-signature，HMAC-SHA256，密钥 ENTRY_SECRET 只在服务器上，不会发到浏览器）。') +
      dt('分配记录号', '<code>' + esc(a.id) + '</code>（<code>npm run ops -- allocate explain</code> 等命令可查）') +
      dt('渠道参数 state', '<code>' + esc(a.state) + '</code>：印在二维码上，客户添加时企业微信在事件里原样带回，本服务据此找到这次分配和银行客户。') +
      (a.configId ? dt('「联系我」配置 config_id', '<code>' + esc(a.configId) + '</code>，<a href="/sandbox/qr/' + encodeURIComponent(a.configId) + '" target="_blank" rel="noopener">看二维码页</a>') : '') +
      dt('原因代码', '<code>' + esc(a.reason) + '</code>（owner 管户经理 / nearest_branch 就近网点 / fallback 兜底团队 / added_manager 已添加经理）')
      : dt('还没开始', '选一位客户点「扫码」。');

    $('s2out').innerHTML = added ? (esc(s.customerName) + ' 已添加 ' + esc(a.managerName) + '。' +
      (s.linkedCustomerId ? '已关联银行客户 <b>' + esc(s.linkedCustomerId) + '</b>。' : '<span class="err">还没关联到银行客户。</span>') +
      (welcomed ? '欢迎语已发出，见聊天窗口。' : s.welcomeMissing ? '<span class="err">欢迎语没有出现：事件处理（WORKER_ENABLED）是否开着？</span>' : '')) : '';
    $('s2dl').innerHTML = added ? dt('外部联系人 ID external_userid', '<code>' + esc(s.externalUserId) + '</code>：企业微信给这位微信客户的编号。') +
      (s.welcomeCode ? dt('WelcomeCode', '<code>' + esc(s.welcomeCode) + '</code>：添加事件里的一次性凭证，20 秒内可发一次欢迎语。') : '') +
      dt('事件', 'change_external_contact / add_external_contact，带上第 1 步的 state。') : dt('还没开始', '先完成第 1 步。');

    $('s3out').innerHTML = s && s.sidebarOpened ? '已在新窗口打开。没看到？检查浏览器是否拦截了新窗口。' : '';
    $('s3dl').innerHTML = a && added ? dt('侧边栏入口', '单聊工具栏 single_chat_tools，当前客户 <code>' + esc(s.externalUserId) + '</code>。') +
      dt('登录', '以 ' + esc(a.managerName) + ' 身份重新登录（沙箱的 OAuth 回答这位客户经理）。') : dt('还没开始', '先完成第 2 步。');

    $('s4out').innerHTML = sent.length ? '已发送 ' + sent.length + ' 条，最新一条：「' + esc(sent[sent.length - 1].text) + '」' : '';

    var d = s && s.deleted;
    $('s5out').innerHTML = d ? ('报表（近 ' + d.after.days + ' 天）· <b>' + esc(a.managerName) + '</b>：新增 ' + d.after.adds + ' 位客户，流失 ' +
      d.before.churned + ' → <b data-testid="churned-after">' + d.after.churned + '</b> 位（流失率 ' + pct(d.after.churnRate) + '）。全行流失 ' +
      d.before.totalChurned + ' → ' + d.after.totalChurned + ' 位。' + (d.recorded ? '' : '<br><span class="err">删除事件还没处理完，稍后刷新再看。</span>') +
      '<br>命令行里看同一份报表：<code>' + esc(v.reportCommand) + '</code>') : '';
    $('s5dl').innerHTML = dt('事件', 'change_external_contact / del_follow_user：客户删除了客户经理（算流失）。另一种 del_external_contact 是客户经理删除客户；转接完成时它带 Source=DELETE_BY_TRANSFER，不算流失。') +
      dt('报表', '<code>' + esc(v.reportCommand) + '</code>：默认近 30 天，按客户经理分行；加 <code>--format html --out report.html</code> 得到网页版。');

    var who = a && added ? '<div class="who">' + esc(a.managerName) + ' ↔ ' + esc(s.customerName) + '</div>' : '';
    var msgs = chat.map(function (m) {
      return '<div class="msg ' + m.kind + '" data-kind="' + m.kind + '"><small>' + (m.kind === 'welcome' ? '欢迎语（自动发出）' : '侧边栏发送') + ' · ' + time(m.at) + '</small>' + esc(m.text) + '</div>';
    }).join('');
    if (d) msgs += '<div class="sys">' + esc(s.customerName) + ' 删除了 ' + esc(a.managerName) + '</div>';
    $('chat').innerHTML = added ? who + (msgs || '<div class="sys">等待欢迎语…</div>') : '<div class="sys">完成第 2 步后，这里显示客户经理和客户的聊天。</div>';
  }
  function storyStep(path, body, btn) {
    $('storyMsg').textContent = '';
    if (btn) { btn.disabled = true; btn.dataset.label = btn.textContent; btn.textContent = '处理中…'; }
    return api('POST', '/sandbox/story/' + path, body || {}).then(function (v) { renderStory(v); return refreshData(); })
      .catch(function (e) { $('storyMsg').textContent = '没有成功：' + e.message; })
      .then(function () { if (btn && btn.dataset.label) { btn.textContent = btn.dataset.label; } if (story) renderStory(story); });
  }
  $('s1go').addEventListener('click', function () { storyStep('scan', { customerId: $('storyCustomer').value }, $('s1go')); });
  $('s2go').addEventListener('click', function () { storyStep('add', {}, $('s2go')); });
  $('s5go').addEventListener('click', function () { storyStep('delete', {}, $('s5go')); });
  $('storyReset').addEventListener('click', function () { storyStep('reset'); });
  $('s3go').addEventListener('click', function () { setTimeout(function () { refreshStory(); refreshData(); }, 1500); });
  function refreshStory() { return api('GET', '/sandbox/story').then(renderStory).catch(function () {}); }

  // ---------- identity and the free simulations ----------
  function placeValue() { var c = data.context; return c.entry === 'single_chat_tools' && c.externalUserId ? 'ext:' + c.externalUserId : c.entry === 'group_chat_tools' && c.chatId ? 'chat:' + c.chatId : 'normal'; }
  function refreshData() {
    return api('GET', '/sandbox/data').then(function (d) {
      data = d;
      $('corp').textContent = d.corpId; $('agent').textContent = d.agentId;
      var mgrs = d.managers.map(function (m) { return [m.userid, mgrLabel(m)]; });
      var first = !$('curManager').options.length;
      fill($('curManager'), mgrs, false); $('curManager').value = d.currentManager;
      document.querySelectorAll('select.mgr').forEach(function (s) { fill(s, mgrs, true); if (first) s.value = d.currentManager; });
      $('hdrManager').textContent = mgrName(d.currentManager);
      // Where the sidebar opens: the current manager's chats first.
      var mine = d.contacts.filter(function (c) { return c.follows.some(function (f) { return f.userid === d.currentManager && !f.deletedByCustomer; }); });
      var groups = d.groups.filter(function (g) { return g.owner === d.currentManager; }).concat(d.groups.filter(function (g) { return g.owner !== d.currentManager; }));
      $('place').innerHTML = '<option value="normal">不在聊天中（今日待办）</option>' +
        '<optgroup label="与客户单聊">' + options(mine.map(function (c) { return ['ext:' + c.externalUserId, contactLabel(c)]; })) + '</optgroup>' +
        '<optgroup label="客户群">' + options(groups.map(function (g) { return ['chat:' + g.chatId, g.name]; })) + '</optgroup>';
      var pv = placeValue();
      if (pv.indexOf('ext:') === 0 && !mine.some(function (c) { return 'ext:' + c.externalUserId === pv; })) {
        var c = contactOf(pv.slice(4));
        $('place').insertAdjacentHTML('beforeend', '<option value="' + esc(pv) + '">' + esc(contactLabel(c)) + '</option>');
      }
      $('place').value = pv;
      var ps = $('place').options[$('place').selectedIndex];
      $('hdrPlace').textContent = ps ? (pv === 'normal' ? '不在聊天中' : pv.indexOf('ext:') === 0 ? '与 ' + (contactOf(pv.slice(4)) || { name: '客户' }).name + ' 单聊' : '在客户群「' + ps.textContent + '」') : '';
      var contacts = d.contacts.map(function (c) { return [c.externalUserId, contactLabel(c)]; });
      document.querySelectorAll('select.contact').forEach(function (s) { fill(s, contacts, true); });
      var oldWho = $('addWho').value;
      var newCust = d.customers.filter(function (c) { return !c.contacts.length; });
      $('addWho').innerHTML = '<optgroup label="银行客户（还没加过企业微信）">' + options(newCust.map(function (c) { return ['cust:' + c.id, c.id + ' · ' + c.maskedName + ' · ' + c.segment]; })) + '</optgroup>' +
        '<option value="">陌生访客（银行没有记录）</option>' +
        '<optgroup label="已有联系人（再加一位客户经理）">' + options(d.contacts.map(function (c) { return ['ext:' + c.externalUserId, contactLabel(c)]; })) + '</optgroup>';
      if (oldWho) $('addWho').value = oldWho;
      var tags = [];
      d.tagGroups.forEach(function (g) { g.tag.forEach(function (t) { tags.push([t.id, g.group_name + ' / ' + t.name]); }); });
      fill($('tgTag'), tags, true);
      var oldWay = $('addWay').value;
      $('addWay').innerHTML = '<option value="">（不经二维码）</option>' + options(d.contactWays.map(function (w) { return [w.config_id, w.user.map(mgrName).join('、') + ' 的二维码' + (w.state ? '（' + w.state + '）' : '')]; }));
      $('addWay').value = oldWay;
      $('custRows').innerHTML = d.customers.map(function (c) {
        var who = c.contacts.map(function (x) { return x.userids.map(mgrName).join('、'); }).filter(Boolean).join('；');
        return '<tr><td class="nw"><b>' + esc(c.id) + '</b> ' + esc(c.maskedName) + '<br><span class="muted">' + esc(c.segment) + '客户</span></td><td class="nw">' + esc(c.phone) + '</td><td>' + esc(who || '—') + '</td></tr>';
      }).join('');
      var out = d.welcomes.map(function (w) { return [w.at, '欢迎语', mgrName(w.userid) + ' → ' + ((contactOf(w.external_userid) || {}).name || '客户'), esc(w.content)]; })
        .concat(d.messages.map(function (m) { return [m.at, m.msgtype === 'textcard' ? '应用消息（卡片）' : '应用消息', '应用 → ' + String(m.touser || '').split('|').map(mgrName).join('、'), appMessage(m)]; }))
        .sort(function (a, b) { return b[0] - a[0]; });
      $('outbox').innerHTML = out.map(function (r) { return '<tr><td>' + time(r[0]) + '</td><td>' + esc(r[1]) + '</td><td>' + esc(r[2]) + '</td><td>' + r[3] + '</td></tr>'; }).join('');
      var rw = { accepted: '已受理', duplicate: '重复（已忽略）', failed: '模拟失败', bad_signature: '签名错误' };
      $('rewards').innerHTML = (d.rewards || []).slice().reverse().map(function (r) { return '<tr><td>' + time(r.at) + '</td><td>' + esc(r.campaign) + '</td><td>' + esc(mgrName(r.userid)) + '</td><td>' + esc(r.amount) + '</td><td class="' + (r.status === 200 ? 'ok' : 'err') + '">' + esc(rw[r.outcome] || r.outcome) + '</td></tr>'; }).join('');
    });
  }
  function refreshLog() {
    api('GET', '/sandbox/log?since=' + lastSeq).then(function (r) {
      if (!r.calls.length) return;
      lastSeq = r.calls[r.calls.length - 1].seq;
      var rows = r.calls.slice().reverse().map(function (c) {
        var params = Object.assign({}, c.query, c.body && typeof c.body === 'object' ? c.body : {});
        return '<tr><td>' + c.seq + '</td><td>' + time(c.at) + '</td><td>' + esc(c.api) + '</td><td><code>' + esc(JSON.stringify(params).slice(0, 200)) + '</code></td><td class="' + (c.errcode ? 'err' : 'ok') + '">' + (c.errcode ? esc(c.errcode + ' ' + c.errmsg) : '成功') + '</td></tr>';
      }).join('');
      $('log').innerHTML = rows + $('log').innerHTML;
      while ($('log').rows.length > 300) $('log').deleteRow(-1);
    }).catch(function () {});
    api('GET', '/sandbox/api/jssdk/sent').then(function (r) {
      $('sent').innerHTML = r.sent.slice().reverse().map(function (s) {
        var to = s.externalUserId ? (contactOf(s.externalUserId) || { name: '客户' }).name : s.chatId ? '客户群' : '';
        return '<tr><td>' + time(s.at) + '</td><td>' + esc(mgrName(s.userid)) + '</td><td>' + esc(to) + '</td><td>' + esc(s.text ? s.text.content : s.news ? '[链接] ' + s.news.title : s.image ? '[图片]' : s.msgtype) + '</td></tr>';
      }).join('');
    }).catch(function () {});
  }
  function customerOf(id) { return data.customers.filter(function (c) { return c.id === id; })[0]; }
  function opts(act) {
    switch (act) {
      case 'add-contact': {
        var who = $('addWho').value, cust = who.indexOf('cust:') === 0 ? customerOf(who.slice(5)) : null;
        return { userid: $('addMgr').value, externalUserId: who.indexOf('ext:') === 0 ? who.slice(4) : undefined,
          name: cust ? cust.maskedName : undefined, phone: cust ? cust.phone : undefined,
          state: $('addState').value || undefined, welcomeCode: $('addWelcome').checked, half: $('addHalf').checked };
      }
      case 'customer-deletes-manager': return { userid: $('cdMgr').value, externalUserId: $('cdContact').value };
      case 'manager-deletes-customer': return { userid: $('mdMgr').value, externalUserId: $('mdContact').value, byTransfer: $('mdTransfer').checked };
      case 'transfer-refused': return { takeoverUserid: $('trMgr').value, externalUserId: $('trContact').value };
      case 'tag-changed': return { changeType: $('tgType').value, tagId: $('tgType').value === 'create' ? undefined : $('tgTag').value, name: $('tgName').value || undefined };
      case 'text-message': return { userid: $('msgMgr').value, content: $('msgText').value };
    }
  }
  var DONE = { 'add-contact': '已添加', 'customer-deletes-manager': '已删除', 'manager-deletes-customer': '已删除', 'transfer-refused': '已拒绝', 'tag-changed': '标签已变更', 'text-message': '消息已发出' };
  document.querySelectorAll('button[data-act]').forEach(function (b) {
    b.addEventListener('click', function () {
      var act = b.getAttribute('data-act'), o = opts(act);
      $('simOut').className = 'result muted'; $('simOut').textContent = '发送中…';
      api('POST', '/sandbox/simulate/' + act, o).then(function (r) {
        var ok = r.status === 200;
        $('simOut').className = 'result ' + (ok ? 'ok' : 'err');
        $('simOut').textContent = ok ? DONE[act] + '：本服务已收到事件。' : '本服务没有接收这个事件（HTTP ' + r.status + '）。';
        $('simRaw').textContent = '回调应答 HTTP ' + r.status + ' ' + r.body + (r.note ? ' · ' + r.note : '') + '  ' + r.plaintext;
        // The identity follows what was just done: the manager who was added, in that chat.
        if (act === 'add-contact' && ok && !o.half) {
          return api('PUT', '/sandbox/current-manager', { userid: o.userid })
            .then(function () { return api('PUT', '/sandbox/api/jssdk/context', { entry: 'single_chat_tools', externalUserId: r.externalUserId }); });
        }
      }).then(function () { return refreshData(); }).then(refreshLog)
        .catch(function (e) { $('simOut').className = 'result err'; $('simOut').textContent = '没有成功：' + e.message; });
    });
  });
  // A contact chosen in a form brings its manager with it.
  document.querySelectorAll('select.contact').forEach(function (s) {
    s.addEventListener('change', function () {
      var c = contactOf(s.value), m = s.parentNode.parentNode.querySelector('select.mgr');
      if (c && m && c.follows[0] && s.id !== 'trContact') m.value = c.follows[0].userid;
    });
  });
  $('addWay').addEventListener('change', function () {
    var w = (data.contactWays || []).filter(function (x) { return x.config_id === $('addWay').value; })[0];
    if (!w) return;
    if (w.user[0]) $('addMgr').value = w.user[0];
    $('addState').value = w.state || '';
  });
  function saveContext() {
    var v = $('place').value;
    var body = v.indexOf('ext:') === 0 ? { entry: 'single_chat_tools', externalUserId: v.slice(4) } : v.indexOf('chat:') === 0 ? { entry: 'group_chat_tools', chatId: v.slice(5) } : { entry: 'normal' };
    return api('PUT', '/sandbox/api/jssdk/context', body).then(function () { $('ctxMsg').textContent = '已保存，下次打开侧边栏生效。'; return refreshData(); })
      .catch(function (e) { $('ctxMsg').textContent = '没有成功：' + e.message; });
  }
  $('curManager').addEventListener('change', function () {
    var u = $('curManager').value;
    // The forms and the chat follow the manager: their first customer's chat, or no chat.
    document.querySelectorAll('select.mgr').forEach(function (s) { s.value = u; });
    var c = data.contacts.filter(function (x) { return x.follows.some(function (f) { return f.userid === u && !f.deletedByCustomer; }); })[0];
    api('PUT', '/sandbox/current-manager', { userid: u })
      .then(function () { return api('PUT', '/sandbox/api/jssdk/context', c ? { entry: 'single_chat_tools', externalUserId: c.externalUserId } : { entry: 'normal' }); })
      .then(function () { $('ctxMsg').textContent = '已切换，侧边栏会以新身份重新登录。'; return refreshData(); });
  });
  $('place').addEventListener('change', saveContext);
  refreshData().then(refreshStory).then(refreshLog);
  setInterval(function () { refreshLog(); refreshStory(); }, 2000);
  setInterval(refreshData, 10000);
})();
</script>
</body>
</html>
`;
