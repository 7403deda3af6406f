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
  });
})();
