/* Calls: keyboard and comfort for the screen pop and the call note. Everything here is an
   extra: the pages work without it (the content security policy allows no inline script,
   so this file is the only place for it). */
(function () {
  "use strict";

  var DRAFT_PREFIX = "helpdesk:";

  /* Ctrl+Enter (Cmd+Enter on a Mac) saves the call note from any of its fields. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) {
      return;
    }
    var form = event.target.closest && event.target.closest("form[data-call-note]");
    if (!form) {
      return;
    }
    event.preventDefault();
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  });

  /* Alt+N opens the call note of the newest notice, from wherever the agent is. */
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.code !== "KeyN") {
      return;
    }
    var button = document.querySelector("#call-notices [data-call-shortcut]");
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  /* The note survives a reload of its page: verifying the caller reloads it (account
     actions unlock), and an agent should not lose what they typed meanwhile. Kept in
     sessionStorage (this tab only, gone when it closes) and dropped on submit. */
  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name.indexOf("note-") === 0;
    });
  }

  function draftSave(form, key) {
    var values = {};
    draftFields(form).forEach(function (field) {
      if (field.type === "radio") {
        if (field.checked) {
          values[field.name] = field.value;
        }
      } else {
        values[field.name] = field.value;
      }
    });
    try {
      window.sessionStorage.setItem(key, JSON.stringify(values));
    } catch (error) {
      /* storage full or disabled: the draft is a comfort, not a promise */
    }
  }

  function draftRestore(form, key) {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(key);
    } catch (error) {
      return;
    }
    if (!raw) {
      return;
    }
    var summary = form.elements["note-summary"];
    if (summary && summary.value.trim() !== "") {
      return; /* the page came back with the agent's input (a refused save) */
    }
    var values;
    try {
      values = JSON.parse(raw);
    } catch (error) {
      return;
    }
    draftFields(form).forEach(function (field) {
      if (!(field.name in values)) {
        return;
      }
      if (field.type === "radio") {
        field.checked = field.value === values[field.name];
      } else {
        field.value = values[field.name];
      }
    });
    if (summary && document.activeElement === summary) {
      summary.selectionStart = summary.selectionEnd = summary.value.length;
    }
  }

  function draftSetUp() {
    var form = document.querySelector("form[data-call-note]");
    if (!form) {
      return;
    }
    var key = DRAFT_PREFIX + form.getAttribute("data-draft-key");
    draftRestore(form, key);
    form.addEventListener("input", function () { draftSave(form, key); });
    form.addEventListener("change", function () { draftSave(form, key); });
    form.addEventListener("submit", function () {
      try {
        window.sessionStorage.removeItem(key);
      } catch (error) {
        /* nothing to drop */
      }
    });
  }

  /* A waiting call shows in the tab's title too, for an agent looking at another window. */
  var baseTitle = document.title;
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "call-notices") {
      return;
    }
    var count = event.detail.target.querySelectorAll("[data-testid='call-notice']").length;
    document.title = count ? "(" + count + ") ☎ " + baseTitle : baseTitle;
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draftSetUp);
  } else {
    draftSetUp();
  }
})();
