// The battle map's filters: a colour of the legend shows alone without a round trip
// (the page also honours ?colour= without JavaScript); a care flag reloads the map.
(function () {
  "use strict";
  var map = document.getElementById("bmap");
  if (!map) return;
  var links = document.querySelectorAll(".legend [data-colour]");
  var kept = document.querySelector('#flag-filter input[name="colour"]');

  function show(colour) {
    if (colour) map.setAttribute("data-show", colour);
    else map.removeAttribute("data-show");
    links.forEach(function (link) {
      if (link.getAttribute("data-colour") === colour) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    if (kept) kept.value = colour;
    var url = new URL(window.location.href);
    if (colour) url.searchParams.set("colour", colour);
    else url.searchParams.delete("colour");
    window.history.replaceState(null, "", url);
  }

  links.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var colour = link.getAttribute("data-colour");
      show(map.getAttribute("data-show") === colour ? "" : colour);
    });
  });

  var flag = document.getElementById("flag");
  if (flag) flag.addEventListener("change", function () { flag.form.submit(); });
})();
