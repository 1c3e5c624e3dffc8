/*
 * Hold clock (WCAG 2.2.1). The server already says until when the time is held, warns when
 * less than 3 minutes are left and offers "10 minutes extra"; the page works without this.
 * This script only counts the minutes down and shows the warning once, at 3 minutes, in the
 * polite live region. It uses the server's clock, so a wrong phone clock does not matter.
 */
(function () {
  "use strict";
  var clock = document.querySelector("[data-held-until]");
  if (!clock) {
    return;
  }
  var until = Date.parse(clock.getAttribute("data-held-until"));
  var serverNow = Date.parse(clock.getAttribute("data-now"));
  if (isNaN(until) || isNaN(serverNow)) {
    return;
  }
  var msLeftAtLoad = until - serverNow;
  var started = Date.now();
  var left = clock.querySelector("[data-hold-left]");
  var region = clock.querySelector("[data-hold-warning]");
  var text = clock.querySelector("template[data-hold-warning-text]");
  var warned = region && region.textContent.trim() !== "";
  var timer = null;

  function tick() {
    var ms = msLeftAtLoad - (Date.now() - started);
    var minutes = Math.max(0, Math.ceil(ms / 60000));
    if (left) {
      left.textContent =
        minutes === 1
          ? clock.getAttribute("data-left-one")
          : clock.getAttribute("data-left-many").replace("__N__", String(minutes));
    }
    if (!warned && ms < 3 * 60000 && region && text) {
      warned = true; // once: a live region that speaks every second is no help
      region.appendChild(text.content.cloneNode(true));
    }
    if (ms <= 0 && timer !== null) {
      window.clearInterval(timer);
    }
  }

  tick();
  timer = window.setInterval(tick, 5000);
})();
