// "Send a new code": disabled with a countdown until the server allows a new code. Without
// JavaScript the button stays enabled and the page says at what time a new code may be asked for.
(function () {
  "use strict";
  function start(button) {
    var deadline = Date.now() + Number(button.dataset.resendWait || 0) * 1000;
    var label = button.textContent;
    function tick() {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left > 0) {
        button.disabled = true;
        button.textContent = button.dataset.waitLabel.replace("__S__", String(left));
        setTimeout(tick, 1000);
      } else {
        button.disabled = false;
        button.textContent = label;
        var note = button.parentNode.querySelector("[data-resend-note]");
        if (note) { note.hidden = true; }
      }
    }
    tick();
  }
  function init() { document.querySelectorAll("[data-resend-wait]").forEach(start); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
})();
