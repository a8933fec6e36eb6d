// Speaker countdown: the server sends the remaining seconds (computed from the stored start time)
// with every poll; between polls this ticks them down. Without JavaScript the polled value shows.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-remaining]").forEach(function (el) {
      if (!el.dataset.deadline) {
        el.dataset.deadline = String(now + Number(el.dataset.remaining) * 1000);
      }
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - now) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      el.classList.toggle("countdown-over", left === 0);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
