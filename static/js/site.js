// Small progressive enhancements; every page works without this file.
"use strict";

function focusErrorSummary() {
  // Move focus to an error summary so screen reader and keyboard users hear the problems first.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
}

function loginRetry() {
  // Send the login form in the background, so that when the site is too busy to check the
  // password (503 with X-Login-Busy: a whole class logging in at once) it tries again by
  // itself after Retry-After, without the password ever leaving this page.
  var form = document.querySelector("form[data-login]");
  if (!form || !window.fetch || !window.DOMParser) { return; }
  var status = form.querySelector(".login-status");
  var button = form.querySelector("[type=submit]");
  function show(html) {
    // A wrong password or a wait: show the page the server answered with, as a submit would.
    var page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.querySelector("main").replaceWith(page.querySelector("main"));
    loginRetry();
    focusErrorSummary();
  }
  function send(data) {
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual",
                         headers: { "X-Login-Script": "1" } })
      .then(function (r) {
        // Logged in (a redirect): the login page sends a logged-in visitor on to ?next. (Not
        // the #fragment a skip link may have added: that would not load the page again.)
        if (r.type === "opaqueredirect") { window.location.assign(form.action.split("#")[0]); return; }
        if (r.status === 503 && r.headers.get("X-Login-Busy")) {
          var wait = (parseInt(r.headers.get("Retry-After"), 10) || 2) + Math.random() * 3;
          status.textContent = "Many people are logging in at this moment. Trying again in " +
            Math.ceil(wait) + " seconds…";
          setTimeout(function () { send(data); }, wait * 1000);
          return;
        }
        return r.text().then(show);
      }, function () {
        // No answer at all (offline, a proxy): send the form the ordinary way instead. (The
        // form's button is named "submit", which hides the form's own submit method.)
        HTMLFormElement.prototype.submit.call(form);
      });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Logging in…";
    send(new FormData(form));
  });
}

function quizAutosave() {
  // Save quiz answers in the background a moment after each change, and when leaving the page.
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-autosave");
  var status = form.querySelector(".autosave-status");
  var timer = null;
  var dirty = false;
  function save() {
    timer = null;
    if (!dirty) { return; }
    dirty = false;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (data) { return [r, data]; }); })
      .then(function (pair) {
        if (status) { status.textContent = pair[1].message || ""; }
        if (pair[0].status === 409 && pair[1].review) { window.location = pair[1].review; }
      })
      .catch(function () {
        activity.giveBack(sent);
        dirty = true;
        if (status) { status.textContent = "Not saved: check your connection. Your answers are still on this page."; }
      });
  }
  function changed() {
    dirty = true;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 1500);
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("pagehide", function () {
    if (dirty && navigator.sendBeacon) { navigator.sendBeacon(url, new FormData(form)); }
  });
}

function quizTimer() {
  // Count down on screen; the server enforces the limit whatever this shows.
  var box = document.getElementById("timer");
  if (!box) { return; }
  var left = parseInt(box.getAttribute("data-seconds-left"), 10);
  var value = box.querySelector(".timer-value");
  var end = Date.now() + left * 1000;
  var live = box.querySelector(".timer-warning");
  var warned = {};
  function tick() {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    value.textContent = Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
    [300, 60].forEach(function (mark) {
      if (s <= mark && !warned[mark] && left > mark) {
        warned[mark] = true;
        live.textContent = (mark / 60) + (mark === 60 ? " minute" : " minutes") + " left.";
      }
    });
    if (s === 0) {
      var form = document.querySelector("form[data-autosave]");
      if (form) { form.requestSubmit(form.querySelector("button[value=finish]")); }
      return;
    }
    setTimeout(tick, 1000);
  }
  tick();
}

