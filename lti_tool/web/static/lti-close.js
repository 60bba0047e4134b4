// LTI Dynamic Registration 1.0 section 3.7: tell the LMS the registration is finished, so
// it closes the frame or popup. Sent to whichever window opened us, with "*" because the
// spec's message carries nothing secret and the LMS's origin may differ from its issuer.
"use strict";
(function () {
  var message = { subject: "org.imsglobal.lti.close" };
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) {
    target.postMessage(message, "*");
  }
})();
