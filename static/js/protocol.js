// The protocol page on a tablet: autosave through the outbox, the live observation timeline, the
// save state, conflicts (412) merged field by field, and text a frozen protocol refused (409) kept
// and offered as an amendment. The server renders the page; this script takes over its controls.
(function () {
  "use strict";

  var POLL_MS = 5000;
  var PRESENCE_MS = 30000;
  var DEBOUNCE_MS = 800;
  var TEXT_KEYS = { contact_person: true, responsible_server_name: true, summary: true, feedback_given: true };

  function $(sel, el) { return (el || document).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(date) { return pad(date.getHours()) + ":" + pad(date.getMinutes()); }
  function isoTime(iso) { return iso ? hhmm(new Date(iso)) : ""; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // "23:41" near a reference instant (a night visit runs past midnight) -> ISO 8601 with offset.
  function timeToIso(value, ref) {
    var m = /^(\d{1,2}):(\d{2})/.exec(value || "");
    if (!m) return null;
    var best = null;
    [-1, 0, 1].forEach(function (days) {
      var d = new Date(ref.getFullYear(), ref.getMonth(), ref.getDate() + days, +m[1], +m[2], 0, 0);
      if (!best || Math.abs(d - ref) < Math.abs(best - ref)) best = d;
    });
    var off = -best.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return best.getFullYear() + "-" + pad(best.getMonth() + 1) + "-" + pad(best.getDate()) + "T" +
      pad(best.getHours()) + ":" + pad(best.getMinutes()) + ":00" + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  // ---- the sign page: signing needs the network --------------------------------------------
  function signPage() {
    var box = $("#sign-box");
    if (!box) return;
    var note = $("#sign-offline");
    var unsentNote = $("#sign-unsent");
    var button = $("button[type=submit]", box);
    var id = Number(box.dataset.inspectionId);
    var unsent = 0;
    function update() {
      var offline = navigator.onLine === false;
      note.hidden = !offline;
      unsentNote.hidden = !unsent;
      unsentNote.textContent = unsent
        ? "⚠ " + unsent + (unsent === 1 ? " ändring" : " ändringar") + " till protokollet har inte skickats än. " +
          "Vänta tills de är skickade (eller lös konflikten på tillsynssidan) – annars kommer de inte med i det du signerar."
        : "";
      if (button) button.disabled = offline || unsent > 0;
    }
    function count() {
      if (!window.KTOutbox) { update(); return; }
      window.KTOutbox.list().then(function (ops) {
        unsent = ops.filter(function (op) { return op.inspection_id === id; }).length;
        update();
      });
    }
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    window.addEventListener("kt-outbox", count);
    count();
  }

  var root = document.getElementById("protocol");
  if (!root) { signPage(); return; }
  var Outbox = window.KTOutbox;
  var dataEl = document.getElementById("inspection-data");
  var labels = JSON.parse(document.getElementById("protocol-labels").textContent);
  var server = JSON.parse(dataEl.textContent);
  var inspectionId = Number(root.dataset.inspectionId);
  var apiUrl = root.dataset.apiUrl;
  var canEdit = root.dataset.canEdit === "true";
  var canObserve = root.dataset.canObserve === "true";
  var canAmend = root.dataset.canAmend === "true";
  var initialStatus = root.dataset.status;
  var plannedStart = new Date(server.planned_start);

  var state = {
    version: server.version,
    believed: flatten(server.protocol), // what we think the server has, with our queued changes
    dirty: {},
    dirtyBase: {},
    timer: null,
    ops: [],
    lastSaved: null,
  };

  function flatten(protocol) {
    var out = {};
    Object.keys(protocol || {}).forEach(function (key) {
      if (key === "checklist") {
        Object.keys(protocol.checklist || {}).forEach(function (code) {
          var item = protocol.checklist[code];
          out["checklist." + code] = item ? { status: item.status, note: item.note == null ? null : item.note } : null;
        });
      } else {
        out[key] = protocol[key];
      }
    });
    return out;
  }

  function fieldLabel(key) {
    if (key.indexOf("checklist.") === 0) return (labels.checklist[key.slice(10)] || key.slice(10));
    var input = $('[data-field="' + key + '"]');
    if (input && input.id) { var lab = $('label[for="' + input.id + '"]'); if (lab) return lab.textContent; }
    if (input) { var fs = input.closest("fieldset"); if (fs && $("legend", fs)) return $("legend", fs).textContent; }
    return key;
  }

  function displayValue(key, value) {
    if (value === null || value === undefined || value === "") return "(tomt)";
    if (key === "arrived_at" || key === "left_at") return isoTime(value);
    if (key === "intoxication_level") return labels.level[value] || value;
    if (key === "responsible_server_present") return value ? "Ja" : "Nej";
    if (key.indexOf("checklist.") === 0) {
      return (labels.check_status[value.status] || value.status) + (value.note ? ": " + value.note : "");
    }
    return String(value);
  }

  // ---- reading and writing the controls ------------------------------------------------------
  function readField(key) {
    if (key.indexOf("checklist.") === 0) {
      var code = key.slice(10);
      var item = $('[data-check="' + code + '"]');
      var pressed = $(".toggle[aria-pressed=true]", item);
      if (!pressed) return null;
      var note = $("textarea", item).value;
      return { status: pressed.dataset.status, note: note === "" ? null : note };
    }
    var node = $('[data-field="' + key + '"]');
    if (!node) return undefined;
    var type = node.dataset.type;
    if (type === "bool" || type === "choice") {
      var chip = $(".chip[aria-pressed=true]", node);
      if (!chip) return null;
      return type === "bool" ? chip.dataset.value === "true" : chip.dataset.value;
    }
    if (type === "time") return node.value ? timeToIso(node.value, plannedStart) : null;
    if (type === "int") {
      if (node.value === "") return null;
      var n = Number(node.value);
      return Number.isInteger(n) && n >= 0 ? n : undefined;
    }
    return node.value === "" ? null : node.value;
  }

  function writeField(key, value) {
    if (key.indexOf("checklist.") === 0) {
      var item = $('[data-check="' + key.slice(10) + '"]');
      if (!item) return;
      var ta = $("textarea", item);
      if (document.activeElement === ta) return;
      $$(".toggle", item).forEach(function (b) { b.setAttribute("aria-pressed", String(!!value && b.dataset.status === value.status)); });
      ta.value = value && value.note ? value.note : "";
      showNote(item);
      return;
    }
    var node = $('[data-field="' + key + '"]');
    if (!node || document.activeElement === node) return;
    var type = node.dataset.type;
    if (type === "bool" || type === "choice") {
      $$(".chip", node).forEach(function (c) {
        var v = type === "bool" ? c.dataset.value === "true" : c.dataset.value;
        c.setAttribute("aria-pressed", String(value !== null && value !== undefined && v === value));
      });
    } else if (type === "time") {
      node.value = isoTime(value);
    } else {
      node.value = value === null || value === undefined ? "" : value;
    }
    if (key === "guest_count") guestWarning();
  }

  function showNote(item) {
    var pressed = $(".toggle[aria-pressed=true]", item);
    var box = $(".check-note", item);
    var ta = $("textarea", item);
    box.hidden = !((pressed && pressed.dataset.status === "anmarkning") || ta.value);
  }

  function guestWarning() {
    var input = $("#f-guest_count");
    var max = Number(($("#guest-max") || {}).dataset ? $("#guest-max").dataset.max : "");
    var warn = $("#guest-over");
    if (!input || !warn) return;
    warn.hidden = !(max && input.value !== "" && Number(input.value) > max);
  }

  // ---- autosave ------------------------------------------------------------------------------
  function edited(key) {
    var value = readField(key);
    if (value === undefined) return;
    if (!(key in state.dirty) && Outbox.same(key, value, state.believed[key])) return;
    if (!(key in state.dirtyBase)) state.dirtyBase[key] = state.believed[key] === undefined ? null : state.believed[key];
    state.dirty[key] = value;
    clearTimeout(state.timer);
    state.timer = setTimeout(queueChanges, DEBOUNCE_MS);
    renderState();
  }

  function queueChanges() {
    clearTimeout(state.timer);
    var keys = Object.keys(state.dirty);
    if (!keys.length) return Promise.resolve();
    var op = {
      kind: "patch",
      inspection_id: inspectionId,
      url: apiUrl,
      base_version: state.version,
      changes: state.dirty,
      base: state.dirtyBase,
    };
    keys.forEach(function (key) { state.believed[key] = state.dirty[key]; });
    state.dirty = {};
    state.dirtyBase = {};
    return Outbox.add(op).then(refreshOps);
  }

  function bindControls() {
    $$("[data-field]").forEach(function (node) {
      var key = node.dataset.field;
      var type = node.dataset.type;
      if (type === "bool" || type === "choice") {
        $$(".chip", node).forEach(function (chip) {
          chip.addEventListener("click", function () {
            if (!canEdit) return;
            var on = chip.getAttribute("aria-pressed") !== "true";
            $$(".chip", node).forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
            chip.setAttribute("aria-pressed", String(on));
            edited(key);
            queueChanges();
          });
        });
        return;
      }
      node.addEventListener("input", function () { if (key === "guest_count") guestWarning(); edited(key); });
      node.addEventListener("change", function () { edited(key); queueChanges(); });
      node.addEventListener("blur", function () { queueChanges(); });
    });
    $$(".step").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = $("#f-guest_count");
        if (!canEdit || !input) return;
        var n = Math.max(0, (Number(input.value) || 0) + Number(button.dataset.step));
        input.value = n;
        guestWarning();
        edited("guest_count");
      });
    });
    $$(".check-item").forEach(function (item) {
      var key = "checklist." + item.dataset.check;
      $$(".toggle", item).forEach(function (button) {
        button.addEventListener("click", function () {
          if (!canEdit) return;
          $$(".toggle", item).forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
          showNote(item);
          if (button.dataset.status === "anmarkning") $("textarea", item).focus();
          edited(key);
          if (button.dataset.status !== "anmarkning") queueChanges();
        });
      });
      var ta = $("textarea", item);
      ta.addEventListener("input", function () { if ($(".toggle[aria-pressed=true]", item)) edited(key); });
      ta.addEventListener("blur", function () { queueChanges(); });
      if (!canEdit) ta.disabled = true;
    });
    if (!canEdit) $$(".toggle, [data-field] .chip, .step").forEach(function (b) { b.disabled = true; });
    window.addEventListener("pagehide", function () { queueChanges(); });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") queueChanges(); });
  }

  // ---- what the server says ------------------------------------------------------------------
  function pendingKeys() {
    var keys = {};
    state.ops.forEach(function (op) {
      if (op.kind === "patch" && op.inspection_id === inspectionId) Object.keys(op.changes).forEach(function (k) { keys[k] = true; });
    });
    Object.keys(state.dirty).forEach(function (k) { keys[k] = true; });
    return keys;
  }

  function applyServer(data) {
    if (!data || data.id !== inspectionId) return;
    mergeObservations(data.observations || []);
    if (typeof data.version === "number" && data.version >= (server.version || 0)) {
      var obs = server.observations;
      server = data;
      server.observations = obs;
      if (data.version > state.version) state.version = data.version;
      var flat = flatten(data.protocol);
      var waiting = pendingKeys();
      var keys = {};
      Object.keys(flat).concat(Object.keys(state.believed)).forEach(function (k) { keys[k] = true; });
      Object.keys(keys).forEach(function (key) {
        if (waiting[key]) return;
        var value = flat[key] === undefined ? null : flat[key];
        state.believed[key] = value;
        writeField(key, value);
      });
      var editable = data.status === "planned" || data.status === "in_progress";
      var wasEditable = initialStatus === "planned" || initialStatus === "in_progress";
      if (wasEditable !== editable || data.status !== initialStatus && data.status === "signed") {
        // Signed, reopened or cancelled elsewhere: show the page as it now is (queued changes are kept).
        initialStatus = data.status;
        queueChanges().then(function () { location.reload(); });
      }
    }
    renderTimeline();
  }

  function mergeObservations(list) {
    var byClient = {};
    (server.observations || []).forEach(function (o) { byClient[o.client_id] = o; });
    list.forEach(function (o) { byClient[o.client_id] = o; });
    server.observations = Object.keys(byClient).map(function (k) { return byClient[k]; });
  }

  var polling = false;
  function poll() {
    if (polling || document.visibilityState !== "visible") return;
    polling = true;
    fetch(apiUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { state.auth = true; renderState(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) { if (data) applyServer(data); })
      .catch(function () { return null; })
      .then(function () { polling = false; });
  }

  // ---- who else is in the protocol now ---------------------------------------------------------
  var presenceBusy = false;
  function renderPresence(people) {
    var el = $("#presence");
    if (!el) return;
    if (people === null || !people.length) { el.hidden = true; el.textContent = ""; return; }
    el.textContent = "Här nu: " + people.map(function (p) {
      return p.user.name + " (" + (p.organisation.kind === "polis" ? "polisen" : p.organisation.name) + ")";
    }).join(", ");
    el.hidden = false;
  }
  function sayPresent() {
    if (presenceBusy || document.visibilityState !== "visible") return;
    // Offline nobody can be seen: say nothing rather than show a list that may be stale.
    if (navigator.onLine === false) { renderPresence(null); return; }
    presenceBusy = true;
    fetch(root.dataset.presenceUrl, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-CSRFToken": Outbox.csrfToken(), Accept: "application/json" },
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { renderPresence(data ? data.present : null); })
      .catch(function () { renderPresence(null); })
      .then(function () { presenceBusy = false; });
  }

  // ---- the timeline ----------------------------------------------------------------------------
  function renderTimeline() {
    var list = $("#timeline");
    if (!list) return;
    var entries = (server.observations || []).map(function (o) { return { o: o, pending: null }; });
    var known = {};
    entries.forEach(function (e) { known[e.o.client_id] = true; });
    state.ops.forEach(function (op) {
      if (op.kind !== "observation" || op.inspection_id !== inspectionId || known[op.client_id]) return;
      entries.push({
        o: {
          client_id: op.client_id, observed_at: op.body.observed_at, category: op.body.category,
          intoxication_level: op.body.intoxication_level, description: op.body.description,
          author: { name: root.dataset.userName }, retracted: false,
        },
        pending: op.state,
      });
    });
    var retracting = {};
    state.ops.forEach(function (op) { if (op.kind === "retract" && op.inspection_id === inspectionId) retracting[op.observation_id] = op; });
    entries.sort(function (a, b) {
      return Date.parse(b.o.observed_at) - Date.parse(a.o.observed_at) || (b.o.id || 1e12) - (a.o.id || 1e12);
    });
    list.textContent = "";
    if (!entries.length) { list.appendChild(el("li", "empty", "Inga observationer ännu.")); return; }
    entries.forEach(function (e) {
      var o = e.o;
      var li = el("li", "obs" + (o.retracted ? " retracted" : "") + (e.pending ? " pending" : ""));
      li.dataset.clientId = o.client_id;
      var meta = el("p", "meta");
      meta.appendChild(el("span", "when", isoTime(o.observed_at)));
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("strong", null, labels.category[o.category] || o.category));
      if (o.intoxication_level) meta.appendChild(document.createTextNode(" · " + (labels.level[o.intoxication_level] || o.intoxication_level)));
      meta.appendChild(document.createTextNode(" · " + ((o.author && o.author.name) || "")));
      li.appendChild(meta);
      if (o.retracted) {
        var p = el("p");
        p.appendChild(el("del", "note-text", o.description));
        li.appendChild(p);
        li.appendChild(el("p", "badge", "✗ Återkallad: " + (o.retracted_reason || "")));
      } else {
        li.appendChild(el("p", "note-text", o.description));
      }
      if (e.pending === "pending") li.appendChild(el("p", "badge pending-badge", "⏳ Väntar på nät – finns på enheten"));
      else if (e.pending === "locked") li.appendChild(el("p", "badge warn-badge", "⚠ Ej sparad: protokollet är låst"));
      else if (e.pending) li.appendChild(el("p", "badge warn-badge", "⚠ Ej sparad"));
      if (o.id && retracting[o.id]) li.appendChild(el("p", "badge pending-badge", "⏳ Återkallas: " + retracting[o.id].body.reason));
      else if (o.id && !o.retracted && canObserve) li.appendChild(retractControl(o));
      list.appendChild(li);
    });
  }

  function retractControl(o) {
    var wrap = el("div", "retract");
    var open = el("button", "btn btn-ghost", "Återkalla…");
    open.type = "button";
    var form = el("div", "retract-form");
    form.hidden = true;
    var id = "retract-" + o.id;
    var lab = el("label", null, "Skäl till återkallelsen");
    lab.setAttribute("for", id);
    var input = el("input");
    input.id = id;
    input.type = "text";
    var go = el("button", "btn btn-danger", "Återkalla observationen");
    go.type = "button";
    var err = el("p", "error");
    err.hidden = true;
    form.appendChild(lab); form.appendChild(input); form.appendChild(go); form.appendChild(err);
    open.addEventListener("click", function () { form.hidden = false; open.hidden = true; input.focus(); });
    go.addEventListener("click", function () {
      if (!input.value.trim()) { err.textContent = "Skriv varför observationen återkallas."; err.hidden = false; return; }
      Outbox.add({
        kind: "retract", inspection_id: inspectionId, observation_id: o.id,
        url: apiUrl + "/observations/" + o.id + "/retract", body: { reason: input.value },
      }).then(refreshOps);
    });
    wrap.appendChild(open);
    wrap.appendChild(form);
    return wrap;
  }

  // ---- the observation panel -------------------------------------------------------------------
  function bindObservationPanel() {
    var openBtn = $("#obs-open");
    var panel = $("#obs-panel");
    if (!openBtn || !panel) return;
    var text = $("#obs-text");
    var time = $("#obs-time");
    var photo = $("#obs-photo");
    var error = $("#obs-error");
    function chipGroup(group) {
      $$(".chip", group).forEach(function (chip) {
        chip.addEventListener("click", function () {
          var on = chip.getAttribute("aria-pressed") !== "true";
          $$(".chip", group).forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
          chip.setAttribute("aria-pressed", String(on));
        });
      });
    }
    chipGroup($("#obs-category"));
    chipGroup($("#obs-level"));
    function close() {
      panel.hidden = true;
      openBtn.setAttribute("aria-expanded", "false");
      openBtn.focus();
    }
    openBtn.addEventListener("click", function () {
      if (!panel.hidden) { close(); return; }
      panel.hidden = false;
      openBtn.setAttribute("aria-expanded", "true");
      time.value = hhmm(new Date());
      error.hidden = true;
      text.focus();
    });
    $("#obs-cancel").addEventListener("click", close);
    panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") close(); });
    $("#obs-save").addEventListener("click", function () {
      var cat = $("#obs-category .chip[aria-pressed=true]");
      var lvl = $("#obs-level .chip[aria-pressed=true]");
      var problems = [];
      if (!cat) problems.push("Välj en kategori.");
      if (!text.value.trim()) problems.push("Skriv vad du såg.");
      if (!/^\d{1,2}:\d{2}/.test(time.value)) problems.push("Ange tiden.");
      if (problems.length) { error.textContent = problems.join(" "); error.hidden = false; return; }
      var clientId = Outbox.uuid();
      var body = {
        client_id: clientId,
        observed_at: timeToIso(time.value, new Date()),
        category: cat.dataset.value,
        intoxication_level: lvl ? lvl.dataset.value : null,
        description: text.value,
      };
      var jobs = [Outbox.add({ kind: "observation", inspection_id: inspectionId, url: apiUrl + "/observations", client_id: clientId, body: body })];
      var file = photo && photo.files && photo.files[0];
      if (file) {
        jobs.push(Outbox.add({
          kind: "photo", inspection_id: inspectionId, url: apiUrl + "/photos", client_id: Outbox.uuid(),
          blob: file, filename: file.name, body: { description: "Foto till observation " + time.value },
        }));
      }
      Promise.all(jobs).then(function () {
        text.value = "";
        if (photo) photo.value = "";
        $$("#obs-category .chip, #obs-level .chip").forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
        close();
        refreshOps();
      }, function () {
        error.textContent = "Kunde inte spara på enheten. Försök igen.";
        error.hidden = false;
      });
    });
  }

  // ---- save state, conflicts, frozen protocol ---------------------------------------------------
  function refreshOps() {
    return Outbox.list().then(function (ops) {
      state.ops = ops;
      renderTimeline();
      renderState();
      renderConflict();
      renderLocked();
    });
  }

  function mine(ops) { return ops.filter(function (op) { return op.inspection_id === inspectionId; }); }

  function renderState() {
    var box = $("#save-state");
    var text = $(".state-text", box);
    var show = $("#show-problem");
    var ops = mine(state.ops);
    var pending = Object.keys(state.dirty).length;
    var conflict = false;
    var locked = false;
    ops.forEach(function (op) {
      if (op.state === "conflict") conflict = true;
      else if (op.state === "locked" || op.state === "refused") locked = true;
      else pending += op.kind === "patch" ? Object.keys(op.changes).length : 1;
    });
    var word = pending === 1 ? "ändring" : "ändringar";
    var kind;
    var label;
    if (conflict) { kind = "conflict"; label = "⚠ Konflikt –"; }
    else if (locked) { kind = "locked"; label = "⚠ Osänt – protokollet är låst eller ändringen godtogs inte –"; }
    else if (state.auth || Outbox.authNeeded()) {
      kind = "auth";
      label = pending ? "⚠ Logga in igen – " + pending + " " + word + " väntar på enheten" : "⚠ Utloggad – logga in igen";
    }
    else if (pending && navigator.onLine === false) { kind = "pending"; label = "⏳ Väntar på nät – " + pending + " " + word; }
    else if (pending) { kind = "pending"; label = "↻ Sparar – " + pending + " " + word; }
    else { kind = "saved"; label = "✓ Sparat " + hhmm(state.lastSaved || new Date(root.dataset.updatedAt || Date.now())); }
    box.dataset.state = kind;
    box.dataset.pending = String(pending);
    text.textContent = label;
    show.hidden = !(conflict || locked);
    show.textContent = "visa";
  }

  function conflictOp() {
    return mine(state.ops).filter(function (op) { return op.state === "conflict"; })[0] || null;
  }

  var shownConflictSeq = null;
  function renderConflict() {
    var panel = $("#conflict-panel");
    var op = conflictOp();
    if (!op) { panel.hidden = true; shownConflictSeq = null; return; }
    if (shownConflictSeq === op.seq && !panel.hidden) return; // keep the user's choices
    shownConflictSeq = op.seq;
    var box = $("#conflict-fields");
    box.textContent = "";
    op.conflicts.forEach(function (key, i) {
      var theirs = Outbox.serverValue(op.current, key);
      var fs = el("fieldset", "conflict-field");
      fs.dataset.key = key;
      fs.appendChild(el("legend", null, fieldLabel(key)));
      var dl = el("dl", "facts");
      dl.appendChild(el("dt", null, "På servern nu"));
      dl.appendChild(el("dd", "note-text", displayValue(key, theirs)));
      dl.appendChild(el("dt", null, "Din ändring"));
      dl.appendChild(el("dd", "note-text", displayValue(key, op.changes[key])));
      fs.appendChild(dl);
      var chips = el("div", "chips");
      var choices = [["server", "Behåll serverns"], ["mine", "Använd min"]];
      if (TEXT_KEYS[key] || key.indexOf("checklist.") === 0) choices.push(["both", "Slå ihop båda"]);
      choices.forEach(function (c) {
        var b = el("button", "chip", c[1]);
        b.type = "button";
        b.dataset.choice = c[0];
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          $$(".chip", chips).forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
        });
        chips.appendChild(b);
      });
      fs.appendChild(chips);
      box.appendChild(fs);
      if (i === 0) fs.id = "conflict-first";
    });
    panel.hidden = false;
  }

  function joinText(a, b) {
    if (!a) return b;
    if (!b) return a;
    return a + "\n\n" + b;
  }

  function merged(key, theirs, yours) {
    if (key.indexOf("checklist.") === 0) {
      var t = theirs || {};
      var y = yours || {};
      return { status: y.status || t.status, note: joinText(t.note || null, y.note || null) };
    }
    return joinText(theirs, yours);
  }

  function saveConflict() {
    var op = conflictOp();
    if (!op) return;
    var choices = {};
    var missing = false;
    $$("#conflict-fields .conflict-field").forEach(function (fs) {
      var chosen = $(".chip[aria-pressed=true]", fs);
      if (!chosen) missing = true; else choices[fs.dataset.key] = chosen.dataset.choice;
    });
    if (missing) { window.alert("Välj ett värde för varje uppgift."); return; }
    var changes = {};
    var base = {};
    Object.keys(op.changes).forEach(function (key) {
      var theirs = Outbox.serverValue(op.current, key);
      base[key] = theirs;
      var choice = choices[key] || "mine";
      if (choice === "server") { state.believed[key] = theirs; writeField(key, theirs); return; }
      changes[key] = choice === "both" ? merged(key, theirs, op.changes[key]) : op.changes[key];
      state.believed[key] = changes[key];
      writeField(key, changes[key]);
    });
    if (op.current.version > state.version) state.version = op.current.version;
    $("#conflict-panel").hidden = true;
    shownConflictSeq = null;
    Outbox.resolve(op.seq, changes, base, op.current.version).then(refreshOps);
  }

  function lockedText(ops) {
    var lines = [];
    ops.forEach(function (op) {
      if (op.kind === "patch") {
        Object.keys(op.changes).forEach(function (key) { lines.push(fieldLabel(key) + ": " + displayValue(key, op.changes[key])); });
      } else if (op.kind === "observation") {
        var b = op.body;
        lines.push("Observation " + isoTime(b.observed_at) + " " + (labels.category[b.category] || b.category) +
          (b.intoxication_level ? " (" + (labels.level[b.intoxication_level] || "") + ")" : "") + ": " + b.description);
      } else if (op.kind === "retract") {
        lines.push("Återkallelse av observation: " + op.body.reason);
      } else if (op.kind === "photo") {
        lines.push("Ett foto (" + (op.filename || "foto") + ") kunde inte sparas.");
      }
      if (op.state === "refused" && op.error && op.error.message) {
        lines.push("  (Godtogs inte: " + op.error.message + ")");
      }
    });
    return lines.join("\n");
  }

  function renderLocked() {
    var panel = $("#locked-panel");
    var ops = mine(state.ops).filter(function (op) { return op.state === "locked" || op.state === "refused"; });
    if (!ops.length) { panel.hidden = true; return; }
    panel.hidden = false;
    var ta = $("#locked-text");
    var text = lockedText(ops);
    if (panel.dataset.text !== text && document.activeElement !== ta) {
      panel.dataset.text = text;
      ta.value = "Ändringar av " + root.dataset.userName + " som inte kom med i protokollet:\n" + text;
    }
    var help = $("#locked-help");
    var amend = $("#locked-amend");
    amend.hidden = !canAmend;
    help.textContent = canAmend
      ? "Skicka texten som ett tillägg (det signeras som protokollet), eller kopiera den."
      : "Protokollet väntar på signaturer eller är signerat. Be en kommunhandläggare öppna det igen – då skickas ändringarna – eller skriv ett tillägg när det är signerat. Texten finns kvar här tills dess.";
    var retry = $("#locked-retry");
    if (!retry) {
      retry = el("button", "btn", "Försök skicka igen");
      retry.type = "button";
      retry.id = "locked-retry";
      retry.addEventListener("click", function () {
        mine(state.ops).forEach(function (op) { if (op.state === "locked" || op.state === "refused") Outbox.retry(op.seq); });
      });
      amend.parentNode.appendChild(retry);
    }
  }

  function sendAmendment() {
    var ta = $("#locked-text");
    var ops = mine(state.ops).filter(function (op) { return op.state === "locked" || op.state === "refused"; });
    if (!ta.value.trim()) return;
    if (navigator.onLine === false) { window.alert("Ett tillägg kräver nätverk. Texten finns kvar på enheten."); return; }
    fetch(apiUrl + "/amendments", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": Outbox.csrfToken(), Accept: "application/json" },
      body: JSON.stringify({ text: ta.value }),
    }).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        return Promise.all(ops.map(function (op) { return Outbox.remove(op.seq); })).then(function () { location.reload(); });
      }
      return r.json().catch(function () { return {}; }).then(function (j) {
        window.alert("Tillägget kunde inte sparas: " + ((j.error && j.error.message) || r.status) + " Texten finns kvar.");
      });
    }, function () { window.alert("Ingen kontakt med servern. Texten finns kvar på enheten."); });
  }

  // ---- start ---------------------------------------------------------------------------------
  function cacheForOffline() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (!reg.active) return;
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { root.dataset.offlineReady = "true"; };
      var user = root.dataset.userId;
      reg.active.postMessage(
        { type: "cache", user: user, urls: [root.dataset.pageUrl, apiUrl, root.dataset.venueApiUrl, root.dataset.signUrl] },
        [channel.port2]
      );
    }).catch(function () { return null; });
  }

  function start() {
    bindControls();
    bindObservationPanel();
    $("#conflict-save").addEventListener("click", saveConflict);
    $("#show-problem").addEventListener("click", function () {
      var target = conflictOp() ? $("#conflict-panel") : $("#locked-panel");
      target.hidden = false;
      target.scrollIntoView({ block: "start" });
      var focus = $("button, textarea", target);
      if (focus) focus.focus();
    });
    $("#locked-amend").addEventListener("click", sendAmendment);
    window.addEventListener("kt-outbox", function (ev) {
      var d = ev.detail || {};
      if (d.type === "sent") {
        state.lastSaved = new Date();
        state.auth = false;
        if (d.op.inspection_id === inspectionId) {
          if (d.op.kind === "patch") applyServer(d.data);
          else if (d.op.kind === "observation" && d.data && d.data.client_id) mergeObservations([d.data]);
          else if (d.op.kind === "retract") poll();
        }
      }
      refreshOps();
    });
    window.addEventListener("online", function () { renderState(); poll(); });
    window.addEventListener("offline", renderState);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") poll(); });
    // What waits in the outbox is newer than a page served from the cache: show it.
    Outbox.list().then(function (ops) {
      state.ops = ops;
      mine(ops).forEach(function (op) {
        if (op.kind !== "patch") return;
        Object.keys(op.changes).forEach(function (key) { state.believed[key] = op.changes[key]; writeField(key, op.changes[key]); });
      });
      refreshOps();
      poll();
    });
    setInterval(poll, POLL_MS);
    sayPresent();
    setInterval(sayPresent, PRESENCE_MS);
    document.addEventListener("visibilitychange", sayPresent);
    window.addEventListener("online", sayPresent);
    window.addEventListener("offline", function () { renderPresence(null); });
    cacheForOffline();
  }

  start();
})();