function countWords(text) {
  var m = text.match(/[\p{L}\p{N}_][\p{L}\p{N}_'’-]*/gu);
  return m ? m.length : 0;
}

function draftEditor() {
  // Live word count, and autosave a few seconds after the last keystroke and on leaving.
  var form = document.querySelector("form[data-draft-autosave]");
  if (!form) { return; }
  var url = form.getAttribute("data-draft-autosave");
  var area = form.querySelector("textarea");
  var counter = document.getElementById("word-count");
  var status = form.querySelector(".autosave-status");
  var based = form.querySelector("input[name=based_on]");
  var min = parseInt(counter.getAttribute("data-min"), 10);
  var max = parseInt(counter.getAttribute("data-max"), 10);
  var timer = null;
  var dirty = false;
  var activity = writingActivity(form, area);
  function showCount() {
    var n = countWords(area.value);
    var note = n < min ? " – below the guidance" : n > max ? " – above the guidance" : "";
    counter.textContent = n + " words (guidance " + min + " to " + max + ")" + note + ".";
    counter.classList.toggle("out-of-range", note !== "");
  }
  var maxChars = parseInt(area.getAttribute("data-max-chars"), 10);
  function showStatus(message, refused) {
    if (!status) { return; }
    status.textContent = message || "";
    status.classList.toggle("autosave-refused", !!refused);
  }
  function tooLong() {
    // Characters as the server counts them (not UTF-16 units); the box's line breaks are \n.
    var n = Array.from(area.value).length;
    return n > maxChars ? n : 0;
  }
  function refusal(code) {
    // A refusal the server did not explain in JSON (a proxy, or a request over the limit).
    if (code === 413) { return "Not saved: your answer is too long to send. An answer can be at most " + maxChars.toLocaleString("en-GB") + " characters. Shorten it, then press Save draft."; }
    if (code === 503 || code === 502 || code === 504) { return "Not saved: the service is briefly unavailable. Your text is still here; press Save draft in a minute."; }
    return "Not saved (the server answered " + code + "). Your text is still here: copy it somewhere safe, then reload the page.";
  }
  function save() {
    timer = null;
    if (!dirty || !window.fetch) { return; }
    var n = tooLong();
    if (n) {
      showStatus("Not saved: your answer is " + n.toLocaleString("en-GB") + " characters long. An answer can be at most " + maxChars.toLocaleString("en-GB") + " characters: shorten it, then it will save.", true);
      return;
    }
    dirty = false;
    var sent = activity.take();
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (d) { return [r.status, d]; },
                             function () { return [r.status, { message: refusal(r.status) }]; });
      })
      .then(function (pair) {
        var data = pair[1];
        // Kept with the text (a save or a conflict kept aside); otherwise sent again next time.
        if (pair[0] !== 200 && !data.conflict) { activity.giveBack(sent); }
        if (data.version && based) { based.value = data.version; }
        showStatus(data.message, pair[0] >= 400 && !data.url);
        if (pair[0] === 409 && data.url) { window.location = data.url; }
      })
      .catch(function () {
        activity.giveBack(sent);
        dirty = true;
        showStatus("Not saved: check your connection. Your text is still here; press Save draft when you are back online.", true);
      });
  }
  area.addEventListener("input", function () {
    showCount();
    dirty = true;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 3000);
  });
  form.addEventListener("submit", function () { dirty = false; activity.take(); });
  window.addEventListener("pagehide", function () {
    if (dirty && !tooLong() && navigator.sendBeacon) { activity.take(); navigator.sendBeacon(url, new FormData(form)); }
  });
  showCount();
}

