// A form that makes jobs carries a token (imagegen/forms/submit_token.py): the same form sent
// again makes no second job. The page a submit leads to (the job's, the comparison's) names the
// token it answered; going Back to the form, the browser may show it as it was left, token and
// all, and a person sending it again on purpose would be shown the job already made. So a form
// whose token was answered in this tab gets a new one. A form whose answer was lost on the way
// keeps its token: sent again, it finds the job it made.
(function () {
  "use strict";
  var KEY = "studio-answered-submit-tokens";
  var KEPT = 50;

  function answered() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "[]");
    } catch (error) {
      return [];
    }
  }

  function newToken() {
    // crypto.randomUUID needs a secure context; a studio on a home network may be plain http.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  function renewAnswered() {
    var seen = answered();
    document.querySelectorAll("[data-answered-submit-token]").forEach(function (element) {
      var token = element.getAttribute("data-answered-submit-token");
      if (token && seen.indexOf(token) === -1) seen.push(token);
    });
    seen = seen.slice(-KEPT);
    try {
      sessionStorage.setItem(KEY, JSON.stringify(seen));
    } catch (error) {
      // Storage refused (private mode, full): the forms keep their tokens, as without script.
    }
    document.querySelectorAll("input[name=submit_token]").forEach(function (input) {
      if (seen.indexOf(input.value) !== -1) input.value = newToken();
    });
  }

  // On every showing of a page: a first load, and a return from the back-forward cache.
  window.addEventListener("pageshow", renewAnswered);
})();
