// Search suggestions as you type, for every input with data-suggest="/search/suggest/".
// Progressive enhancement: without this file the box is a plain GET form to /search/.
// The ARIA combobox pattern: focus stays in the input; arrows move through the options.
(function () {
  "use strict";
  var DELAY_MS = 150;
  var MIN_CHARS = 2;

  document.querySelectorAll("input[data-suggest]").forEach(function (input, index) {
    var endpoint = input.getAttribute("data-suggest");
    var list = document.createElement("ul");
    var timer = null;
    var controller = null;
    var active = -1;
    var asked = "";

    list.id = "search-suggestions-" + index;
    list.className = "search-suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested posts");
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.form.appendChild(list);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function show(results) {
      list.textContent = "";
      results.forEach(function (item, i) {
        var option = document.createElement("li");
        var link = document.createElement("a");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        link.href = item.url;
        link.textContent = item.title;  // text, never HTML
        link.tabIndex = -1;
        option.appendChild(link);
        list.appendChild(option);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", String(results.length > 0));
    }

    function ask() {
      var text = input.value;
      if (text.trim().length < MIN_CHARS) {
        asked = "";
        close();
        return;
      }
      if (text === asked) return;
      asked = text;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(endpoint + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value === text) show(data.results || []); })
        .catch(function () { /* offline or aborted: the form still works */ });
    }

    function move(step) {
      var options = list.querySelectorAll("[role=option]");
      if (list.hidden || options.length === 0) return;
      if (active >= 0) options[active].setAttribute("aria-selected", "false");
      active = (active + step + options.length) % options.length;
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        move(1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        move(-1);
      } else if (event.key === "Escape" && !list.hidden) {
        // The first Escape closes the list; the next one clears the box, as usual.
        event.preventDefault();
        close();
      } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
        // Enter on a highlighted suggestion opens it; otherwise the form searches.
        event.preventDefault();
        window.location.assign(list.querySelectorAll("[role=option] a")[active].href);
      }
    });
    input.addEventListener("blur", close);
    // Keep focus in the input while a suggestion is clicked, so blur does not hide it first.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  });
})();