function writingActivity(form, area) {
  // What the writing-process report may know (the page says so above the box): characters
  // typed, seconds of writing (pauses over two minutes left out), and each paste or drop into
  // the box with its size and text. Nothing else: no keystrokes, nothing outside this box.
  // It rides in the form's hidden "activity" field with each save, and is forgotten once
  // the server has kept it. Without this script the report is built from saved versions.
  var field = form.querySelector("input[name=activity]");
  var IDLE = 120000, MAX_PASTES = 20, MAX_TEXT = 5000;
  var typed = 0, active = 0, last = 0, pastes = [], inside = "";
  function tick() {
    var now = Date.now();
    if (last && now - last <= IDLE) { active += now - last; }
    last = now;
  }
  function fill() {
    if (!field) { return; }
    var now = Date.now();
    field.value = (typed || active || pastes.length) ? JSON.stringify({
      v: 1, typed: typed, active: Math.round(active / 1000),
      pastes: pastes.map(function (p) {
        return { chars: p.chars, ago: Math.max(0, now - p.at), text: p.text, own: p.own };
      })
    }) : "";
  }
  function pasted(text, own) {
    if (!text) { return; }
    var chars = Array.from(text).length;
    pastes.push({ chars: chars, at: Date.now(), text: Array.from(text).slice(0, MAX_TEXT).join(""), own: own });
    if (pastes.length > MAX_PASTES) {
      // Keep the largest, in the order they happened.
      var smallest = pastes.reduce(function (a, p, i) { return p.chars < pastes[a].chars ? i : a; }, 0);
      pastes.splice(smallest, 1);
    }
    tick();
  }
  area.addEventListener("copy", function () { inside = area.value.slice(area.selectionStart, area.selectionEnd); });
  area.addEventListener("cut", function () { inside = area.value.slice(area.selectionStart, area.selectionEnd); });
  area.addEventListener("dragstart", function () { inside = area.value.slice(area.selectionStart, area.selectionEnd); });
  area.addEventListener("paste", function (event) {
    var text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    pasted(text, text !== "" && text === inside);
  });
  area.addEventListener("drop", function (event) {
    var text = event.dataTransfer ? event.dataTransfer.getData("text/plain") : "";
    pasted(text, text !== "" && text === inside);
  });
  area.addEventListener("input", function (event) {
    var kind = event.inputType || "";
    if (kind === "insertFromPaste" || kind === "insertFromDrop" || kind.indexOf("delete") === 0) { return; }
    if (event.data) { typed += Array.from(event.data).length; } else if (kind === "insertLineBreak" || kind === "insertParagraph") { typed += 1; }
    tick();
  });
  area.addEventListener("keydown", function (event) {
    // Deleting and moving the cursor are writing time too, though not typed characters.
    if (event.key && event.key.length > 1) { tick(); }
  });
  return {
    take: function () {
      // Fill the field for the request about to be made; what it carries is then in flight.
      fill();
      var sent = { typed: typed, active: active, pastes: pastes };
      typed = 0; active = 0; pastes = [];
      return sent;
    },
    giveBack: function (sent) {
      typed += sent.typed; active += sent.active; pastes = sent.pastes.concat(pastes).slice(-MAX_PASTES);
    }
  };
}

function importProgress() {
  // A large CSV import's page: ask for its status every few seconds and update the status
  // region and the progress bar in place; once it has ended, load the page again for the
  // outcome. Without this, the page's "Check progress now" link does the same by hand.
  var region = document.querySelector("[data-poll]");
  if (!region || !window.fetch) { return; }
  var text = region.querySelector("[data-poll-summary]");
  var bar = document.getElementById("import-progress");
  function poll() {
    fetch(region.getAttribute("data-poll"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { setTimeout(poll, 10000); return; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        if (text.textContent !== s.summary) { text.textContent = s.summary; }
        if (bar) { bar.max = s.total || 1; bar.value = s.done; bar.textContent = s.done + " of " + s.total; }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2000);
}

function referralReasons() {
  // The marking guide's reasons to refer each get an "Insert" button that puts the reason into
  // that criterion's comment box at the cursor. Without this script they are text to copy.
  document.querySelectorAll("button[data-insert-into]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-insert-into"));
    if (!box || !box.setRangeText) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      // Where the assessor last left the cursor in the box; at the end if they never did.
      var placed = box.getAttribute("data-cursor-placed") === "1";
      var start = placed ? box.selectionStart : box.value.length;
      var end = placed ? box.selectionEnd : box.value.length;
      var text = button.getAttribute("data-text");
      if (start > 0 && !/\s/.test(box.value.charAt(start - 1))) { text = " " + text; }
      if (end < box.value.length && !/\s/.test(box.value.charAt(end))) { text += " "; }
      box.setRangeText(text, start, end, "end");
      box.setAttribute("data-cursor-placed", "1");
      box.focus();
      box.dispatchEvent(new Event("input", { bubbles: true }));
    });
    // A click, a key or typing in the box places the cursor (not tabbing into it).
    ["click", "select", "input", "keyup"].forEach(function (name) {
      box.addEventListener(name, function (event) {
        if (event.key !== "Tab") { box.setAttribute("data-cursor-placed", "1"); }
      });
    });
  });
}

