// Sends forms marked data-autosubmit as soon as the page loads (Deep Linking's return to
// the LMS). Without scripts the form's own button does the same.
"use strict";
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.submit();
});
