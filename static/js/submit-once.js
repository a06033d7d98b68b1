/* A form posted without htmx disables its submit buttons once it is on its way, so a double tap sends it once.
   The server answers a repeated post with its first result anyway (docs/architecture.md, "Double submits"); this
   only spares the second request. Forms htmx sends are left to htmx (hx-disabled-elt on the form). Loaded by
   base.html: no inline script, no on* attributes. A form marked data-submit-many is left alone. */
(function () {
  "use strict";

  var RELEASE_AFTER_MS = 10000; // a response that never replaces the page (a download) must not lock the form
  var SUBMITS = "button:not([type=button]):not([type=reset]), input[type=submit], input[type=image]";

  function buttonsOf(form) {
    var inside = Array.prototype.slice.call(form.querySelectorAll(SUBMITS));
    var outside = form.id ? Array.prototype.slice.call(document.querySelectorAll(
      "button[form='" + form.id + "'], input[type=submit][form='" + form.id + "']")) : [];
    return inside.concat(outside);
  }

  function release(buttons) {
    buttons.forEach(function (button) {
      if (button.hasAttribute("data-submit-once")) {
        button.removeAttribute("data-submit-once");
        button.disabled = false;
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post" || form.hasAttribute("data-submit-many")) {
      return;
    }
    // After the browser has taken the form's data (the name of the button pressed with it); a submission that
    // was cancelled, or taken over by htmx, is not disabled.
    window.setTimeout(function () {
      if (event.defaultPrevented) {
        return;
      }
      var buttons = buttonsOf(form).filter(function (button) { return !button.disabled; });
      buttons.forEach(function (button) {
        button.disabled = true;
        button.setAttribute("data-submit-once", "");
      });
      window.setTimeout(function () { release(buttons); }, RELEASE_AFTER_MS);
    }, 0);
  });

  // Back to a page kept in the browser's cache: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      release(Array.prototype.slice.call(document.querySelectorAll("[data-submit-once]")));
    }
  });
})();
