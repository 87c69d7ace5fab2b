// Progressive enhancement only: every page reads and shares without this file.
(function () {
  "use strict";
  document.querySelectorAll(".copy-button").forEach(function (button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy link"; }, 2000);
      });
    });
  });
})();
