// Lands the learner on what an action produced: the element marked data-land (feedback,
// a debrief, the first problem in a form) takes focus, so keyboard and screen-reader users
// start there instead of at the top of a long page, and its data-announce text is read out
// through the page's polite live region. Without scripts the URL fragment still scrolls
// the browser to the same place.
"use strict";
(function () {
  var target = document.querySelector("[data-land]");
  if (!target) {
    return;
  }
  if (!target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
  target.scrollIntoView({ block: "start" });
  var message = target.getAttribute("data-announce");
  var region = document.getElementById("announce");
  if (message && region) {
    // A live region only speaks about changes made after it is in the page.
    window.setTimeout(function () {
      region.textContent = message;
    }, 150);
  }
})();
