// Shared page behaviour: stored theme, theme toggle, compact main menu, confirm buttons, service worker.
// Loaded without defer in <head> so the stored theme and the collapsed menu apply before the first paint.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var stored = null;
  try { stored = localStorage.getItem("theme"); } catch (e) { stored = null; }
  if (stored === "dark" || stored === "light") root.setAttribute("data-theme", stored);

  function currentTheme() {
    var t = root.getAttribute("data-theme");
    if (t === "dark" || t === "light") return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  // The button names the theme it switches TO (not a colour swatch): "Mörkt tema" while light is shown.
  function labelToggle(toggle) {
    var dark = currentTheme() === "dark";
    toggle.querySelector(".theme-label").textContent = dark ? "Ljust tema" : "Mörkt tema";
    toggle.querySelector(".theme-icon").textContent = dark ? "☀" : "☾";
    toggle.setAttribute("title", dark ? "Byt till ljust tema" : "Byt till mörkt tema");
  }

  function setupMenu() {
    var button = document.getElementById("menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!button || !menu) return;
    function setOpen(open) {
      button.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      labelToggle(toggle);
      toggle.addEventListener("click", function () {
        var next = currentTheme() === "dark" ? "light" : "dark";
        root.setAttribute("data-theme", next);
        try { localStorage.setItem("theme", next); } catch (e) { /* private mode */ }
        labelToggle(toggle);
      });
      if (window.matchMedia) {
        var mq = window.matchMedia("(prefers-color-scheme: dark)");
        var follow = function () { labelToggle(toggle); };
        if (mq.addEventListener) mq.addEventListener("change", follow);
      }
    }
    setupMenu();
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (ev) {
        if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    if ("serviceWorker" in navigator && document.body.dataset.userId) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* offline support is optional */ });
    }
  });
})();
