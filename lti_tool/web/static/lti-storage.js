/* LTI Platform Storage, tool side (1EdTech lti-cs-oidc, lti-cs-pm, lti-pm-s).
 *
 * On the login page (data-mode="put") it stores the OIDC state with the platform
 * (lti.put_data), then goes on to the platform's authentication request. On the launch
 * check page (data-mode="get") it reads the state back (lti.get_data) and posts the form;
 * with data-mode="submit" (no platform storage) it posts the form at once.
 *
 * Messages for data go to the frame the platform named in lti_storage_target ("_parent":
 * the window that framed or opened us) with the platform's OIDC origin as target origin, and
 * answers are only taken from that origin and that window. A platform that does not answer
 * in time is treated as having no storage: the server then falls back to cookies.
 */
(function () {
  "use strict";

  var CAPABILITIES_WAIT_MS = 1000;
  var DATA_WAIT_MS = 2500;
  var box = document.getElementById("lti-storage");
  if (!box) {
    return;
  }
  var mode = box.getAttribute("data-mode");
  var key = box.getAttribute("data-key");
  var target = box.getAttribute("data-target");
  var platformOrigin = box.getAttribute("data-origin");

  function hostWindow() {
    if (window.parent && window.parent !== window) {
      return window.parent;
    }
    return window.opener || null;
  }

  function frameOf(host, name) {
    if (!host || !name) {
      return null;
    }
    if (name === "_parent") {
      return host;
    }
    try {
      return host.frames[name] || null;
    } catch (err) {
      return null;
    }
  }

  function newMessageId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  // Post one message and wait for its answer: the same message_id, the subject with
  // ".response", from the window we wrote to and (when given) the expected origin.
  function ask(win, message, targetOrigin, fromOrigin, waitMs) {
    return new Promise(function (resolve) {
      var done = false;
      message.message_id = newMessageId();
      function finish(answer) {
        if (!done) {
          done = true;
          window.removeEventListener("message", listen);
          resolve(answer);
        }
      }
      function listen(event) {
        var data = event.data;
        if (!data || typeof data !== "object" || data.message_id !== message.message_id) {
          return;
        }
        if (data.subject !== message.subject + ".response" || event.source !== win) {
          return;
        }
        if (fromOrigin && event.origin !== fromOrigin) {
          return;
        }
        finish(data);
      }
      window.addEventListener("message", listen);
      window.setTimeout(function () { finish(null); }, waitMs);
      try {
        win.postMessage(message, targetOrigin);
      } catch (err) {
        finish(null);
      }
    });
  }

  // The frame answering a subject: lti.capabilities may name it (Canvas does); the older
  // "org.imsglobal." prefix of the draft spec counts as the same subject.
  function frameFor(capabilities, subject) {
    var supported = capabilities && capabilities.supported_messages;
    if (!Array.isArray(supported)) {
      return { supported: true, frame: target };
    }
    for (var i = 0; i < supported.length; i += 1) {
      var entry = supported[i] || {};
      if (entry.subject === subject || entry.subject === "org.imsglobal." + subject) {
        return { supported: true, frame: entry.frame || target };
      }
    }
    return { supported: false, frame: null };
  }

  function useStorage(subject, extra) {
    var host = hostWindow();
    var first = frameOf(host, target);
    if (!first || !platformOrigin) {
      return Promise.resolve(null);
    }
    // Capabilities carry nothing secret, so "*" is allowed (lti-cs-pm 3.1): the frame's
    // origin may differ from the OIDC origin until we know better.
    return ask(first, { subject: "lti.capabilities" }, "*", null, CAPABILITIES_WAIT_MS)
      .then(function (capabilities) {
        var found = frameFor(capabilities, subject);
        var win = found.supported ? frameOf(host, found.frame) : null;
        if (!win) {
          return null;
        }
        var message = { subject: subject, key: key };
        for (var name in extra) {
          message[name] = extra[name];
        }
        return ask(win, message, platformOrigin, platformOrigin, DATA_WAIT_MS);
      });
  }

  function say(text) {
    box.textContent = text;
  }

  if (mode === "put") {
    useStorage("lti.put_data", { value: box.getAttribute("data-value") }).then(function () {
      // Stored or not, the login goes on: the launch check decides what counts.
      window.location.replace(box.getAttribute("data-next"));
    });
  } else if (mode === "get" || mode === "submit") {
    var form = document.getElementById("lti-check");
    var asked = mode === "get" ? useStorage("lti.get_data", {}) : Promise.resolve(undefined);
    asked.then(function (answer) {
      var value = answer && !answer.error && typeof answer.value === "string" ? answer.value : null;
      var result = answer === undefined ? "" : value !== null ? "found" : answer ? "missing" : "silent";
      form.elements.lti_storage.value = result;
      form.elements.lti_storage_value.value = value === null ? "" : value;
      say("Opening the activity…");
      form.submit();
    });
  }
})();
