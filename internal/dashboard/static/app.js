// Kube CI dashboard: live updates through the browser's EventSource. The
// server sends fragments of HTML it rendered and escaped itself; this script
// only puts them in place, appends log lines, and asks before cancelling.
(function () {
  "use strict";
  var live = document.body.dataset.live;
  var dot = document.getElementById("live");
  var log = document.getElementById("log");
  var logStatus = document.getElementById("log-status");

  function append(html) {
    if (!log) return;
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.insertAdjacentHTML("beforeend", html);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  if (!live) return;
  var opened = 0;
  var es = new EventSource(live);
  es.onopen = function () {
    if (dot) dot.classList.add("on");
    // After a reconnection the server follows the logs from the start again.
    if (opened++ > 0 && log) log.textContent = "";
  };
  es.onerror = function () { if (dot) dot.classList.remove("on"); };
  var logsEnded = false;
  es.addEventListener("fragment", function (e) {
    var f = JSON.parse(e.data);
    var el = document.getElementById(f.id);
    if (el) el.innerHTML = f.html;
    // The run can end before its containers have stopped writing.
    var phase = document.getElementById("phase");
    if (phase && logStatus && !logsEnded && /^(Completed|Failed)$/.test(phase.textContent)) {
      logStatus.textContent = "The run has ended; its last log lines may still be coming in\u2026";
    }
  });
  es.addEventListener("log", function (e) { append(e.data); });
  es.addEventListener("note", function (e) { append(e.data); });
  es.addEventListener("end", function (e) {
    logsEnded = true;
    if (logStatus) logStatus.textContent = e.data;
  });
  es.addEventListener("problem", function (e) { if (logStatus) logStatus.textContent = e.data; });
})();
