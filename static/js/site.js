// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so screen reader and keyboard users hear the problems first.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
});
