/* Clarion's post editor: live side-by-side preview, word count, image upload and drop,
   and a confirmation before publishing emails subscribers. The page works without it. */
(function () {
  "use strict";

  function start() {
    var config = document.getElementById("clarion-editor");
    var body = document.getElementById("id_body");
    if (!config || !body) return;
    var form = body.form;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");

    function post(url, data) {
      return fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "" }
      });
    }

    /* Side by side: the text on the left, the rendered post on the right. */
    var area = document.createElement("div");
    area.className = "clarion-editor-area";
    var split = document.createElement("div");
    split.className = "clarion-split";
    body.parentNode.insertBefore(area, body);
    area.appendChild(split);
    split.appendChild(body);
    var preview = document.createElement("div");
    preview.className = "clarion-preview post-body";
    preview.setAttribute("role", "region");
    preview.setAttribute("aria-label", "Preview");
    preview.tabIndex = 0;
    split.appendChild(preview);

    var counter = document.createElement("p");
    counter.className = "clarion-wordcount";
    counter.setAttribute("aria-live", "polite");
    area.appendChild(counter);
    // The live count replaces the saved one the server shows without JavaScript.
    var savedCount = document.querySelector(".field-word_count_display");
    if (savedCount) savedCount.hidden = true;

    function countWords() {
      var text = body.value.replace(/!\[[^\]]*\]\([^)]*\)/g, " ").replace(/[#*_>`~\[\]()|-]/g, " ");
      var words = text.trim() ? text.trim().split(/\s+/).length : 0;
      counter.textContent = words + (words === 1 ? " word" : " words");
    }

    var timer = null;
    var sequence = 0;
    function refresh() {
      var mine = ++sequence;
      var data = new FormData();
      data.append("body", body.value);
      post(config.dataset.previewUrl, data)
        .then(function (response) {
          return response.text().then(function (text) {
            return { ok: response.ok, text: text };
          });
        })
        .then(function (result) {
          if (mine !== sequence) return; // a newer request is on its way
          if (result.ok) {
            preview.innerHTML = result.text; // sanitised on the server, as on the public page
            preview.classList.remove("clarion-error");
          } else {
            preview.textContent = result.text;
            preview.classList.add("clarion-error");
          }
        })
        .catch(function () {
          preview.textContent = "The preview is not available just now.";
        });
    }
    function changed() {
      countWords();
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }
    body.addEventListener("input", changed);
    countWords();
    refresh();

    /* Images: the file field and drag-and-drop both upload at once and insert Markdown. */
    var uploadUrl = config.dataset.uploadUrl;
    var fileInput = document.getElementById("id_image_upload");
    var altInput = document.getElementById("id_image_alt");
    var status = document.createElement("p");
    status.className = "clarion-upload-status";
    status.setAttribute("role", "status");
    (fileInput ? fileInput.parentNode : area).appendChild(status);

    function insertAtCursor(text) {
      var start = body.selectionStart, end = body.selectionEnd;
      var before = body.value.slice(0, start), after = body.value.slice(end);
      var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
      var tail = after && !/^\n/.test(after) ? "\n\n" : "\n";
      body.value = before + lead + text + tail + after;
      var caret = (before + lead + text + tail).length;
      body.setSelectionRange(caret, caret);
      body.focus();
      changed();
    }

    function upload(file) {
      var suggested = altInput && altInput.value ? altInput.value : "";
      var alt = window.prompt("Describe the image “" + file.name + "” for people who cannot see it (alt text):", suggested);
      if (alt === null) {
        status.textContent = "Upload cancelled.";
        return Promise.resolve();
      }
      var data = new FormData();
      data.append("file", file);
      data.append("alt", alt);
      status.textContent = "Uploading " + file.name + "…";
      status.classList.remove("clarion-error");
      return post(uploadUrl, data)
        .then(function (response) {
          return response.json().then(function (json) {
            return { ok: response.ok, json: json };
          });
        })
        .then(function (result) {
          if (!result.ok) throw new Error(result.json.error || "The upload failed.");
          insertAtCursor(result.json.markdown);
          status.textContent = file.name + " added.";
          if (altInput) altInput.value = "";
        })
        .catch(function (error) {
          status.textContent = error.message || "The upload failed.";
          status.classList.add("clarion-error");
        });
    }

    if (uploadUrl && fileInput) {
      fileInput.addEventListener("change", function () {
        var files = Array.prototype.slice.call(fileInput.files);
        fileInput.value = ""; // uploaded now: not again with the form
        files.reduce(function (chain, file) {
          return chain.then(function () { return upload(file); });
        }, Promise.resolve());
      });
    }
    if (uploadUrl) {
      body.addEventListener("dragover", function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
          event.preventDefault();
          body.classList.add("clarion-drop");
        }
      });
      body.addEventListener("dragleave", function () { body.classList.remove("clarion-drop"); });
      body.addEventListener("drop", function (event) {
        var files = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.files) : [];
        if (!files.length) return;
        event.preventDefault();
        body.classList.remove("clarion-drop");
        files.reduce(function (chain, file) {
          return chain.then(function () { return upload(file); });
        }, Promise.resolve());
      });
    }

    /* Publishing that will email subscribers asks first, and says how many. */
    var count = parseInt(config.dataset.subscriberCount, 10);
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      var action = button && button.getAttribute("data-editor-action");
      var notify = document.getElementById("id_notify_subscribers");
      if (!action || !(count > 0) || config.dataset.wasPublic || !notify || !notify.checked) return;
      var verb = action === "schedule" ? "Scheduling" : "Publishing";
      var question = verb + " this post will email " + count + (count === 1 ? " subscriber" : " subscribers") + ". Go ahead?";
      if (!window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = config.dataset.confirmField;
      confirmed.value = action;
      form.appendChild(confirmed);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
