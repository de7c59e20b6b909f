// The ATM simulator's keypad: its keys type into the PIN or the amount, whichever
// was last chosen (the PIN at first). A convenience: the form posts without it.
(function () {
  "use strict";

  function setUp() {
    var keypad = document.querySelector("[data-atm-keypad]");
    if (!keypad) return;
    var pin = document.getElementById("id_pin"), amount = document.getElementById("id_amount");
    var target = pin;
    [pin, amount].forEach(function (field) {
      if (field) field.addEventListener("focus", function () { target = field; mark(); });
    });
    function mark() {
      var label = keypad.querySelector("[data-atm-target]");
      if (label) label.textContent = target === amount ? "amount" : "PIN";
    }
    keypad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key || !target) return;
      event.preventDefault();
      var value = key.getAttribute("data-key");
      if (value === "clear") target.value = "";
      else if (value === "back") target.value = target.value.slice(0, -1);
      else if (value === "amount") { target = amount; mark(); }
      else if (value === "pin") { target = pin; mark(); }
      else target.value += value;
    });
    mark();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
