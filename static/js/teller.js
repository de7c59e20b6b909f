// The counter's keyboard and cash helpers. Loaded on the teller's cash screens only.
// Everything here is a convenience: the forms post and the server checks without it.
(function () {
  "use strict";

  var UNITS = {n500: 500, n200: 200, n100: 100, n50: 50, n20: 20, n10: 10, coins: 1};

  function groupIndian(whole) {
    var digits = String(whole);
    if (digits.length <= 3) return digits;
    var head = digits.slice(0, -3), tail = digits.slice(-3), parts = [];
    while (head.length > 2) { parts.unshift(head.slice(-2)); head = head.slice(0, -2); }
    if (head) parts.unshift(head);
    return parts.concat([tail]).join(",");
  }

  function rupees(paise) {
    var sign = paise < 0 ? "-" : "";
    paise = Math.abs(paise);
    var frac = String(paise % 100);
    return sign + "₹" + groupIndian(Math.floor(paise / 100)) + "." + (frac.length < 2 ? "0" + frac : frac);
  }

  // "1,23,456.50" -> paise, or null when it is not a plain amount.
  function parseAmount(text) {
    var clean = String(text || "").replace(/[₹,\s]/g, "");
    if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
    var parts = clean.split(".");
    var frac = (parts[1] || "") + "00";
    return parseInt(parts[0], 10) * 100 + parseInt(frac.slice(0, 2), 10);
  }

  function count(input) {
    var text = String(input.value || "").replace(/[,\s]/g, "");
    return /^\d+$/.test(text) ? parseInt(text, 10) : 0;
  }

  // The running total of a denomination grid, and how far it is from the amount.
  function refresh(box) {
    var total = 0;
    box.querySelectorAll("input[data-unit]").forEach(function (input) {
      var value = count(input) * parseInt(input.getAttribute("data-unit"), 10) * 100;
      total += value;
      var line = document.getElementById(input.name + "-value");
      if (line) line.textContent = value ? rupees(value) : "";
    });
    var out = box.querySelector("[data-cbs-cash-total]");
    if (out) out.textContent = rupees(total);
    var diff = box.querySelector("[data-cbs-cash-difference]");
    var amountInput = box.form && box.form.querySelector("[data-cbs-amount]");
    if (!diff || !amountInput) return;
    var amount = parseAmount(amountInput.value);
    diff.classList.remove("text-success", "text-danger");
    if (amount === null || (!total && !amount)) { diff.textContent = ""; return; }
    if (total === amount) {
      diff.textContent = "matches the amount";
      diff.classList.add("text-success");
    } else {
      diff.textContent = rupees(Math.abs(amount - total)) + (total < amount ? " short of " : " more than ") + "the amount";
      diff.classList.add("text-danger");
    }
  }

  function refreshAll() {
    document.querySelectorAll("[data-cbs-cash]").forEach(refresh);
  }

  document.addEventListener("input", function (event) {
    var box = event.target.closest && (event.target.closest("[data-cbs-cash]") ||
      (event.target.form && event.target.form.querySelector("[data-cbs-cash]")));
    if (box) refresh(box);
  });

  // Enter on the account number or the amount moves on to the next field instead of
  // submitting a half-filled form; Enter anywhere else submits.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey) return;
    var next = event.target.getAttribute && event.target.getAttribute("data-cbs-next");
    if (!next) return;
    var target = document.getElementById(next);
    if (!target) return;
    event.preventDefault();
    target.focus();
    if (target.select) target.select();
  });

  // Alt + a letter works the element with that access key: the same in every browser
  // (Firefox wants Alt+Shift, and some browsers keep Alt+letter for themselves), and
  // the page's handling replaces the browser's, so nothing is activated twice.
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || !event.key || event.key.length !== 1) return;
    var target = document.querySelector("[accesskey='" + event.key.toLowerCase().replace(/[^a-z0-9]/g, "") + "']");
    if (!target || target.disabled) return;
    event.preventDefault();
    if (target.tagName === "A" || target.tagName === "BUTTON") {
      target.click();
    } else {
      target.focus();
      if (target.select) target.select();
    }
  });

  // "Fill from my till": the notes for the amount, largest first, from what the till holds.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-cbs-fill]");
    if (!button) return;
    var box = button.closest("[data-cbs-cash]");
    var amountInput = box.form.querySelector("[data-cbs-amount]");
    var amount = parseAmount(amountInput && amountInput.value);
    var note = box.querySelector("[data-cbs-fill-note]");
    if (amount === null || amount % 100) {
      if (note) note.textContent = "Enter the amount in whole rupees first.";
      return;
    }
    var available = JSON.parse(box.getAttribute("data-available") || "{}");
    var left = amount / 100;
    var counts = {};
    Object.keys(UNITS).forEach(function (name) {
      var most = Math.floor(left / UNITS[name]);
      if (name in available) most = Math.min(most, available[name]);
      counts[name] = most;
      left -= most * UNITS[name];
    });
    if (note) note.textContent = left ? "Your till cannot make up this amount exactly." : "";
    if (left) return;
    Object.keys(counts).forEach(function (name) {
      var input = box.querySelector("input[name='" + name + "']");
      if (input) input.value = counts[name] ? String(counts[name]) : "";
    });
    refresh(box);
    var submit = box.form.querySelector("[type=submit]");
    if (submit) submit.focus();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-cbs-print]")) window.print();
  });

  document.addEventListener("DOMContentLoaded", refreshAll);
  document.body.addEventListener("htmx:afterSettle", refreshAll);
})();