function inPageNavigator() {
  // All questions on one page: keep the navigator's answered marks true as the learner answers
  // (the server drew them from the last save).
  var nav = document.querySelector(".question-nav-in-page");
  var form = document.querySelector("form[data-autosave]");
  if (!nav || !form) { return; }
  function answered(question) {
    return Array.prototype.some.call(question.querySelectorAll("input, select, textarea"), function (el) {
      if (el.type === "radio" || el.type === "checkbox") { return el.checked; }
      if (el.type === "hidden" || el.type === "submit") { return false; }
      return el.value.trim() !== "";
    });
  }
  function update(event) {
    var question = event.target.closest && event.target.closest("fieldset.question");
    if (!question) { return; }
    var link = nav.querySelector('a[data-question="' + question.id + '"]');
    if (!link) { return; }
    var done = answered(question);
    var flagged = link.classList.contains("nav-flagged");
    link.classList.toggle("nav-answered", done);
    link.classList.toggle("nav-unanswered", !done);
    link.querySelector(".nav-marks").textContent = (done ? "\u2713" : "") + (flagged ? "\u2691" : "");
    link.querySelector(".nav-words").textContent = (done ? ", answered" : ", not answered") +
      (flagged ? ", flagged for review" : "");
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
}

// Evidence per criterion: text selected in the answer on the marking page becomes the passage
// of the "Add evidence" form (offsets into the answer's plain text, and the text itself, which
// the server checks). Without this script the form's numbered sentences do the same.
function evidenceSelection() {
  var root = document.getElementById("answer-plain");
  var button = document.getElementById("use-selection");
  var source = document.getElementById("answer-source");
  var select = document.getElementById("evidence-passage");
  if (!root || !button || !source || !select) { return; }
  var text = JSON.parse(source.textContent);
  var status = document.getElementById("selection-status");
  var pieces = Array.prototype.slice.call(root.querySelectorAll("[data-at]"));
  button.closest(".evidence-pick").hidden = false;

  // A boundary of the selection as an offset into the text: inside a piece, exact; between
  // pieces or in a label, the nearest piece after it (a start) or before it (an end).
  function offset(node, at, isEnd) {
    var piece = (node.nodeType === 3 ? node.parentElement : node).closest("[data-at]");
    if (piece && root.contains(piece) && node.nodeType === 3) {
      return Number(piece.getAttribute("data-at")) + at;
    }
    var found = null;
    pieces.forEach(function (p) {
      var range = document.createRange();
      range.selectNodeContents(p);
      var where = range.comparePoint(node, at);
      if (!isEnd && where <= 0 && found === null) { found = Number(p.getAttribute("data-at")); }
      if (isEnd && where >= 0) { found = Number(p.getAttribute("data-at")) + p.textContent.length; }
    });
    return found;
  }

  button.addEventListener("click", function () {
    var selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) {
      status.textContent = "Select some words of the answer first.";
      return;
    }
    var range = selection.getRangeAt(0);
    if (!root.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== root) {
      status.textContent = "Select words inside the answer.";
      return;
    }
    var start = offset(range.startContainer, range.startOffset, false);
    var end = offset(range.endContainer, range.endOffset, true);
    if (start === null || end === null || end <= start || !text.slice(start, end).trim()) {
      status.textContent = "Select some words of the answer first.";
      return;
    }
    var quote = text.slice(start, end);
    var value = start + "-" + end;
    var option = select.querySelector("option[data-selection]");
    if (!option) {
      option = document.createElement("option");
      option.setAttribute("data-selection", "1");
      select.insertBefore(option, select.options[1] || null);
    }
    var preview = quote.replace(/\s+/g, " ").trim();
    if (preview.length > 80) { preview = preview.slice(0, 79) + "…"; }
    option.value = value;
    option.textContent = "Selected text: “" + preview + "”";
    select.value = value;
    document.getElementById("evidence-selection").value = value;
    document.getElementById("evidence-quote").value = quote;
    status.textContent = "Passage chosen: “" + preview + "”. Now choose the criterion.";
    document.getElementById("evidence-criterion").focus();
  });
}

document.addEventListener("DOMContentLoaded", function () {
  focusErrorSummary();
  loginRetry();
  quizAutosave();
  inPageNavigator();
  quizTimer();
  draftEditor();
  importProgress();
  referralReasons();
  evidenceSelection();
});
