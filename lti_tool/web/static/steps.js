// On a phone, a form marked data-steps shows one fieldset[data-step] at a time with Back
// and Next buttons; on a wider screen (or without scripts) every step shows at once, as a
// grid. Moving to a step focuses it, so a screen reader reads its legend ("Skill 2 of 12").
"use strict";
(function () {
  var form = document.querySelector("form[data-steps]");
  if (!form) {
    return;
  }
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-step]"));
  var submit = form.querySelector("button[type=submit]");
  var narrow = window.matchMedia("(max-width: 40rem)");
  var current = 0;
  var nav = document.createElement("div");
  nav.className = "step-nav";
  var back = document.createElement("button");
  back.type = "button";
  back.className = "secondary";
  back.textContent = form.getAttribute("data-back") || "Back";
  var next = document.createElement("button");
  next.type = "button";
  next.textContent = form.getAttribute("data-next") || "Next skill";
  nav.appendChild(back);
  nav.appendChild(next);
  form.insertBefore(nav, submit);

  function show(index, moveFocus) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    var stepping = narrow.matches;
    steps.forEach(function (step, i) {
      step.hidden = stepping && i !== current;
    });
    nav.hidden = !stepping;
    back.hidden = current === 0;
    next.hidden = current === steps.length - 1;
    submit.hidden = stepping && current !== steps.length - 1;
    if (stepping && moveFocus) {
      steps[current].setAttribute("tabindex", "-1");
      steps[current].focus();
    }
  }
  back.addEventListener("click", function () { show(current - 1, true); });
  next.addEventListener("click", function () { show(current + 1, true); });
  narrow.addEventListener("change", function () { show(current, false); });
  show(0, false);
})();
