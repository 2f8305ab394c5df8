// The archive ZIP: fetch it as a stream and show how much has arrived (it is made while it is sent,
// so its size is not known beforehand). Without JavaScript the link downloads it directly.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var link = document.getElementById("archive-download");
    var box = document.getElementById("archive-progress");
    var status = document.getElementById("archive-status");
    if (!link || !box || !status || !window.fetch || !window.ReadableStream) return;
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      var started = Date.now();
      var received = 0;
      var chunks = [];
      var count = link.getAttribute("data-count");
      link.setAttribute("aria-disabled", "true");
      // Shown only when the download takes more than a second.
      var timer = window.setTimeout(function () { box.hidden = false; }, 1000);
      function show() {
        var seconds = Math.round((Date.now() - started) / 1000);
        status.textContent = "Hämtar " + count + " protokoll: " + Math.round(received / 1024) + " kB mottaget (" + seconds + " s).";
      }
      fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var name = "tillsynsprotokoll.zip";
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="([^"]+)"/.exec(disposition);
        if (match) name = match[1];
        var reader = response.body.getReader();
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) return name;
            chunks.push(step.value);
            received += step.value.length;
            show();
            return pump();
          });
        }
        return pump();
      }).then(function (name) {
        window.clearTimeout(timer);
        var url = URL.createObjectURL(new Blob(chunks, { type: "application/zip" }));
        var a = document.createElement("a");
        a.href = url;
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        status.textContent = "Klart: " + count + " protokoll, " + Math.round(received / 1024) + " kB.";
        box.hidden = false;
        link.removeAttribute("aria-disabled");
      }).catch(function () {
        window.clearTimeout(timer);
        box.hidden = false;
        status.textContent = "Hämtningen misslyckades. Försök igen.";
        link.removeAttribute("aria-disabled");
      });
    });
  });
})();
