// The 服务码 form, made kinder where JavaScript runs (without it the form works the same, only without this):
// - one tap sends it once (an unsteady hand taps twice), and the button says it is sending;
// - what was typed is kept in this tab (sessionStorage) until the case is filed, so a reload, the back button or a
//   lost connection loses nothing; the tracking page of a new case clears it;
// - the page's own history entry becomes a plain page load, so the back button after filing shows the form again
//   instead of the browser's "confirm form resubmission" error;
// - the browser's own "fill out this field" bubble is said in Chinese.
(function () {
  "use strict";
  var KEY = "linli.draft";
  var FIELDS = ["text", "location", "phone", "name", "category"];
  var store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }
  if (document.body.hasAttribute("data-filed")) {
    if (store) { store.removeItem(KEY); }
    return;
  }
  var form = document.querySelector("form.intake");
  if (!form) { return; }
  if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.href); }
  var button = form.querySelector("button[type=submit]");
  var label = button ? button.textContent : "";
  var draft = {};
  try { draft = JSON.parse((store && store.getItem(KEY)) || "{}") || {}; } catch (e) { draft = {}; }
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
    form.removeAttribute("data-sent");
    if (button) { button.textContent = label; button.removeAttribute("aria-disabled"); }
  });
})();
