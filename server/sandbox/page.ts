/**
 * The sandbox page (/sandbox/): plain HTML + JS, no build step, kept in a TS string so `tsc` ships
 * it in dist/ with the server. It only calls the sandbox's own JSON endpoints.
 */
export const SANDBOX_PAGE_HTML = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>企业微信沙箱</title>
<style>
  body { font: 14px/1.5 -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f5f6f7; color: #222; }
  header { background: #1f6feb; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header a { color: #fff; }
  main { display: grid; grid-template-columns: minmax(340px, 1fr) minmax(340px, 1fr); gap: 12px; padding: 12px; }
  section { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h2 { font-size: 15px; margin: 4px 0 8px; }
  label { display: inline-block; margin: 2px 8px 2px 0; }
  select, input[type=text] { max-width: 240px; }
  button { margin: 4px 4px 4px 0; cursor: pointer; }
  .act { border-top: 1px solid #eee; padding: 6px 0; }
  pre { background: #f0f2f4; padding: 6px; max-height: 220px; overflow: auto; font-size: 12px; white-space: pre-wrap; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  td, th { border-bottom: 1px solid #eee; padding: 2px 4px; text-align: left; }
  .err { color: #c62828; } .ok { color: #2e7d32; } .muted { color: #888; }
  .wide { grid-column: 1 / -1; }
</style>
</head>
<body>
<header>
  <strong>企业微信沙箱（演示模式）</strong>
  <span>企业ID：<code id="corp"></code> 应用ID：<code id="agent"></code></span>
  <a href="/sidebar/" target="_blank">打开侧边栏 /sidebar/</a>
  <span title="监控指标不在公网端口上">监控指标：独立端口 METRICS_PORT（默认 http://127.0.0.1:9464/metrics）</span>
</header>
<main>
<section>
  <h2>当前身份与会话</h2>
  <div>当前客户经理（OAuth 登录为此成员）：<select id="curManager"></select></div>
  <div>侧边栏入口：
    <select id="entry">
      <option value="single_chat_tools">单聊工具栏 single_chat_tools</option>
      <option value="group_chat_tools">群聊工具栏 group_chat_tools</option>
      <option value="normal">普通页面 normal</option>
    </select>
  </div>
  <div>当前外部联系人：<select id="ctxContact"></select></div>
  <div>当前客户群 chatId：<input type="text" id="ctxChat" value="wrsbxdemochat0001"></div>
  <button id="saveCtx">保存侧边栏上下文</button> <span id="ctxMsg" class="muted"></span>
</section>

<section>
  <h2>模拟企业微信回调</h2>
  <div class="act">
    <b>客户添加客户经理</b><br>
    <label>扫「联系我」二维码 <select id="addWay"><option value="">（不经二维码）</option></select></label><br>
    <label>客户经理 <select class="mgr" id="addMgr"></select></label>
    <label>客户 <select id="addContact"><option value="">（新客户）</option></select></label>
    <label>新客户昵称 <input type="text" id="addName" placeholder="可选"></label>
    <label>state <input type="text" id="addState" maxlength="30" placeholder="渠道参数，可选"></label>
    <label><input type="checkbox" id="addWelcome" checked> 带 WelcomeCode</label>
    <label><input type="checkbox" id="addHalf"> 半好友（免验证）</label>
    <button data-act="add-contact">发送</button>
  </div>
  <div class="act">
    <b>客户删除客户经理</b>（流失）<br>
    <label>客户经理 <select class="mgr" id="cdMgr"></select></label>
    <label>客户 <select class="contact" id="cdContact"></select></label>
    <button data-act="customer-deletes-manager">发送</button>
  </div>
  <div class="act">
    <b>客户经理删除客户</b><br>
    <label>客户经理 <select class="mgr" id="mdMgr"></select></label>
    <label>客户 <select class="contact" id="mdContact"></select></label>
    <label><input type="checkbox" id="mdTransfer"> 因转接删除（DELETE_BY_TRANSFER）</label>
    <button data-act="manager-deletes-customer">发送</button>
  </div>
  <div class="act">
    <b>客户拒绝转接</b><br>
    <label>接替客户经理 <select class="mgr" id="trMgr"></select></label>
    <label>客户 <select class="contact" id="trContact"></select></label>
    <button data-act="transfer-refused">发送</button>
  </div>
  <div class="act">
    <b>企业标签变更</b><br>
    <label>类型 <select id="tgType"><option value="create">新建</option><option value="update">修改</option><option value="delete">删除</option></select></label>
    <label>标签 <select id="tgTag"></select></label>
    <label>名称 <input type="text" id="tgName" placeholder="新建/修改时的名称"></label>
    <button data-act="tag-changed">发送</button>
  </div>
  <div class="act">
    <b>成员给应用发消息</b><br>
    <label>客户经理 <select class="mgr" id="msgMgr"></select></label>
    <label>内容 <input type="text" id="msgText" value="你好"></label>
    <button data-act="text-message">发送</button>
  </div>
  <pre id="simOut" class="muted">结果显示在这里</pre>
</section>

<section class="wide">
  <h2>假企业微信 API 收到的请求 <span class="muted">（每 2 秒刷新，不含 token/secret）</span></h2>
  <table><thead><tr><th>#</th><th>时间</th><th>方法</th><th>接口</th><th>参数</th><th>errcode</th></tr></thead><tbody id="log"></tbody></table>
</section>

<section>
  <h2>侧边栏 sendChatMessage 记录</h2>
  <table><thead><tr><th>时间</th><th>客户经理</th><th>外部联系人</th><th>内容</th></tr></thead><tbody id="sent"></tbody></table>
</section>

<section>
  <h2>欢迎语与应用消息</h2>
  <table><thead><tr><th>时间</th><th>类型</th><th>对象</th><th>内容</th></tr></thead><tbody id="outbox"></tbody></table>
</section>

<section>
  <h2>奖励发放请求 <span class="muted">（内置接收端 /sandbox/rewards，验签、按幂等键去重）</span></h2>
  <table><thead><tr><th>时间</th><th>活动</th><th>客户经理</th><th>金额</th><th>结果</th></tr></thead><tbody id="rewards"></tbody></table>
</section>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var data = null, lastSeq = 0;
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]; }); }
  function time(ms) { var d = new Date(ms); return d.toLocaleTimeString('zh-CN', { hour12: false }); }
  function api(method, url, body) {
    return fetch(url, { method: method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status)); return j; }); });
  }
  function fillSelect(sel, items, keep) {
    var old = sel.value;
    var head = sel.id === 'addContact' ? '<option value="">（新客户）</option>' : '';
    sel.innerHTML = head + items.map(function (i) { return '<option value="' + esc(i[0]) + '">' + esc(i[1]) + '</option>'; }).join('');
    if (keep && old) sel.value = old;
  }
  function refreshData() {
    return api('GET', '/sandbox/data').then(function (d) {
      data = d;
      $('corp').textContent = d.corpId; $('agent').textContent = d.agentId;
      var mgrs = d.managers.map(function (m) { return [m.userid, m.name + '（' + (m.branch || '-') + (m.role === 'branch_lead' ? '·负责人' : '') + '）']; });
      document.querySelectorAll('select.mgr').forEach(function (s) { fillSelect(s, mgrs, true); });
      fillSelect($('curManager'), mgrs, false); $('curManager').value = d.currentManager;
      var contacts = d.contacts.map(function (c) {
        var f = c.follows.map(function (x) { return x.userid + (x.deletedByCustomer ? '(已被删)' : ''); }).join(',');
        return [c.externalUserId, c.name + ' · ' + c.externalUserId.slice(0, 14) + '… · ' + (f || '无好友')];
      });
      document.querySelectorAll('select.contact').forEach(function (s) { fillSelect(s, contacts, true); });
      fillSelect($('addContact'), contacts, true);
      fillSelect($('ctxContact'), contacts, false);
      if (d.context.externalUserId) $('ctxContact').value = d.context.externalUserId;
      $('entry').value = d.context.entry;
      if (d.context.chatId) $('ctxChat').value = d.context.chatId;
      var tags = [];
      d.tagGroups.forEach(function (g) { g.tag.forEach(function (t) { tags.push([t.id, g.group_name + ' / ' + t.name]); }); });
      fillSelect($('tgTag'), tags, true);
      var ways = d.contactWays.map(function (w) { return [w.config_id, (w.state || '（无 state）') + ' → ' + w.user.join(',')]; });
      var oldWay = $('addWay').value;
      $('addWay').innerHTML = '<option value="">（不经二维码）</option>' + ways.map(function (i) { return '<option value="' + esc(i[0]) + '">' + esc(i[1]) + '</option>'; }).join('');
      $('addWay').value = oldWay;
      var out = d.welcomes.map(function (w) { return [w.at, '欢迎语', w.userid + ' → ' + w.external_userid, w.content]; })
        .concat(d.messages.map(function (m) { return [m.at, '应用消息', m.touser, m.content]; }))
        .sort(function (a, b) { return b[0] - a[0]; });
      var rw = { accepted: '已受理', duplicate: '重复（已忽略）', failed: '模拟失败 503', bad_signature: '签名错误' };
      $('rewards').innerHTML = (d.rewards || []).slice().reverse().map(function (r) { return '<tr><td>' + time(r.at) + '</td><td>' + esc(r.campaign) + '</td><td>' + esc(r.userid) + '</td><td>' + esc(r.amount) + '</td><td class="' + (r.status === 200 ? 'ok' : 'err') + '">' + esc(rw[r.outcome] || r.outcome) + '</td></tr>'; }).join('');
      $('outbox').innerHTML = out.map(function (r) { return '<tr><td>' + time(r[0]) + '</td><td>' + esc(r[1]) + '</td><td>' + esc(r[2]) + '</td><td>' + esc(r[3]) + '</td></tr>'; }).join('');
    });
  }
  function refreshLog() {
    api('GET', '/sandbox/log?since=' + lastSeq).then(function (r) {
      if (!r.calls.length) return;
      lastSeq = r.calls[r.calls.length - 1].seq;
      var rows = r.calls.slice().reverse().map(function (c) {
        var params = Object.assign({}, c.query, c.body && typeof c.body === 'object' ? c.body : {});
        return '<tr><td>' + c.seq + '</td><td>' + time(c.at) + '</td><td>' + c.method + '</td><td>' + esc(c.api) + (c.secret ? ' <span class="muted">(' + c.secret + ')</span>' : '') +
          '</td><td><code>' + esc(JSON.stringify(params)).slice(0, 300) + '</code></td><td class="' + (c.errcode ? 'err' : 'ok') + '">' + c.errcode + ' ' + esc(c.errcode ? c.errmsg : '') + '</td></tr>';
      }).join('');
      $('log').innerHTML = rows + $('log').innerHTML;
      while ($('log').rows.length > 300) $('log').deleteRow(-1);
    }).catch(function () {});
    api('GET', '/sandbox/api/jssdk/sent').then(function (r) {
      $('sent').innerHTML = r.sent.slice().reverse().map(function (s) {
        return '<tr><td>' + time(s.at) + '</td><td>' + esc(s.userid) + '</td><td>' + esc(s.externalUserId || s.chatId || '') + '</td><td>' + esc(s.text ? s.text.content : s.news ? '[链接] ' + s.news.title + ' ' + s.news.link : s.image ? '[图片] ' + s.image.mediaid : s.msgtype) + '</td></tr>';
      }).join('');
    }).catch(function () {});
  }
  function opts(act) {
    switch (act) {
      case 'add-contact': return { userid: $('addMgr').value, externalUserId: $('addContact').value || undefined, name: $('addName').value || undefined,
        state: $('addState').value || undefined, welcomeCode: $('addWelcome').checked, half: $('addHalf').checked };
      case 'customer-deletes-manager': return { userid: $('cdMgr').value, externalUserId: $('cdContact').value };
      case 'manager-deletes-customer': return { userid: $('mdMgr').value, externalUserId: $('mdContact').value, byTransfer: $('mdTransfer').checked };
      case 'transfer-refused': return { takeoverUserid: $('trMgr').value, externalUserId: $('trContact').value };
      case 'tag-changed': return { changeType: $('tgType').value, tagId: $('tgType').value === 'create' ? undefined : $('tgTag').value, name: $('tgName').value || undefined };
      case 'text-message': return { userid: $('msgMgr').value, content: $('msgText').value };
    }
  }
  document.querySelectorAll('button[data-act]').forEach(function (b) {
    b.addEventListener('click', function () {
      var act = b.getAttribute('data-act');
      $('simOut').className = 'muted'; $('simOut').textContent = '发送中…';
      api('POST', '/sandbox/simulate/' + act, opts(act)).then(function (r) {
        $('simOut').className = r.status === 200 ? 'ok' : 'err';
        $('simOut').textContent = '回调应答 HTTP ' + r.status + ' ' + r.body + (r.note ? '\\n' + r.note : '') +
          (r.externalUserId ? '\\n外部联系人：' + r.externalUserId : '') + '\\n\\n' + r.plaintext;
        refreshData(); refreshLog();
      }).catch(function (e) { $('simOut').className = 'err'; $('simOut').textContent = '失败：' + e.message; });
    });
  });
  // A scan of a contact-way QR code: the customer adds that way's member with its state.
  $('addWay').addEventListener('change', function () {
    var w = (data.contactWays || []).filter(function (x) { return x.config_id === $('addWay').value; })[0];
    if (!w) return;
    if (w.user[0]) $('addMgr').value = w.user[0];
    $('addState').value = w.state || '';
  });
  $('curManager').addEventListener('change', function () {
    api('PUT', '/sandbox/current-manager', { userid: $('curManager').value }).then(refreshData);
  });
  $('saveCtx').addEventListener('click', function () {
    api('PUT', '/sandbox/api/jssdk/context', { entry: $('entry').value, externalUserId: $('ctxContact').value || undefined, chatId: $('ctxChat').value || undefined })
      .then(function (c) { $('ctxMsg').textContent = '已保存：' + JSON.stringify(c); })
      .catch(function (e) { $('ctxMsg').textContent = '失败：' + e.message; });
  });
  refreshData().then(refreshLog);
  setInterval(refreshLog, 2000);
  setInterval(refreshData, 10000);
})();
</script>
</body>
</html>
`;
