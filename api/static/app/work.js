// Working a job, and the queue every report goes through: each is kept in IndexedDB with its
// Idempotency-Key and the phone's time before anything is sent, then sent in order whenever
// there is a network. A retry after a lost answer repeats the same key, so the server applies it
// once; a report the server refuses stays on the phone with its reason.
(function () {
  "use strict";
  const TR = self.TR;
  const $ = (id) => document.getElementById(id);
  const el = (...a) => TR.el(...a);

  // kind: status (sent through POST /technicians/me/events), parts, note, late, sick.
  TR.enqueue = async function (kind, jobId, body, label) {
    const entry = { key: TR.uuid(), kind, job_id: jobId, body, label, state: "pending", error: null, batch: null, at: new Date().toISOString() };
    await TR.store.update("queue", (queue) => (queue || []).concat([entry]));
    await TR.render();
    TR.flush();
    return entry;
  };

  let flushing = null;
  let again = false;
  // One flush at a time; a call meanwhile runs another pass after it, for what it queued.
  TR.flush = function () {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      do {
        again = false;
        await sendAll();
      } while (again);
    })().finally(() => { flushing = null; });
    return flushing;
  };

  async function sendAll() {
    let sent = false;
    try {
      // Positions first: the set-off's fix is the one the customer's ETA is computed from.
      if (TR.positions) await TR.positions.flush();
      for (;;) {
        const queue = (await TR.store.get("queue")) || [];
        const head = queue.find((e) => e.state === "pending");
        if (!head) break;
        if (head.kind === "status") await sendStatuses(queue, head);
        else await sendOne(head);
        sent = true;
      }
    } catch (error) {
      if (error instanceof TR.SignedOut) return;
      if (!(error instanceof TR.Offline)) TR.notice(String(error));
      // Offline: tried again when the network returns.
    }
    if (sent) await TR.refreshDay().catch(() => {});
  }

  async function settle(keys, outcome) {
    await TR.store.update("queue", (queue) => (queue || []).flatMap((e) => {
      if (!keys.includes(e.key)) return [e];
      const result = outcome(e);
      return result === null ? [] : [Object.assign({}, e, result)];
    }));
  }

  // A run of consecutive status reports goes in one request. The run is written down before it
  // is sent, so a retry sends the very same body under the same key, however many reports
  // were queued since.
  async function sendStatuses(queue, head) {
    let batch = queue.filter((e) => e.batch && e.batch === head.batch);
    if (!head.batch) {
      const run = [];
      for (const e of queue.slice(queue.indexOf(head))) {
        if (e.state !== "pending" || e.kind !== "status" || run.length === 200) break;
        run.push(e);
      }
      const batchKey = TR.uuid();
      const keys = run.map((e) => e.key);
      await settle(keys, () => ({ batch: batchKey }));
      batch = run.map((e) => Object.assign({}, e, { batch: batchKey }));
    }
    const events = batch.map((e) => Object.assign({ job_id: e.job_id, client_at: e.at }, e.body));
    const response = await TR.api("POST", "/technicians/me/events", { events }, { "Idempotency-Key": batch[0].batch });
    const keys = batch.map((e) => e.key);
    if (response.ok) {
      const results = (await response.json()).results;
      await settle(keys, (e) => {
        const result = results.find((r) => r.job_id === e.job_id && r.status === e.body.status && Date.parse(r.client_at) === Date.parse(e.at));
        if (result && result.error) return { state: "refused", error: result.error };
        return null;
      });
    } else if (response.status >= 500 || response.status === 429) {
      throw new TR.Offline("the server is busy");
    } else {
      const why = await TR.why(response);
      await settle(keys, () => ({ state: "refused", error: why }));
    }
  }

  const PATHS = {
    parts: (e) => "/jobs/" + e.job_id + "/parts-used",
    note: (e) => "/jobs/" + e.job_id + "/notes",
    late: () => "/technicians/me/running-late",
    sick: () => "/technicians/me/sick",
  };

  async function sendOne(entry) {
    const body = Object.assign({}, entry.body);
    if (entry.kind === "parts" || entry.kind === "note") body.client_at = entry.at;
    const response = await TR.api("POST", PATHS[entry.kind](entry), body, { "Idempotency-Key": entry.key });
    if (response.ok) return settle([entry.key], () => null);
    if (response.status >= 500 || response.status === 429) throw new TR.Offline("the server is busy");
    const why = await TR.why(response);
    return settle([entry.key], () => ({ state: "refused", error: why }));
  }

  TR.renderQueue = function (queue) {
    const list = $("queue-list");
    list.replaceChildren();
    const shown = queue.filter((e) => e.state === "pending" || e.state === "refused");
    $("queue-empty").hidden = shown.length > 0;
    for (const e of shown) {
      const when = new Date(e.at).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      const item = el("li", when + " " + e.label + " ");
      item.className = "queued " + e.state;
      item.append(el("span", e.state, "badge " + e.state));
      if (e.state === "refused") {
        item.append(el("span", "Refused: " + e.error, "why"));
        const dismiss = el("button", "Dismiss");
        dismiss.type = "button";
        dismiss.addEventListener("click", async () => {
          await settle([e.key], () => null);
          await TR.render();
        });
        item.append(dismiss);
      }
      list.append(item);
    }
  };

  function button(text, onClick, className) {
    const b = el("button", text, className);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  async function status(stop, next, extra, label) {
    if (next === "en_route" && TR.positions) await TR.positions.fixNow();
    await TR.enqueue("status", stop.job_id, Object.assign({ status: next }, extra || {}), label + " — " + stop.address);
  }

  // Re-drawn after every report and every refresh of the day: what the technician is typing (an
  // incomplete's reason) stays while the job's status does; only the van's counts are redrawn.
  TR.renderWork = function (stop) {
    const work = $("work");
    const shape = stop.job_id + " " + stop.status;
    $("note-form").hidden = ["completed", "incomplete", "cancelled"].includes(stop.status);
    if (work.dataset.shape === shape) {
      if ($("van")) $("van").replaceChildren(...vanRows(stop));
      return;
    }
    work.dataset.shape = shape;
    work.replaceChildren();
    if (stop.status === "scheduled" || stop.status === "dispatched") {
      // One job in hand at a time: the customer is told the technician is coming.
      const inHand = TR.day.stops.some((s) => s.status === "en_route" || s.status === "on_site");
      const go = button("Set off", () => status(stop, "en_route", null, "Set off"), "primary");
      go.id = "set-off";
      go.disabled = inHand;
      work.append(go);
    } else if (stop.status === "en_route") {
      const arrive = button("Arrived", () => status(stop, "on_site", null, "Arrived"), "primary");
      arrive.id = "arrive";
      work.append(arrive);
    } else if (stop.status === "on_site") {
      work.append(el("h2", "Parts from the van"));
      const van = el("div");
      van.id = "van";
      van.append(...vanRows(stop));
      work.append(van);
      const done = button("Complete", () => status(stop, "completed", null, "Completed"), "primary");
      done.id = "complete";
      work.append(done, incompleteForm(stop));
    }
  };

  function vanRows(stop) {
    if (!TR.van.length) return [el("p", "Nothing on the van.", "muted")];
    return TR.van.map((level) => {
      const row = el("div", null, "van-part");
      row.dataset.part = level.part_id;
      row.append(el("span", level.name + " (" + level.sku + ")"), el("span", level.quantity + " on van", "van-count"));
      const label = "Used 1 × " + level.sku + " — " + stop.address;
      const use = button("Use 1", () => TR.enqueue("parts", stop.job_id, { parts: [{ part_id: level.part_id, quantity: 1 }] }, label));
      use.className = "use-part";
      use.disabled = level.quantity < 1;
      row.append(use);
      return row;
    });
  }

  function incompleteForm(stop) {
    const form = el("form");
    form.id = "incomplete-form";
    const reason = el("textarea");
    reason.id = "incomplete-reason";
    reason.required = true;
    reason.maxLength = 2000;
    const label = el("label", "Not finished? Why ");
    label.append(reason);
    form.append(label);
    const missing = el("fieldset");
    missing.append(el("legend", "Parts missing"));
    for (const p of stop.parts) {
      const box = el("input");
      box.type = "checkbox";
      box.value = p.part_id;
      box.dataset.quantity = String(p.quantity);
      const row = el("label", " " + p.quantity + " × " + p.name);
      row.prepend(box);
      missing.append(row);
    }
    form.append(missing);
    const submit = el("button", "Not finished: book the follow-up", "danger");
    submit.type = "submit";
    submit.id = "incomplete";
    form.append(submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const parts = Array.from(form.querySelectorAll("input[type=checkbox]:checked"), (b) => ({ part_id: b.value, quantity: Number(b.dataset.quantity) }));
      status(stop, "incomplete", { reason: reason.value.trim(), missing_parts: parts }, "Not finished");
    });
    return form;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const jobId = location.hash.slice(5);
      const text = $("note-text").value.trim();
      if (!text) return;
      $("note-text").value = "";
      await TR.enqueue("note", jobId, { text }, "Note: " + text.slice(0, 40));
    });
    $("late-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const minutes = Number($("late-minutes").value);
      await TR.enqueue("late", null, { minutes }, "Running " + minutes + " min late");
    });
    $("sick").addEventListener("click", () => { $("sick-form").hidden = false; });
    $("sick-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("sick-form").hidden = true;
      await TR.enqueue("sick", null, { reason: $("sick-reason").value.trim() }, "Called in sick");
    });
    window.addEventListener("online", () => TR.flush());
    // The online event is not always told (a captive portal, a flaky tower): try now and then.
    setInterval(() => { if (navigator.onLine) TR.flush(); }, 15000);
  });
})();
