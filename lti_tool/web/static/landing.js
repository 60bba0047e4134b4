// Moves keyboard focus to the part of a page that reports what just happened (a save, a
// result, the first problem), so a screen reader reads it out and a keyboard user starts
// from there. Pages mark that element with data-land and tabindex="-1"; the URL fragment
// already scrolls to it without scripts.
"use strict";
(function () {
  var target = document.querySelector("[data-land]");
  if (target) {
    target.focus();
  }
})();
