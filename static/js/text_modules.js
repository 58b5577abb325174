/* Text modules in the reply and note boxes of the ticket page.
 *
 * Typing "::" and a few letters (e.g. "::rou") in a textarea of a form carrying
 * data-text-modules="<url>" opens a list of matching modules, already rendered for this
 * ticket by the server (GET <url>?q=rou, JSON). Arrow keys choose, Enter or Tab inserts,
 * Esc closes; a click inserts too. Inserting replaces "::rou" with the module's text.
 *
 * Loaded as a file (the CSP allows no inline script and no eval); everything is wired by
 * event delegation on the document, so the ticket area htmx swaps in needs no set-up.
 * Without JavaScript the textareas are plain textareas.
 */
(function () {
  "use strict";

  // htmx runs the script tag again with each swapped ticket area: wire up only once.
  if (window.helpdeskTextModules) {
    window.helpdeskTextModules.hints();
    return;
  }

  // A "::" at the start or after a space, then up to 40 letters, digits or hyphens, right
  // before the cursor ("fe80::1" or "10::30" in a text open nothing).
  var TRIGGER = /\s::([\p{L}\p{N}-]{1,40})$/u;
  var DELAY_MS = 120;
  var cache = new Map();
  var state = null; // the open list: textarea, form, start, query, results, active, ...
  var counter = 0;

  function formOf(element) {
    if (!element || element.tagName !== "TEXTAREA") return null;
    return element.closest("form[data-text-modules]");
  }

  function triggerAt(textarea) {
    if (textarea.selectionStart !== textarea.selectionEnd) return null;
    var caret = textarea.selectionStart;
    var before = textarea.value.slice(0, caret);
    // Look at the last few characters only; a text's start counts as a space.
    var tail = before.length > 43 ? before.slice(-44) : " " + before;
    var match = TRIGGER.exec(tail);
    if (!match) return null;
    return { start: caret - match[1].length - 2, query: match[1] };
  }

  // --- The list ---------------------------------------------------------------------------

  function build(textarea) {
    var field = textarea.parentElement;
    field.classList.add("tm-anchor");
    var box = document.createElement("div");
    box.className = "tm-suggest";
    box.hidden = true;
    var list = document.createElement("ul");
    list.className = "tm-options";
    list.id = "tm-options-" + ++counter;
    list.setAttribute("role", "listbox");
    var empty = document.createElement("p");
    empty.className = "tm-empty";
    empty.setAttribute("role", "status");
    box.appendChild(list);
    box.appendChild(empty);
    // Keep the cursor in the textarea while the mouse picks an entry.
    box.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    box.addEventListener("click", function (event) {
      var option = event.target.closest(".tm-option");
      if (option && state) insert(Number(option.dataset.index));
    });
    box.addEventListener("mousemove", function (event) {
      var option = event.target.closest(".tm-option");
      if (option && state && Number(option.dataset.index) !== state.active) {
        highlight(Number(option.dataset.index));
      }
    });
    field.appendChild(box);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);
    return { box: box, list: list, empty: empty };
  }

  function open(textarea, found) {
    if (!state || state.textarea !== textarea) {
      close();
      state = {
        textarea: textarea,
        form: formOf(textarea),
        parts: textarea._tmParts || (textarea._tmParts = build(textarea)),
        results: [],
        active: -1,
        timer: null,
        controller: null,
      };
    }
    state.start = found.start;
    if (state.query === found.query) return;
    state.query = found.query;
    clearTimeout(state.timer);
    var key = state.form.dataset.textModules + "?q=" + encodeURIComponent(found.query);
    if (cache.has(key)) {
      show(cache.get(key));
    } else {
      state.timer = setTimeout(load, DELAY_MS, key);
    }
  }

  function load(key) {
    if (!state) return;
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    fetch(key, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        cache.set(key, data);
        if (state && state.controller === controller) show(data);
      })
      .catch(function () {
        // Aborted by a newer query, or the server refused: the list stays as it was.
      });
  }

  function show(data) {
    var parts = state.parts;
    var textarea = state.textarea;
    state.results = data.results || [];
    parts.list.textContent = "";
    state.results.forEach(function (item, index) {
      var option = document.createElement("li");
      option.className = "tm-option";
      option.id = parts.list.id + "-" + index;
      option.dataset.index = String(index);
      option.setAttribute("role", "option");
      var head = document.createElement("span");
      head.className = "tm-option-head";
      var shortcut = document.createElement("span");
      shortcut.className = "tm-option-shortcut";
      shortcut.textContent = "::" + item.shortcut;
      var title = document.createElement("strong");
      title.textContent = item.title;
      var meta = document.createElement("span");
      meta.className = "tm-option-meta";
      meta.textContent = item.department + " · " + item.language.toUpperCase();
      head.append(shortcut, title, meta);
      var preview = document.createElement("span");
      preview.className = "tm-option-preview";
      preview.textContent = item.text.length > 160 ? item.text.slice(0, 160) + "…" : item.text;
      option.append(head, preview);
      if (item.warning) {
        var warning = document.createElement("span");
        warning.className = "tm-option-warning";
        warning.textContent = item.warning;
        option.appendChild(warning);
      }
      parts.list.appendChild(option);
    });
    parts.list.hidden = !state.results.length;
    parts.empty.hidden = !!state.results.length;
    parts.empty.textContent = state.results.length ? "" : data.empty || "";
    parts.box.style.top = textarea.offsetTop + textarea.offsetHeight + 2 + "px";
    parts.box.style.left = textarea.offsetLeft + "px";
    parts.box.hidden = false;
    highlight(state.results.length ? 0 : -1);
  }

  function highlight(index) {
    state.active = index;
    var options = state.parts.list.children;
    for (var i = 0; i < options.length; i++) {
      options[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    if (index >= 0) {
      options[index].scrollIntoView({ block: "nearest" });
      state.textarea.setAttribute("aria-activedescendant", options[index].id);
    } else {
      state.textarea.removeAttribute("aria-activedescendant");
    }
  }

  function isShowing() {
    return state && !state.parts.box.hidden;
  }

  function close() {
    if (!state) return;
    clearTimeout(state.timer);
    if (state.controller) state.controller.abort();
    state.parts.box.hidden = true;
    state.textarea.removeAttribute("aria-activedescendant");
    state = null;
  }

  // --- Inserting --------------------------------------------------------------------------

  function insert(index) {
    var item = state.results[index];
    var textarea = state.textarea;
    var start = state.start;
    var end = textarea.selectionStart;
    close();
    textarea.focus();
    textarea.setSelectionRange(start, end);
    // insertText keeps the browser's undo history (Ctrl+Z takes the module out again);
    // where it is missing, the text is put in directly.
    var done = false;
    try {
      done = document.execCommand("insertText", false, item.text);
    } catch (error) {
      done = false;
    }
    if (!done || textarea.value.slice(start, start + item.text.length) !== item.text) {
      textarea.setRangeText(item.text, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    note(textarea, item.warning);
  }

  function note(textarea, message) {
    var field = textarea.parentElement;
    var existing = field.querySelector(".tm-note");
    if (existing) existing.remove();
    if (!message) return;
    var element = document.createElement("p");
    element.className = "tm-note";
    element.setAttribute("role", "status");
    element.textContent = message;
    textarea.insertAdjacentElement("afterend", element);
  }

  // --- Wiring -----------------------------------------------------------------------------

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!formOf(textarea)) return;
    var found = triggerAt(textarea);
    if (!found) {
      delete textarea.dataset.tmDismissed;
      if (state && state.textarea === textarea) close();
      return;
    }
    if (textarea.dataset.tmDismissed === String(found.start)) return;
    open(textarea, found);
  });

  document.addEventListener("keydown", function (event) {
    if (!isShowing() || event.target !== state.textarea || event.isComposing) return;
    var count = state.results.length;
    var plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
    if (event.key === "ArrowDown" && count) {
      highlight((state.active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      highlight((state.active - 1 + count) % count);
    } else if ((event.key === "Enter" || event.key === "Tab") && plain && count) {
      insert(Math.max(state.active, 0));
    } else if (event.key === "Escape") {
      state.textarea.dataset.tmDismissed = String(state.start);
      close();
    } else {
      return;
    }
    event.preventDefault();
  });

  // The cursor moved away from the "::word" (arrow keys, a click): the list goes.
  function recheck(event) {
    if (!state || event.target !== state.textarea) return;
    var found = triggerAt(state.textarea);
    if (!found || found.start !== state.start) close();
  }
  document.addEventListener("keyup", recheck);
  document.addEventListener("click", recheck);
  document.addEventListener("focusout", function (event) {
    if (state && event.target === state.textarea) close();
  });
  // The ticket area is swapped (a reply sent): its list goes with it. Other parts of the
  // page refresh themselves (notices, calls) and leave the list alone.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (state && target && target.contains(state.textarea)) close();
  });

  // Tell agents the shortcut exists: a hint in the empty boxes.
  function hints() {
    var forms = document.querySelectorAll("form[data-text-modules]");
    forms.forEach(function (form) {
      form.querySelectorAll("textarea").forEach(function (textarea) {
        if (!textarea.placeholder) textarea.placeholder = form.dataset.textModulesHint || "";
      });
    });
  }
  document.addEventListener("htmx:afterSettle", hints);
  hints();

  window.helpdeskTextModules = { hints: hints };
})();
