// Resident pages: the "large text" switch, suggestion chips, and a guard against double submits
// (the photo picker is photo-picker.js, shared with the staff pages).
// Every page works without this file; it only makes things quicker and kinder.
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

  function pickCategory(code) {
    var radios = document.querySelectorAll("input[name=category]");
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].value === code) {
        // A kind behind "more": open it, so the chosen one is seen (and focusable).
        var more = radios[i].closest ? radios[i].closest("details") : null;
        if (more) { more.open = true; }
        radios[i].checked = true;
        radios[i].dispatchEvent(new Event("change", { bubbles: true }));
        radios[i].focus();
        return;
      }
    }
  }

  // Coming back with the browser's back button: the form may be sent again (same key: one ticket).
  window.addEventListener("pageshow", function (event) {
    var form = document.getElementById("ticket-form");
    if (event.persisted && form) {
      form.removeAttribute("data-sending");
      var buttons = form.querySelectorAll("button.submit");
      for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("large-text-toggle");
    if (button) {
      button.hidden = false;
      button.setAttribute("aria-pressed", root.classList.contains("large-text") ? "true" : "false");
      button.addEventListener("click", function () { setLarge(!root.classList.contains("large-text")); });
    }

    // A suggestion chip picks its category in the list below.
    document.addEventListener("click", function (event) {
      var chip = event.target.closest ? event.target.closest("[data-pick]") : null;
      if (chip) {
        event.preventDefault();
        pickCategory(chip.getAttribute("data-pick"));
      }
    });

    // One press sends once (the server also makes a repeated submit key one ticket).
    var form = document.getElementById("ticket-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        var submitter = event.submitter;
        if (!submitter || !submitter.classList.contains("submit")) { return; }
        if (form.getAttribute("data-sending") === "1") { event.preventDefault(); return; }
        form.setAttribute("data-sending", "1");
        setTimeout(function () { submitter.disabled = true; }, 0);
        var label = submitter.getAttribute("data-sending-label");
        if (label) { submitter.textContent = label; }
      });
    }
  });
})();
