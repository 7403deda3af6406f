// Photo pickers (tickets/_photo_picker.html): our own button-like label in the page's language instead
// of the browser's "Choose Files", and a line saying how many photos are chosen. The native input stays
// in the page, focusable and labelled, only out of sight; without this file it shows as it is.
(function () {
  "use strict";

  function say(picker) {
    var input = picker.querySelector("input[type=file]");
    var count = picker.querySelector(".photo-count");
    if (!input || !count) { return; }
    var n = input.files ? input.files.length : 0;
    if (n > 3) { count.textContent = count.getAttribute("data-too-many"); }
    else if (n) { count.textContent = count.getAttribute("data-chosen").replace("{n}", n); }
    else { count.textContent = count.getAttribute("data-none"); }
  }

  function enhance(root) {
    var pickers = (root.querySelectorAll ? root : document).querySelectorAll("[data-photo-picker]:not(.enhanced)");
    for (var i = 0; i < pickers.length; i++) {
      var picker = pickers[i];
      picker.classList.add("enhanced");
      var button = picker.querySelector(".photo-button");
      if (button) { button.hidden = false; }
      say(picker);
    }
  }

  document.addEventListener("change", function (event) {
    var picker = event.target.closest ? event.target.closest("[data-photo-picker]") : null;
    if (picker) { say(picker); }
  });
  // Pages swapped in by htmx (a ticket's actions after each step) bring new pickers.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
