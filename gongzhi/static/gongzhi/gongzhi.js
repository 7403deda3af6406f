// Gongzhi staff web: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  var KEY = "gongzhi-large-text";
  var root = document.documentElement;

  function setLarge(on) {
    root.classList.toggle("large-text", on);
    try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    var button = document.getElementById("large-text-toggle");
    if (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("large-text-toggle");
    if (button) {
      button.setAttribute("aria-pressed", root.classList.contains("large-text") ? "true" : "false");
      button.addEventListener("click", function () { setLarge(!root.classList.contains("large-text")); });
    }
    // Reveal dialogs: open/close the small reason form next to a masked value.
    document.body.addEventListener("click", function (event) {
      var opener = event.target.closest("[data-reveal-open]");
      if (opener) {
        var form = document.getElementById(opener.getAttribute("data-reveal-open"));
        if (form) {
          form.hidden = false;
          opener.setAttribute("aria-expanded", "true");
          var input = form.querySelector("input[name=reason]");
          if (input) { input.focus(); }
        }
      }
      var closer = event.target.closest("[data-reveal-close]");
      if (closer) {
        var target = document.getElementById(closer.getAttribute("data-reveal-close"));
        if (target) { target.hidden = true; }
        var toggle = document.querySelector('[data-reveal-open="' + closer.getAttribute("data-reveal-close") + '"]');
        if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
      }
    });
  });
})();
