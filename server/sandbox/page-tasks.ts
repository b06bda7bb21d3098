/**
 * The sandbox page's 群发任务 section (included once by page.ts): the mass-send and moment tasks
 * the SOP delivery created in the fake WeCom, with the manager's 确认发送, and a button that runs a
 * plan's current occurrence now. Self-contained: its own markup and script, polling /sandbox/tasks.
 */
export const SANDBOX_TASKS_SECTION = `
<section class="wide" id="sop-tasks" data-testid="sop-tasks">
  <h2>群发任务（总行 SOP）</h2>
  <p class="muted">总行 SOP 计划生成的企业群发和朋友圈任务。客户经理在企业微信里点「发送」之前，客户什么也收不到；在这里点「确认发送」即模拟客户经理确认。</p>
  <div>SOP 计划 <select id="sopPlan"></select> <button id="sopRun" type="button">立即执行本期</button> <span id="sopRunMsg" class="muted"></span></div>
  <div class="scroll"><table class="rec"><thead><tr><th>时间</th><th>类型</th><th>客户经理</th><th>发给</th><th>内容</th><th>状态</th><th></th></tr></thead><tbody id="sopTasks"></tbody></table></div>
</section>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]; }); }
  function call(method, url, body) {
    return fetch(url, { method: method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || ('HTTP ' + r.status)); return j; }); });
  }
  var KIND = { group: '客户群群发', single: '群发助手（一对一）', moment: '客户朋友圈' };
  var STATUS = { waiting: '待确认', sent: '已发送', cancelled: '已取消' };
  function refresh() {
    return call('GET', '/sandbox/tasks').then(function (d) {
      var old = $('sopPlan').value;
      $('sopPlan').innerHTML = d.plans.map(function (p) { return '<option value="' + esc(p.id) + '">' + esc(p.name) + (p.status === 'active' ? '' : '（' + (p.status === 'paused' ? '已暂停' : '已取消') + '）') + '</option>'; }).join('');
      if (old) $('sopPlan').value = old;
      $('sopTasks').innerHTML = d.tasks.map(function (t) {
        var to = Array.isArray(t.targets) ? t.targets.join('、') : (t.kind === 'moment' ? (t.tags ? '带指定标签的客户' : '全部客户') : t.targets + ' 位客户');
        var result = t.status === 'sent' && t.kind !== 'moment' ? '（送达 ' + t.sent + (t.capped ? '，超频未发 ' + t.capped : '') + (t.notFriend ? '，已非好友 ' + t.notFriend : '') + '）' : '';
        var btn = t.status === 'waiting' ? '<button type="button" data-task="' + esc(t.id) + '" data-user="' + esc(t.sender) + '">确认发送</button>' : '';
        return '<tr data-task-row="' + esc(t.id) + '" data-sender="' + esc(t.sender) + '"><td>' + new Date(t.createdAt).toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) + '</td><td>' + esc(KIND[t.kind]) + '</td><td>' + esc(t.senderName) +
          '</td><td>' + esc(to) + '</td><td>' + esc(t.text) + '</td><td class="' + (t.status === 'sent' ? 'ok' : t.status === 'cancelled' ? 'err' : '') + '">' + esc(STATUS[t.status]) + esc(result) +
          (t.reminders ? '<br><span class="muted">已提醒 ' + t.reminders + ' 次</span>' : '') + '</td><td>' + btn + '</td></tr>';
      }).join('') || '<tr><td colspan="7" class="muted">暂无任务</td></tr>';
    }).catch(function () {});
  }
  $('sopTasks').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-task]');
    if (!b) return;
    b.disabled = true;
    call('POST', '/sandbox/tasks/' + encodeURIComponent(b.getAttribute('data-task')) + '/confirm', { userid: b.getAttribute('data-user') })
      .then(refresh).catch(function (err) { b.disabled = false; alert('确认失败：' + err.message); });
  });
  $('sopRun').addEventListener('click', function () {
    $('sopRunMsg').textContent = '执行中…';
    call('POST', '/sandbox/tasks/run', { plan: $('sopPlan').value }).then(function (r) {
      var o = r.occurrences[0];
      $('sopRunMsg').textContent = r.quiet ? '现在是免打扰时段，任务在时段结束后创建' : !o ? '暂无本期' : r.channel === 'moments' ? '本期 ' + o.key + '：' + o.tasks + ' 位客户经理待发表朋友圈' : '本期 ' + o.key + '：' + o.targets + ' 个对象，' + o.tasks + ' 个任务';
      refresh();
    }).catch(function (err) { $('sopRunMsg').textContent = '失败：' + err.message; });
  });
  refresh();
  setInterval(refresh, 3000);
})();
</script>
`;
