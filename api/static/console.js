// The dispatcher console (served at /static/<hash>/console.js: the page's security policy admits no
// inline script). Plain DOM, no framework: the board is a few hundred rows redrawn one at a time.
// The session lives in an HttpOnly cookie the script never sees; every change carries the
// session's CSRF token, read once from the sign-in answer or GET /console/session.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    csrf: null,
    user: null,
    territories: [],
    territoryId: null,
    zone: "UTC",
    day: null,
    techs: [], // board order: [{technician_id, name, at_risk}]
    jobs: new Map(), // job_id -> {job, place}
    days: new Map(), // technician_id -> {shift_start_at, shift_end_at, breaks, position, home_*}
    lastEventId: 0,
    stream: null,
    candidates: new Map(), // job_id -> Promise of ranked candidates
    selected: null,
    map: null,
    layers: null,
    pending: new Set(),
    flushing: false,
    planSeconds: 5, // the optimizer's search, per plan
  };

  // ---- talking to the API -------------------------------------------------------------------
  async function api(method, path, body, headers) {
    const h = Object.assign({ Accept: "application/json" }, headers || {});
    if (body !== undefined) h["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) h["X-CSRF-Token"] = state.csrf;
    const response = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = { detail: text }; }
    }
    if (response.status === 401 && path !== "/console/session") showSignIn("Your session has ended; sign in again.");
    return { status: response.status, ok: response.ok, data, headers: response.headers };
  }

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = "message toast " + (kind || "");
    box.hidden = !text;
    clearTimeout(say.timer);
    if (text && kind !== "sticky") say.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  // ---- sign-in ------------------------------------------------------------------------------
  function showSignIn(message) {
    if (state.stream) state.stream.close();
    state.stream = null;
    state.csrf = null;
    $("console").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-message").textContent = message || "";
    $("email").focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const answer = await api("POST", "/console/session", { email: $("email").value, password: $("password").value });
    $("password").value = "";
    if (!answer.ok) {
      $("sign-in-message").textContent = (answer.data && answer.data.detail) || "Could not sign in.";
      return;
    }
    await start(answer.data);
  }

  async function signOut() {
    await api("DELETE", "/console/session");
    showSignIn("Signed out.");
  }

  async function start(session) {
    state.csrf = session.csrf_token;
    state.user = session.user;
    $("sign-in").hidden = true;
    $("console").hidden = false;
    $("who").textContent = session.user.email || session.user.role;
    const answer = await api("GET", "/territories?limit=200");
    state.territories = (answer.data && answer.data.items) || [];
    const select = $("territory");
    select.replaceChildren(...state.territories.map((t) => new Option(t.name, t.id)));
    const remembered = sessionStorage.getItem("console.territory");
    const chosen = state.territories.find((t) => t.id === remembered) || state.territories[0];
    if (!chosen) { say("No territory to dispatch yet.", "sticky"); return; }
    select.value = chosen.id;
    chooseTerritory(chosen.id, null);
  }

  function chooseTerritory(id, day) {
    const territory = state.territories.find((t) => t.id === id);
    state.territoryId = id;
    state.zone = territory ? territory.timezone : "UTC";
    sessionStorage.setItem("console.territory", id);
    state.day = day || todayIn(state.zone);
    $("date").value = state.day;
    $("tz").textContent = state.zone;
    loadBoard();
  }

  function todayIn(zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }

  // ---- the board ----------------------------------------------------------------------------
  async function loadBoard() {
    const query = `territory_id=${encodeURIComponent(state.territoryId)}&date=${state.day}`;
    performance.mark("board-asked");
    const answer = await api("GET", `/console/board?${query}`);
    performance.mark("board-read");
    if (!answer.ok) { say((answer.data && answer.data.detail) || "Could not load the board.", "error"); return; }
    const seen = answer.data;
    state.techs = seen.board.technicians.map((t) => ({ technician_id: t.technician_id, name: t.name }));
    state.hues = null;
    state.jobs = new Map();
    state.days = new Map(seen.days.map((d) => [d.technician_id, d]));
    const places = new Map(seen.places.map((p) => [p.job_id, p]));
    for (const job of seen.board.unassigned) state.jobs.set(job.job_id, { job, place: places.get(job.job_id) });
    for (const t of seen.board.technicians) {
      for (const job of t.route) state.jobs.set(job.job_id, { job, place: places.get(job.job_id) });
    }
    state.lastEventId = seen.board.last_event_id;
    state.candidates = new Map();
    renderAll();
    openStream();
    document.body.dataset.boardReady = String(Date.now());
  }

  function renderAll() {
    computeSpan();
    renderScale();
    const rows = state.techs.map((t) => renderRow(t.technician_id));
    $("rows").replaceChildren(...rows);
    renderUnassigned();
    renderAlertsFromBoard();
    performance.mark("board-drawn");
    renderMap();
    performance.mark("map-drawn");
  }

  // The timeline covers the shifts and the planned work of the day, whole hours.
  function computeSpan() {
    let lo = Infinity;
    let hi = -Infinity;
    const see = (iso, extra) => {
      if (!iso) return;
      const t = Date.parse(iso);
      lo = Math.min(lo, t);
      hi = Math.max(hi, t + (extra || 0) * 1000);
    };
    for (const d of state.days.values()) { see(d.shift_start_at); see(d.shift_end_at); }
    for (const { job, place } of state.jobs.values()) {
      if (job.technician_id) see(job.planned_start_at, place ? place.duration_s : 0);
    }
    if (!isFinite(lo)) {
      // No shift that day: the working hours of the territory's day.
      lo = zonedMidnight() + 7 * 3600e3;
      hi = lo + 11 * 3600e3;
    }
    state.spanStart = Math.floor(lo / 3600e3) * 3600e3;
    state.spanEnd = Math.max(state.spanStart + 3600e3, Math.ceil(hi / 3600e3) * 3600e3);
  }

  function zonedMidnight() {
    // The instant the chosen day starts in the territory's zone (offset read back from Intl).
    const guess = Date.parse(state.day + "T00:00:00Z");
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: state.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(guess));
    const [h, m] = parts.split(":").map(Number);
    const shift = (h * 60 + m) * 60e3;
    return guess - (shift > 12 * 3600e3 ? shift - 24 * 3600e3 : shift);
  }

  const pct = (ms) => (100 * (ms - state.spanStart)) / (state.spanEnd - state.spanStart);
  // Formatters cost far more to make than to use (a board formats thousands of times): one per zone.
  const formatters = new Map();
  function formatter(kind, options) {
    const key = `${kind} ${state.zone}`;
    if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: state.zone }, options)));
    return formatters.get(key);
  }
  const clock = (iso) => (iso ? formatter("clock", { hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "–");

  function renderScale() {
    const scale = $("scale");
    const ticks = [];
    for (let t = state.spanStart; t < state.spanEnd; t += 3600e3) {
      const tick = el("span", "tick", clock(new Date(t).toISOString()));
      tick.style.left = pct(t) + "%";
      ticks.push(tick);
    }
    scale.replaceChildren(...ticks);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Colours spread by the golden angle over the territory's technicians in id order, so that
  // neighbours differ and a technician keeps theirs while the board is open.
  function colourOf(id) {
    if (!state.hues || !state.hues.has(id)) {
      const ids = state.techs.map((t) => t.technician_id).sort();
      state.hues = new Map(ids.map((t, i) => [t, (i * 137.508) % 360]));
    }
    const hue = state.hues.get(id) || 0;
    return `hsl(${hue.toFixed(0)} 70% ${hue > 40 && hue < 200 ? 34 : 46}%)`;
  }

  function block(cls, fromMs, toMs, title) {
    const b = el("div", "block " + cls);
    b.style.left = pct(fromMs) + "%";
    b.style.width = Math.max(0.3, pct(toMs) - pct(fromMs)) + "%";
    if (title) b.title = title;
    return b;
  }

  function routeOf(technicianId) {
    return [...state.jobs.values()]
      .filter(({ job }) => job.technician_id === technicianId && job.status !== "new")
      .sort((a, b) => Date.parse(a.job.planned_start_at || a.job.window_start_at) - Date.parse(b.job.planned_start_at || b.job.window_start_at));
  }

  function renderRow(technicianId) {
    const tech = state.techs.find((t) => t.technician_id === technicianId);
    const day = state.days.get(technicianId);
    const route = routeOf(technicianId);
    const row = el("div", "row");
    row.dataset.technicianId = technicianId;
    row.setAttribute("role", "listitem");
    const name = el("div", "name");
    const swatch = el("span", "swatch");
    swatch.style.background = colourOf(technicianId);
    const atRisk = route.filter(({ job }) => job.risks.length).length;
    name.append(swatch, el("span", "tech-name", tech ? tech.name : "?"));
    if (atRisk) {
      const badge = el("span", "risk-count", `⚠ ${atRisk}`);
      badge.title = `${atRisk} job(s) at risk`;
      name.append(badge);
    }
    const track = el("div", "track");
    if (day && day.shift_start_at) {
      track.append(block("shift", Date.parse(day.shift_start_at), Date.parse(day.shift_end_at), `Shift ${clock(day.shift_start_at)}–${clock(day.shift_end_at)}`));
      for (const b of day.breaks) {
        const s = Date.parse(b.earliest_start_at);
        track.append(block("break", s, s + b.duration_s * 1000, `Break, ${Math.round(b.duration_s / 60)} min, from ${clock(b.earliest_start_at)}`));
      }
    }
    let previousEnd = day && day.shift_start_at ? Date.parse(day.shift_start_at) : null;
    for (const { job, place } of route) {
      if (!job.planned_start_at) continue;
      const start = Date.parse(job.planned_start_at);
      const duration = place ? place.duration_s * 1000 : 3600e3;
      const pickup = place && place.pickup_s ? place.pickup_s * 1000 : 0;
      const leave = start - pickup;
      if (previousEnd !== null && leave > previousEnd) track.append(block("travel", previousEnd, leave, `Travel ${clock(new Date(previousEnd).toISOString())}–${clock(new Date(leave).toISOString())}`));
      if (pickup) track.append(block("pickup", leave, start, `Depot pickup at ${place.pickup_name || "a depot"}`));
      const work = block("work" + (job.risks.length ? " risky" : "") + (job.pinned ? " pinned" : ""), start, start + duration, jobTitle(job));
      work.style.background = colourOf(technicianId);
      work.dataset.jobId = job.job_id;
      work.tabIndex = 0;
      work.draggable = true;
      work.textContent = job.problem_code;
      track.append(work);
      if (job.started_at) {
        const end = job.finished_at ? Date.parse(job.finished_at) : Math.max(Date.now(), Date.parse(job.started_at) + 60e3);
        track.append(block("actual", Date.parse(job.started_at), end, `Actual ${clock(job.started_at)}–${job.finished_at ? clock(job.finished_at) : "now"}`));
      }
      previousEnd = start + duration;
    }
    row.append(name, track);
    return row;
  }

  const RISKS = {
    eta_past_window: "ETA past the window",
    window_passed: "window gone by",
    ends_after_shift: "work past the shift's end",
    unassigned_window_closing: "unassigned, window closing",
    technician_silent: "technician silent",
    technician_stuck: "technician not moving",
  };
  const riskText = (risks) => risks.map((r) => RISKS[r] || r.replaceAll("_", " ")).join(", ");

  function jobTitle(job) {
    const lines = [`${job.problem_code} · ${job.address}`, `Window ${clock(job.window_start_at)}–${clock(job.window_end_at)}`, `Planned ${clock(job.planned_start_at)} · ${job.status}`];
    if (job.risks.length) lines.push("At risk: " + riskText(job.risks));
    return lines.join("\n");
  }

  function renderUnassigned() {
    const open = [...state.jobs.values()].map((x) => x.job).filter((j) => j.status === "new");
    open.sort((a, b) => (b.risks.length > 0) - (a.risks.length > 0) || a.priority - b.priority || Date.parse(a.window_end_at) - Date.parse(b.window_end_at));
    $("unassigned-count").textContent = `(${open.length})`;
    $("unassigned").replaceChildren(...open.map((job) => {
      const item = el("li", "job" + (job.risks.length ? " risky" : ""));
      item.dataset.jobId = job.job_id;
      item.draggable = true;
      item.tabIndex = 0;
      item.setAttribute("role", "button");
      item.append(el("strong", "", job.problem_code), el("span", "muted", ` ${job.address}`));
      item.append(el("div", "muted", `Window ${clock(job.window_start_at)}–${clock(job.window_end_at)} · priority ${job.priority}`));
      if (job.risks.length) item.append(el("div", "why", "At risk: " + riskText(job.risks)));
      if (state.selected === job.job_id) item.classList.add("selected");
      return item;
    }));
  }

  // The jobs at risk when the board loads (the first few with suggestions), then each alert as
  // it is raised, newest first.
  function renderAlertsFromBoard() {
    const risky = [...state.jobs.values()].map((x) => x.job).filter((j) => j.risks.length);
    $("alerts").replaceChildren(...risky.map((job, i) => alertItem(job.job_id, job.risks, null, i < 10)));
  }

  function alertItem(jobId, risks, occurredAt, suggest) {
    const entry = state.jobs.get(jobId);
    const item = el("li", "alert");
    item.tabIndex = 0;
    item.dataset.jobId = jobId;
    const what = entry ? `${entry.job.problem_code} · ${entry.job.address}` : "A job";
    item.append(el("strong", "", what), el("div", "why", riskText(risks) + (occurredAt ? ` (${clock(occurredAt)})` : "")));
    if (suggest) suggestInto(item, jobId);
    return item;
  }

  async function suggestInto(item, jobId) {
    const answer = await api("GET", `/console/board/jobs/${jobId}/suggestions`);
    const list = el("div", "suggested");
    if (!answer.ok || !answer.data.length) {
      list.textContent = "Nobody else can take it now.";
    } else {
      list.append(el("span", "muted", "Suggested: "));
      for (const c of answer.data) {
        const b = el("button", "suggestion", c.name);
        b.title = `score ${c.score.toFixed(2)} · ${c.reason}`;
        b.dataset.technicianId = c.technician_id;
        b.addEventListener("click", async (e) => {
          e.stopPropagation();
          const entry = state.jobs.get(jobId);
          if (entry && entry.job.status === "new") await assign(jobId, c.technician_id);
          else await reassign(jobId, c.technician_id);
        });
        list.append(b, el("span", "muted", ` ${c.reason} `));
      }
    }
    item.append(list);
  }

  // ---- the map ------------------------------------------------------------------------------
  // Drawn on a canvas (thousands of pins stay quick), one layer per technician so a change
  // redraws only the days it touched. The pins and routes need no tile: the map stands without.
  function renderMap(touched) {
    if (!window.L) return;
    const box = $("map");
    if (!state.map) {
      state.map = L.map(box, { preferCanvas: true, zoomControl: true, attributionControl: true });
      L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution, maxZoom: 19 }).addTo(state.map);
      state.techLayers = new Map();
      state.openLayer = L.layerGroup().addTo(state.map);
    }
    if (!touched) {
      for (const layer of state.techLayers.values()) layer.remove();
      state.techLayers.clear();
    }
    for (const id of touched || state.techs.map((t) => t.technician_id)) {
      const old = state.techLayers.get(id);
      if (old) old.remove();
      state.techLayers.set(id, technicianLayer(id).addTo(state.map));
    }
    state.openLayer.clearLayers();
    let open = 0;
    for (const { job, place } of state.jobs.values()) {
      if (job.status !== "new" || !place) continue;
      L.circleMarker([place.latitude, place.longitude], { radius: 6, color: "#555", fillColor: "#9aa0a6", fillOpacity: 1, weight: 1 })
        .bindTooltip(`${job.problem_code} · ${job.address}`).addTo(state.openLayer);
      open += 1;
    }
    let positions = 0;
    let routes = 0;
    for (const layer of state.techLayers.values()) { positions += layer.positions; routes += layer.routes; }
    state.mapShows = { unassigned: open, positions, routes };
    if (!state.mapFitted) {
      const points = [...state.jobs.values()].filter((x) => x.place).map((x) => [x.place.latitude, x.place.longitude]);
      if (points.length) { state.map.fitBounds(points, { padding: [20, 20] }); state.mapFitted = true; }
    }
  }

  function technicianLayer(technicianId) {
    const layer = L.layerGroup();
    layer.positions = 0;
    layer.routes = 0;
    const colour = colourOf(technicianId);
    const day = state.days.get(technicianId);
    const line = day ? [[day.home_latitude, day.home_longitude]] : [];
    for (const { place } of routeOf(technicianId)) {
      if (!place) continue;
      if (place.pickup_latitude !== null) line.push([place.pickup_latitude, place.pickup_longitude]);
      line.push([place.latitude, place.longitude]);
      L.circleMarker([place.latitude, place.longitude], { radius: 5, color: colour, fillOpacity: 0.9, weight: 1 }).addTo(layer);
    }
    if (line.length > 1) {
      L.polyline(line, { color: colour, weight: 3, opacity: 0.8 }).addTo(layer);
      layer.routes = 1;
    }
    if (day && day.position) {
      L.circleMarker([day.position.latitude, day.position.longitude], { radius: 8, color: "#fff", fillColor: colour, fillOpacity: 1, weight: 2 })
        .bindTooltip(`${nameOf(technicianId)} · ${clock(day.position.recorded_at)}`).addTo(layer);
      layer.positions = 1;
    }
    return layer;
  }

  // ---- live ---------------------------------------------------------------------------------
  function openStream() {
    if (state.stream) state.stream.close();
    const url = `/board/stream?territory_id=${encodeURIComponent(state.territoryId)}&after=${state.lastEventId}`;
    const stream = new EventSource(url);
    state.stream = stream;
    stream.onopen = () => { $("live").textContent = "live"; };
    stream.onerror = () => { $("live").textContent = "reconnecting…"; };
    stream.addEventListener("job_event", (message) => {
      const event = JSON.parse(message.data);
      state.lastEventId = Math.max(state.lastEventId, event.id);
      if (event.kind === "at_risk") addAlert(event);
      if (!state.pending.size) state.receivedAt = performance.now();
      state.pending.add(event.job_id);
      flush();
    });
  }

  // Events arrive in bursts (a plan applied moves many jobs): each job is read again once per
  // burst, and a burst past a few dozen jobs reloads the board instead.
  async function flush() {
    if (state.flushing) return;
    state.flushing = true;
    try {
      while (state.pending.size) {
        const ids = [...state.pending];
        state.pending.clear();
        if (ids.length > 40) { await loadBoard(); return; }
        const touched = new Set();
        await Promise.all(ids.map(async (id) => {
          const before = state.jobs.get(id);
          if (before && before.job.technician_id) touched.add(before.job.technician_id);
          const answer = await api("GET", `/console/board/jobs/${id}?territory_id=${encodeURIComponent(state.territoryId)}&date=${state.day}`);
          if (answer.status === 404) state.jobs.delete(id);
          else if (answer.ok) {
            const job = answer.data.job;
            state.jobs.set(id, { job, place: answer.data.place });
            if (job.technician_id) {
              touched.add(job.technician_id);
              const day = state.days.get(job.technician_id);
              if (day && answer.data.position) day.position = answer.data.position;
            }
          }
          state.candidates.delete(id);
        }));
        applyTouched(touched);
      }
    } finally {
      state.flushing = false;
    }
  }

  function applyTouched(touched) {
    const [start, end] = [state.spanStart, state.spanEnd];
    computeSpan();
    if (state.spanStart !== start || state.spanEnd !== end) { renderAll(); return; } // the hours grew
    for (const id of touched) {
      const old = document.querySelector(`.row[data-technician-id="${id}"]`);
      if (old) old.replaceWith(renderRow(id));
    }
    renderUnassigned();
    renderMap(touched);
    if (state.panelJob && state.jobs.has(state.panelJob)) refreshPanelHeader();
    // From the event's arrival to the board redrawn (tests/bench/bench_console.py reads it).
    if (state.receivedAt) document.body.dataset.applyMs = (performance.now() - state.receivedAt).toFixed(1);
    document.body.dataset.applied = String(Date.now());
  }

  function addAlert(event) {
    const risks = [event.data && event.data.risk].filter(Boolean);
    for (const old of document.querySelectorAll(`#alerts .alert[data-job-id="${event.job_id}"]`)) old.remove();
    $("alerts").prepend(alertItem(event.job_id, risks, event.occurred_at, true));
  }

  // ---- assigning: by dragging, or with the keyboard from the ranked candidates -------------
  function candidatesOf(jobId) {
    if (!state.candidates.has(jobId)) {
      state.candidates.set(jobId, api("GET", `/jobs/${jobId}/candidates?limit=100`).then((answer) => {
        if (!answer.ok) return { list: [], refused: (answer.data && answer.data.detail) || "No candidates." };
        return { list: answer.data.candidates, excluded: answer.data.excluded };
      }));
    }
    return state.candidates.get(jobId);
  }

  const candidateLine = (c, rank) => `#${rank} · score ${c.score.toFixed(2)} · ${c.reason}`;

  function clearGhost() {
    for (const node of document.querySelectorAll(".block.ghost, .ghost-line")) node.remove();
    for (const row of document.querySelectorAll(".row.drop-target, .row.drop-refused")) row.classList.remove("drop-target", "drop-refused");
  }

  // While a job is dragged over a row: where it would go in that day, and why (or why not).
  async function showGhost(row, jobId) {
    const technicianId = row.dataset.technicianId;
    if (state.ghostRow === technicianId) return;
    state.ghostRow = technicianId;
    clearGhost();
    row.classList.add("drop-target");
    const ranked = await candidatesOf(jobId);
    if (state.ghostRow !== technicianId || !state.drag) return;
    const track = row.querySelector(".track");
    const rank = ranked.list.findIndex((c) => c.technician_id === technicianId);
    const line = el("div", "ghost-line");
    if (rank < 0) {
      row.classList.replace("drop-target", "drop-refused");
      line.textContent = ranked.refused || "Not a candidate for this job (skills, shift, window or reach).";
    } else {
      const c = ranked.list[rank];
      const entry = state.jobs.get(jobId);
      const start = Date.parse(c.planned_start_at);
      const duration = entry && entry.place ? entry.place.duration_s * 1000 : 3600e3;
      const ghost = block("ghost", start, start + duration, `Would start ${clock(c.planned_start_at)}`);
      ghost.textContent = clock(c.planned_start_at);
      track.append(ghost);
      line.textContent = candidateLine(c, rank + 1);
    }
    track.append(line);
  }

  function startDrag(event) {
    const source = event.target.closest("[data-job-id]");
    if (!source || !source.draggable) return;
    const jobId = source.dataset.jobId;
    const entry = state.jobs.get(jobId);
    state.drag = { jobId, from: entry && entry.job.status !== "new" ? entry.job.technician_id : null };
    state.ghostRow = null;
    event.dataTransfer.setData("text/plain", jobId);
    event.dataTransfer.effectAllowed = "move";
    candidatesOf(jobId);
  }

  function overRow(event) {
    const row = event.target.closest(".row");
    if (!row || !state.drag) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    showGhost(row, state.drag.jobId);
  }

  function leaveRow(event) {
    const row = event.target.closest(".row");
    if (row && !row.contains(event.relatedTarget)) {
      state.ghostRow = null;
      clearGhost();
    }
  }

  async function dropOnRow(event) {
    const row = event.target.closest(".row");
    if (!row || !state.drag) return;
    event.preventDefault();
    const { jobId, from } = state.drag;
    endDrag();
    const to = row.dataset.technicianId;
    if (from === to) return;
    if (from) await reassign(jobId, to);
    else await assign(jobId, to);
  }

  function endDrag() {
    state.drag = null;
    state.ghostRow = null;
    clearGhost();
  }

  const nameOf = (technicianId) => (state.techs.find((t) => t.technician_id === technicianId) || { name: "?" }).name;
  const ifMatch = (jobId) => ({ "If-Match": `"${state.jobs.get(jobId).job.version}"` });

  async function assign(jobId, technicianId) {
    if (!state.jobs.has(jobId)) return;
    const answer = await api("POST", `/jobs/${jobId}/assignment`, { technician_id: technicianId }, ifMatch(jobId));
    await settle(jobId, answer, `Assigned to ${nameOf(technicianId)}.`);
  }

  async function reassign(jobId, technicianId) {
    const reason = await askReason(`Why move this job to ${nameOf(technicianId)}?`, "Move");
    if (reason === null) return;
    const answer = await api("POST", `/jobs/${jobId}/reassign`, { technician_id: technicianId, reason }, ifMatch(jobId));
    await settle(jobId, answer, `Moved to ${nameOf(technicianId)}.`);
  }

  // Every change names the version the dispatcher saw (If-Match): one that changed meanwhile is
  // refused whole, and the dispatcher is told who changed it; the board then shows it as it is.
  async function settle(jobId, answer, done) {
    if (answer.ok) {
      say(done);
    } else if (answer.status === 412) {
      await showConflict(jobId);
    } else {
      say((answer.data && answer.data.detail) || `Refused (${answer.status}).`, "error");
    }
    state.candidates.delete(jobId);
    state.pending.add(jobId);
    await flush();
  }

  async function showConflict(jobId) {
    const events = await api("GET", `/jobs/${jobId}/events?limit=200`);
    const list = (events.data && (events.data.items || events.data)) || [];
    const last = Array.isArray(list) && list.length ? list[list.length - 1] : null;
    const who = last ? `${last.actor} changed it at ${clock(last.occurred_at)} (${last.kind.replaceAll("_", " ")})` : "Someone changed it";
    say(`Not changed: this job changed since you loaded it. ${who}; the board now shows it as it is.`, "error");
    $("message").dataset.conflict = jobId;
  }

  function askReason(prompt, verb) {
    return new Promise((resolve) => {
      const dialog = $("reason-dialog");
      $("reason-prompt").textContent = prompt;
      $("reason").value = "";
      dialog.querySelector("button[value=ok]").textContent = verb;
      dialog.onclose = () => resolve(dialog.returnValue === "ok" ? $("reason").value.trim() : null);
      dialog.showModal();
    });
  }

  // The keyboard path: Enter on a job opens its panel, whose ranked candidates are buttons.
  function selectJob(jobId) {
    state.selected = jobId;
    for (const item of document.querySelectorAll("#unassigned .job")) item.classList.toggle("selected", item.dataset.jobId === jobId);
    openPanel(jobId);
  }

  async function openPanel(jobId) {
    state.panelJob = jobId;
    const panel = $("job-panel");
    panel.hidden = false;
    panel.replaceChildren();
    const close = el("button", "close", "Close");
    close.addEventListener("click", closePanel);
    const header = el("div", "panel-header");
    panel.append(close, header, el("div", "panel-body"));
    refreshPanelHeader();
    await fillPanel(jobId, panel.querySelector(".panel-body"));
    // Keyboard users land on the first choice (the best candidate), or on Close.
    (panel.querySelector(".candidates li") || close).focus();
  }

  function closePanel() {
    $("job-panel").hidden = true;
    const jobId = state.panelJob;
    state.panelJob = null;
    const back = jobId && document.querySelector(`[data-job-id="${jobId}"]`);
    if (back) back.focus();
  }

  function refreshPanelHeader() {
    const entry = state.jobs.get(state.panelJob);
    const header = document.querySelector("#job-panel .panel-header");
    if (!entry || !header) return;
    const job = entry.job;
    const who = job.technician_id ? nameOf(job.technician_id) : "unassigned";
    header.replaceChildren(
      el("h2", "", `${job.problem_code} · ${job.address}`),
      el("div", "muted", `${job.status} · ${who} · window ${clock(job.window_start_at)}–${clock(job.window_end_at)} · planned ${clock(job.planned_start_at)} · priority ${job.priority}${job.pinned ? " · pinned" : ""}`),
    );
    if (job.risks.length) header.append(el("div", "why", "At risk: " + riskText(job.risks)));
  }

  const dayOf = (iso) => (iso ? formatter("day", { day: "numeric", month: "short", year: "numeric" }).format(new Date(iso)) : "");

  // The job's panel: how to act on it first, then what the technician will find there.
  async function fillPanel(jobId, body) {
    const entry = state.jobs.get(jobId);
    const [job, events] = await Promise.all([api("GET", `/jobs/${jobId}`), api("GET", `/jobs/${jobId}/events?limit=200`)]);
    if (!job.ok) { body.append(el("p", "why", (job.data && job.data.detail) || "Could not read the job.")); return; }
    const j = job.data;
    body.append(actions(jobId, j));
    if (entry && entry.job.status === "new") body.append(await candidateList(jobId));
    if (j.problem_description) body.append(el("p", "", j.problem_description));
    if (j.asset_id) body.append(await assetSection(j.asset_id));
    body.append(partsSection(j.parts));
    body.append(eventsSection((events.data && events.data.items) || []));
  }

  function section(title, cls) {
    const node = el("section", cls);
    node.append(el("h3", "", title));
    return node;
  }

  async function assetSection(assetId) {
    const node = section("Asset and its history", "asset");
    const [asset, history] = await Promise.all([api("GET", `/assets/${assetId}`), api("GET", `/assets/${assetId}/history?limit=10`)]);
    if (asset.ok) {
      const a = asset.data;
      const facts = Object.entries(a.attributes || {}).map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(", ");
      node.append(el("div", "", `${a.make} ${a.model} (${a.kind.replaceAll("_", " ")})${a.installed_at ? ", installed " + dayOf(a.installed_at) : ""}${a.warranty_until ? ", warranty until " + a.warranty_until : ""}`));
      if (facts) node.append(el("div", "muted", facts));
    }
    const list = el("ol", "history");
    for (const e of (history.data && history.data.items) || []) {
      const parts = e.parts.map((p) => `${p.quantity} × ${p.sku}`).join(", ");
      list.append(el("li", "", `${dayOf(e.occurred_at)} · ${e.kind} · ${e.summary}${parts ? " · " + parts : ""}`));
    }
    if (!list.children.length) list.append(el("li", "muted", "No service on record."));
    node.append(list);
    return node;
  }

  // A titled list: one item per entry, or a line saying there is none.
  function listSection(title, cls, listCls, entries, render, none) {
    const node = section(title, cls);
    const list = el("ol", listCls);
    for (const entry of entries) list.append(render(entry));
    if (!entries.length) list.append(el("li", "muted", none));
    node.append(list);
    return node;
  }

  function partsSection(parts) {
    return listSection("Predicted parts", "parts", "parts-list", parts, (p) => {
      const item = el("li", "");
      item.append(el("strong", "", `${p.quantity} × ${p.name}`), el("span", "muted", ` ${p.sku} · ${Math.round(p.probability * 100)}%${p.carry ? " · on the van" : ""}`));
      for (const reason of p.reasons) item.append(el("div", "muted", reason));
      return item;
    }, "No part predicted.");
  }

  function eventsSection(events) {
    return listSection("What happened", "events", "timeline-events", events, (e) => {
      const what = e.to_status ? `${e.from_status || "–"} → ${e.to_status}` : e.kind.replaceAll("_", " ");
      return el("li", "", `${dayOf(e.occurred_at)} ${clock(e.occurred_at)} · ${what} · ${e.actor}${e.reason ? " · “" + e.reason + "”" : ""}`);
    }, "Nothing yet.");
  }

  // Every action names the version the board shows (If-Match) and asks for its reason.
  function actions(jobId, j) {
    const node = el("div", "actions");
    const button = (label, cls, act) => {
      const b = el("button", cls, label);
      b.addEventListener("click", act);
      node.append(b);
    };
    const overrideable = ["scheduled", "dispatched"].includes(j.status);
    const act = async (path, body, done) => {
      const answer = await api("POST", `/jobs/${jobId}/${path}`, body, ifMatch(jobId));
      await settle(jobId, answer, done);
      if (state.panelJob === jobId) openPanel(jobId);
    };
    // A button whose action asks for its reason first; `body` is read when it is pressed.
    const withReason = (label, cls, prompt, path, body, done) => button(label, cls, async () => {
      const reason = await askReason(typeof prompt === "function" ? prompt() : prompt, label);
      if (reason !== null) await act(path, Object.assign(body(), { reason }), typeof done === "function" ? done() : done);
    });
    const nothing = () => ({});
    if (overrideable) {
      const pick = el("select", "reassign-to");
      pick.setAttribute("aria-label", "Reassign to");
      for (const t of state.techs) if (t.technician_id !== j.technician_id) pick.append(new Option(t.name, t.technician_id));
      node.append(pick);
      withReason("Reassign", "reassign", () => `Why move this job to ${nameOf(pick.value)}?`, "reassign",
        () => ({ technician_id: pick.value }), () => `Moved to ${nameOf(pick.value)}.`);
      withReason("Unassign", "unassign", "Why take this job off the technician's day?", "unassign", nothing, "Unassigned.");
    }
    if (j.pinned) withReason("Unpin", "unpin", "Why let the optimizer move this job again?", "unpin", nothing, "Unpinned.");
    else if (j.technician_id) withReason("Pin", "pin", "Why keep this job with this technician?", "pin", nothing, "Pinned.");
    if (["new", "scheduled", "dispatched"].includes(j.status)) {
      const from = el("input", "window-from");
      const to = el("input", "window-to");
      for (const [input, iso, label] of [[from, j.window_start_at, "Window from"], [to, j.window_end_at, "Window to"]]) {
        input.type = "time";
        input.value = clock(iso);
        input.setAttribute("aria-label", label);
      }
      node.append(from, to);
      withReason("Change window", "window", () => `Why move the window to ${from.value}–${to.value}?`, "window",
        () => ({ window_start_at: zonedTime(from.value), window_end_at: zonedTime(to.value) }), "Window changed.");
      withReason("Cancel job", "cancel", "Why cancel this job? The customer is told.", "cancel", nothing, "Cancelled.");
    }
    return node;
  }

  // "14:30" on the board's day, in the territory's zone, as an instant.
  function zonedTime(hhmm) {
    const [h, m] = hhmm.split(":").map(Number);
    return new Date(zonedMidnight() + (h * 60 + m) * 60e3).toISOString();
  }

  async function candidateList(jobId) {
    const section = el("section", "candidates-section");
    section.append(el("h3", "", "Assign to (best first)"));
    const ranked = await candidatesOf(jobId);
    if (!ranked.list.length) { section.append(el("p", "why", ranked.refused || "Nobody can take this job.")); return section; }
    const list = el("ol", "candidates");
    ranked.list.forEach((c, i) => {
      const item = el("li", "");
      item.tabIndex = 0;
      item.setAttribute("role", "button");
      item.dataset.technicianId = c.technician_id;
      item.append(el("strong", "", c.name), el("div", "muted", candidateLine(c, i + 1)),
        el("div", "muted", `arrives ${clock(c.arrival_window_start_at)}–${clock(c.arrival_window_end_at)} · +${c.added_travel_min.toFixed(0)} min travel`));
      const choose = async () => { closePanel(); await assign(jobId, c.technician_id); };
      item.addEventListener("click", choose);
      item.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
      list.append(item);
    });
    section.append(list);
    return section;
  }

  // ---- planning the day: run the optimizer, preview what would change, apply or discard ------
  function planPanel(...children) {
    const panel = $("plan-panel");
    const close = el("button", "close", "Close");
    close.addEventListener("click", () => { panel.hidden = true; });
    panel.replaceChildren(close, el("h2", "", `Plan of ${state.day}`), ...children);
    panel.hidden = false;
    return panel;
  }

  async function planDay() {
    const seconds = state.planSeconds;
    const bar = el("div", "progress");
    bar.append(el("div", ""));
    const status = el("p", "plan-status", `The optimizer is planning the day (up to ${seconds} s)…`);
    planPanel(status, bar);
    const started = await api("POST", "/plans", { territory_id: state.territoryId, date: state.day, time_limit_s: seconds },
      { "Idempotency-Key": crypto.randomUUID() });
    if (!started.ok) { planPanel(el("p", "why", (started.data && started.data.detail) || "Could not start planning.")); return; }
    const since = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 400));
      const plan = await api("GET", `/plans/${started.data.id}`);
      if (!plan.ok) { planPanel(el("p", "why", (plan.data && plan.data.detail) || "Lost the plan.")); return; }
      if (plan.data.status === "solving") {
        status.textContent = `The optimizer is planning the day… ${Math.round((Date.now() - since) / 1000)} s of up to ${seconds} s`;
        continue;
      }
      if (plan.data.status === "failed") { planPanel(el("p", "why", `The optimizer failed: ${plan.data.error}`)); return; }
      showPlan(plan.data);
      return;
    }
  }

  const jobName = (id) => {
    const entry = state.jobs.get(id);
    return entry ? `${entry.job.problem_code} · ${entry.job.address}` : `job ${id.slice(0, 8)}`;
  };

  function showPlan(plan) {
    const r = plan.result;
    const before = r.current_kpis;
    const after = r.kpis;
    const onTime = (k) => (k.jobs_planned ? `${Math.round((100 * k.promises_kept) / k.jobs_planned)}% (${k.promises_kept}/${k.jobs_planned})` : "–");
    const table = el("table", "diff kpis");
    const head = el("tr", "");
    head.append(el("th", "", ""), el("th", "", "now"), el("th", "", "with this plan"));
    table.append(head);
    for (const [label, f] of [
      ["Driving", (k) => `${k.distance_km} km · ${Math.round(k.travel_s / 60)} min`],
      ["Jobs planned", (k) => String(k.jobs_planned)],
      ["On time", onTime],
      ["Unplanned", (k) => String(k.jobs_unplanned)],
      ["Overtime", (k) => `${Math.round(k.overtime_s / 60)} min`],
    ]) {
      const row = el("tr", "");
      row.append(el("th", "", label), el("td", "before", f(before)), el("td", "after", f(after)));
      table.append(row);
    }
    const moved = listSection(`Jobs moved (${r.changes.length})`, "moved", "plan-moves", r.changes, (c) =>
      el("li", "", `${jobName(c.job_id)}: ${c.from ? nameOf(c.from) : "unassigned"} → ${c.to ? nameOf(c.to) : "unassigned"}`), "No job moves.");
    const unplanned = listSection(`Left unplanned (${r.unplanned.length})`, "unplanned-why", "plan-unplanned", r.unplanned, (u) =>
      el("li", "", `${jobName(u.job_id)}: ${u.reason}`), "Every job has a place.");
    const apply = el("button", "primary apply", "Apply");
    const discard = el("button", "discard", "Discard");
    const buttons = el("div", "actions");
    buttons.append(apply, discard);
    const outcome = el("div", "plan-outcome");
    const panel = planPanel(table, moved, unplanned, buttons, outcome);
    panel.classList.add("plan-preview");
    if (r.violations.length) panel.insertBefore(el("p", "why", "This plan breaks rules and cannot be applied: " + r.violations.join("; ")), table);
    discard.addEventListener("click", () => { panel.hidden = true; say("Plan discarded; the day is as it was."); });
    apply.addEventListener("click", async () => {
      apply.disabled = true;
      const answer = await api("POST", `/plans/${plan.id}/apply`, undefined, { "Idempotency-Key": crypto.randomUUID() });
      if (answer.ok) {
        panel.hidden = true;
        say(`Plan applied: ${answer.data.jobs_changed.length} job(s) changed.`);
        return;
      }
      const changed = (answer.data && answer.data.candidates) || [];
      outcome.replaceChildren(listSection("Not applied: these jobs changed since the plan read them. Plan again.", "refused", "plan-refused",
        changed, (c) => el("li", "why", jobName(c.job_id)), (answer.data && answer.data.detail) || "Refused."));
    });
  }

  // ---- wiring -------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", async () => {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("plan-day").addEventListener("click", planDay);
    $("territory").addEventListener("change", (e) => { state.mapFitted = false; chooseTerritory(e.target.value, null); });
    $("date").addEventListener("change", (e) => { if (e.target.value) { state.day = e.target.value; loadBoard(); } });
    const board = $("console");
    board.addEventListener("dragstart", startDrag);
    board.addEventListener("dragend", endDrag);
    $("rows").addEventListener("dragover", overRow);
    $("rows").addEventListener("dragleave", leaveRow);
    $("rows").addEventListener("drop", dropOnRow);
    const pick = (e) => {
      if (e.target.closest("button")) return;
      const item = e.target.closest("#unassigned .job, #alerts .alert, .block.work");
      if (item) selectJob(item.dataset.jobId);
    };
    board.addEventListener("click", pick);
    board.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("job-panel").hidden) closePanel();
      else if ((e.key === "Enter" || e.key === " ") && e.target.matches("#unassigned .job, #alerts .alert, .block.work")) { e.preventDefault(); pick(e); }
    });
    const session = await api("GET", "/console/session");
    if (session.ok) await start(session.data);
    else showSignIn(session.status === 403 ? (session.data && session.data.detail) : "");
  });

  window.truckrollConsole = state; // for the browser tests and the benchmark
})();
