// Small, hand-written behaviour for the bank's pages. No build step.
(function () {
  "use strict";

  function showToasts(root) {
    (root || document).querySelectorAll("[data-cbs-toast]:not(.show)").forEach(function (el) {
      bootstrap.Toast.getOrCreateInstance(el, { autohide: false }).show();
    });
  }

  function toast(text, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (level || "danger");
    el.setAttribute("role", "alert");
    el.setAttribute("data-cbs-toast", "");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    // Warning and info toasts are light with dark text: the close button stays dark there.
    var light = level === "warning" || level === "info";
    close.className = "btn-close me-2 m-auto" + (light ? "" : " btn-close-white");
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    row.appendChild(body);
    row.appendChild(close);
    el.appendChild(row);
    box.appendChild(el);
    showToasts(box);
  }

  document.addEventListener("DOMContentLoaded", function () { showToasts(document); });
  document.body.addEventListener("htmx:oobAfterSwap", function () { showToasts(document); });
  document.body.addEventListener("htmx:afterSettle", function () { showToasts(document); });
  document.body.addEventListener("showMessage", function (event) {
    var detail = event.detail || {};
    toast(detail.value || detail.text || "", detail.level || "info");
  });
  document.body.addEventListener("htmx:responseError", function (event) {
    // An answer that carries its own message (HX-Trigger showMessage: "the bank is busy") says it instead.
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Trigger")) return;
    toast("The bank's systems could not answer just now. Nothing was saved twice; please try again.", "danger");
  });
  document.body.addEventListener("htmx:sendError", function () {
    toast("You appear to be offline. Check your connection and try again.", "warning");
  });

  // A form marked data-cbs-once posts once: a double click on Approve does not send
  // a second request. Coming back through the browser's history unlocks it again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-cbs-once")) return;
    if (form.dataset.cbsSent) { event.preventDefault(); return; }
    form.dataset.cbsSent = "1";
    form.querySelectorAll("[type=submit]").forEach(function (button) { button.classList.add("disabled"); });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-cbs-once]").forEach(function (form) {
      delete form.dataset.cbsSent;
      form.querySelectorAll("[type=submit]").forEach(function (button) { button.classList.remove("disabled"); });
    });
  });

  window.CBS = { toast: toast };
})();
