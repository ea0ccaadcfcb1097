// The 服务码 form, made kinder where JavaScript runs (without it the form works the same, only without this):
// - one tap sends it once (an unsteady hand taps twice), and the button says it is sending;
// - what was typed is kept in this tab (sessionStorage) until the case is filed, so a reload, the back button or a
//   lost connection loses nothing; the tracking page of a new case clears it;
// - the page's own history entry becomes a plain page load, so the back button after filing shows the form again
//   instead of the browser's "confirm form resubmission" error; the words the browser puts back there of a case just
//   filed are cleared, with a link to that case, so pressing 提交 again files nothing twice;
// - the browser's own "fill out this field" bubble is said in Chinese.
(function () {
  "use strict";
  var KEY = "linli.draft";
  var FILED = "linli.filed";  // the case this tab just filed: its grid, its words and its page
  var FIELDS = ["text", "location", "phone", "name", "category"];
  var CASE_FIELDS = ["text", "location", "category"];  // what was said about that case; phone and name stay
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  function read(key) {
    try { return JSON.parse((store && store.getItem(key)) || "null"); } catch (e) { return null; }
  }
  if (document.body.hasAttribute("data-filed")) {
    if (store) {
      var sent = read(KEY);
      if (sent && sent.text) {
        try {
          store.setItem(FILED, JSON.stringify({grid: sent.grid, text: sent.text, url: window.location.pathname,
                                               number: document.body.getAttribute("data-number") || ""}));
        } catch (e) { /* full or refused: nothing kept */ }
      }
      store.removeItem(KEY);
    }
    return;
  }
  var form = document.querySelector("form.intake");
  if (!form) { return; }
  if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.href); }
  if (window.history && "scrollRestoration" in window.history) { window.history.scrollRestoration = "manual"; }
  var button = form.querySelector("button[type=submit]");
  var label = button ? button.textContent : "";
  var draft = read(KEY) || {};
  var note = document.getElementById("filed-note");
  function filedAgain() {  // back from the case's page: the browser put its words back; a second 提交 would file it
    var filed = read(FILED);
    var text = form.elements.text;
    if (!filed || !text || filed.grid !== form.getAttribute("data-grid") || text.value !== filed.text) { return; }
    CASE_FIELDS.forEach(function (name) { if (form.elements[name]) { form.elements[name].value = ""; } });
    if (note) {
      var link = note.querySelector("a");
      if (link) { link.setAttribute("href", filed.url); }
      var number = note.querySelector(".number");
      if (number) { number.textContent = filed.number; }
      note.hidden = false;
      if (note.scrollIntoView) { note.scrollIntoView({block: "center"}); }  // the back button kept the old scroll
    }
  }
  filedAgain();
  var empty = FIELDS.every(function (name) { return !form.elements[name] || !form.elements[name].value; });
  if (empty && draft.grid === form.getAttribute("data-grid")) {
    FIELDS.forEach(function (name) {
      if (form.elements[name] && typeof draft[name] === "string") { form.elements[name].value = draft[name]; }
    });
  }
  function save() {
    if (!store) { return; }
    var now = {grid: form.getAttribute("data-grid")};
    FIELDS.forEach(function (name) { if (form.elements[name]) { now[name] = form.elements[name].value; } });
    try { store.setItem(KEY, JSON.stringify(now)); } catch (e) { /* full or refused: nothing kept */ }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  var text = form.elements.text;
  if (text) {
    text.addEventListener("invalid", function () { text.setCustomValidity(text.getAttribute("data-required")); });
    text.addEventListener("input", function () { text.setCustomValidity(""); });
  }
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    save();
    form.setAttribute("data-sent", "1");
    if (button) { button.textContent = "正在提交，请稍候……"; button.setAttribute("aria-disabled", "true"); }
  });
  window.addEventListener("pageshow", function () {  // back to this page: it may be sent again
    filedAgain();
    form.removeAttribute("data-sent");
    if (button) { button.textContent = label; button.removeAttribute("aria-disabled"); }
  });
})();
