// Portico front-end helpers. Loaded with `defer`; no inline scripts (CSP script-src 'self').
(function () {
  "use strict";

  // (a) Send the CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var token = meta && meta.getAttribute("content");
    if (token && evt.detail && evt.detail.headers) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // (b) <form data-confirm="message">: ask before submitting (capture phase, before htmx).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // (c) <button data-copy="#selector">: copy the target's value or text.
  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(ta); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (evt) {
    var btn = evt.target instanceof Element && evt.target.closest("button[data-copy]");
    if (!btn) return;
    evt.preventDefault();
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (!el) return;
    var text = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ? el.value : el.textContent.trim();
    var done = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); })
      : fallbackCopy(text);
    done.then(function () {
      if (!btn.hasAttribute("data-label")) btn.setAttribute("data-label", btn.textContent);
      btn.textContent = "Copied";
      clearTimeout(btn._copyTimer);
      btn._copyTimer = setTimeout(function () {
        btn.textContent = btn.getAttribute("data-label");
      }, 2000);
    });
  });

  // (d) The phone menu: the "Menu" button shows and hides the main navigation (CSS hides it on a
  // phone while aria-expanded is false). Escape closes it and gives the focus back to the button.
  document.addEventListener("click", function (evt) {
    var btn = evt.target instanceof Element && evt.target.closest("#menu-toggle");
    if (!btn) return;
    var open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = document.querySelector("#main-nav a");
      if (first && evt.detail === 0) first.focus();
    }
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") return;
    var btn = document.getElementById("menu-toggle");
    if (!btn || btn.getAttribute("aria-expanded") !== "true") return;
    btn.setAttribute("aria-expanded", "false");
    btn.focus();
  });

  // (e) A table too wide for its box scrolls sideways inside its .table-wrap: while it does, the
  // wrap is a named, focusable region, so a keyboard user can scroll it with the arrow keys
  // (WCAG 2.1.1); a table that fits adds no tab stop. Checked on load, on resize and after htmx
  // swaps new content in.
  function regionName(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.caption;
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var labelled = table && table.getAttribute("aria-label");
    if (labelled) return labelled;
    // Else the heading the table sits under: the last one before it in the document.
    var headings = document.querySelectorAll("main h1, main h2, main h3");
    var name = "";
    for (var i = 0; i < headings.length; i++) {
      if (headings[i].compareDocumentPosition(wrap) & Node.DOCUMENT_POSITION_FOLLOWING) {
        name = headings[i].textContent.trim() || name;
      }
    }
    return name || "Table";
  }
  function markScrollable(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", regionName(wrap) + " (scrolls sideways)");
      wrap.setAttribute("data-scrolls", "");
    } else if (!scrolls && wrap.hasAttribute("data-scrolls")) {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
      wrap.removeAttribute("data-scrolls");
    }
  }
  function markAllScrollable() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) markScrollable(wraps[i]);
  }
  markAllScrollable();
  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(markAllScrollable, 100);
  });
  document.addEventListener("htmx:afterSettle", markAllScrollable);
})();
