// The Mini App's sign-in: Telegram opens /app with the signed init data in the URL fragment
// (#tgWebAppData=...); it is posted to the server, which checks its signature. No Telegram script is loaded.
(function () {
  "use strict";
  var status = document.getElementById("miniapp-status");
  var form = document.getElementById("miniapp-form");
  var data = "";
  if (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) {
    data = window.Telegram.WebApp.initData;
  } else {
    var hash = window.location.hash.replace(/^#/, "");
    try { data = new URLSearchParams(hash).get("tgWebAppData") || ""; } catch (e) { data = ""; }
  }
  if (!data) {
    status.textContent = "请在 Telegram 里给机器人发送 /web，从按钮打开工作台。";
    return;
  }
  document.getElementById("init_data").value = data;
  form.submit();
})();
