/* The demo LMS's half of LTI Client Side postMessages and Platform Storage
 * (1EdTech lti-cs-pm and lti-pm-s): the frame page answers lti.capabilities, lti.put_data
 * and lti.get_data for the tool in its iframe.
 *
 * Only messages from that iframe's window and from the tool's origin are answered, and
 * data is kept per sender origin, so no other page can read or plant a tool's values.
 * Values live in this page's memory: they last as long as the launch does.
 */
(function () {
  "use strict";

  var frame = document.getElementById("tool-frame");
  if (!frame) {
    return;
  }
  var toolOrigin = frame.getAttribute("data-tool-origin");
  var store = {};
  var SUBJECTS = ["lti.capabilities", "lti.put_data", "lti.get_data"];

  function reply(event, body) {
    body.message_id = event.data.message_id;
    body.subject = event.data.subject + ".response";
    event.source.postMessage(body, event.origin);
  }

  function error(event, code, message) {
    reply(event, { error: { code: code, message: message } });
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") {
      return;
    }
    if (event.source !== frame.contentWindow || event.origin !== toolOrigin) {
      return; // not our tool: no answer at all, so nothing leaks to a stranger
    }
    if (!data.message_id) {
      return;
    }
    var slot = event.origin + " " + data.key;
    if (data.subject === "lti.capabilities") {
      reply(event, {
        supported_messages: SUBJECTS.map(function (subject) { return { subject: subject }; })
      });
    } else if (data.subject === "lti.put_data") {
      if (typeof data.key !== "string" || typeof data.value !== "string") {
        error(event, "bad_request", "key and value must be strings");
        return;
      }
      store[slot] = data.value;
      reply(event, { key: data.key, value: data.value });
    } else if (data.subject === "lti.get_data") {
      if (typeof data.key !== "string") {
        error(event, "bad_request", "key must be a string");
      } else if (!Object.prototype.hasOwnProperty.call(store, slot)) {
        error(event, "bad_request", "no value is stored under this key");
      } else {
        reply(event, { key: data.key, value: store[slot] });
      }
    } else if (data.subject.indexOf("lti.") === 0) {
      error(event, "unsupported_subject", "this platform does not handle " + data.subject);
    }
  });
})();
