// Small behaviours of FirstLine's pages, kept out of the HTML so that the pages need no inline script
// (the Content-Security-Policy allows scripts from this site's files only).
//
// - <form data-send-once>: one tap sends once; the submit button is disabled right after the tap
//   (the server stores a repeated form only once anyway).
// - <input data-from-hash>: filled from the address's "#…" part (a letter's QR code carries the
//   household code there, so it never reaches the server's logs), which is then cleared.
// - <a data-back>: goes back a page; without script it follows its href.
(function () {
  "use strict";

  function ready() {
    document.querySelectorAll("form[data-send-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
        window.setTimeout(function () {
          buttons.forEach(function (button) { button.disabled = true; });
        }, 0);
      });
    });

    var code = "";
    try { code = decodeURIComponent(window.location.hash.slice(1)); } catch (e) { code = ""; }
    document.querySelectorAll("input[data-from-hash]").forEach(function (box) {
      if (code && !box.value) { box.value = code; }
    });
    if (code && document.querySelector("input[data-from-hash]") && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }

    document.querySelectorAll("a[data-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
