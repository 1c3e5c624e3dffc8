/*
 * Crisis help at once: when a client checks an answer that means acute risk
 * (input[data-acute="true"]), crisis help appears right after that question, in an
 * assertive live region. Focus stays where it is. Without this script the crisis help
 * above the form is always there.
 */
(function () {
  "use strict";
  var source = document.querySelector("[data-crisis-help]");
  var form = document.getElementById("intake-form");
  if (!source || !form) {
    return;
  }
  var regions = [];

  function questionOf(input) {
    return input.closest("fieldset") || input.parentElement;
  }

  function helpCopy(index) {
    var copy = source.cloneNode(true);
    copy.removeAttribute("data-crisis-help");
    // Ids must stay unique on the page.
    copy.querySelectorAll("[id]").forEach(function (element) {
      element.id = element.id + "-" + index;
    });
    if (copy.hasAttribute("aria-labelledby")) {
      copy.setAttribute("aria-labelledby", copy.getAttribute("aria-labelledby") + "-" + index);
    }
    return copy;
  }

  form.querySelectorAll('input[data-acute="true"]').forEach(function (input) {
    var question = questionOf(input);
    if (question.spreekuurCrisisRegion) {
      return;
    }
    // The live region exists (empty) from the start, so filling it later is announced.
    var region = document.createElement("div");
    region.className = "spreekuur-crisis-inline";
    region.setAttribute("aria-live", "assertive");
    question.insertAdjacentElement("afterend", region);
    question.spreekuurCrisisRegion = region;
    regions.push({ question: question, region: region });
  });

  function update() {
    regions.forEach(function (entry, index) {
      var acute = entry.question.querySelector('input[data-acute="true"]:checked') !== null;
      var shown = entry.region.firstChild !== null;
      if (acute && !shown) {
        entry.region.appendChild(helpCopy(index + 1));
      } else if (!acute && shown) {
        entry.region.replaceChildren();
      }
    });
  }

  form.addEventListener("change", update);
  update();
})();
