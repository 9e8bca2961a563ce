// The phone's position while on shift: the latest fix is taken every N seconds (the server's
// setting, 15-30 s) into a backlog in IndexedDB, and the backlog is sent in batches the API takes
// (at most 1,000 pings) whenever there is a network, so a dead zone loses nothing.
(function () {
  "use strict";
  const TR = self.TR;
  const BATCH = 1000;
  const KEEP = 20000; // about four days at 20 s: older pings go first when a phone is cut off longer
  let watch = null;
  let timer = null;
  let latest = null;
  let taken = null;

  function ping(position) {
    const c = position.coords;
    const p = { recorded_at: new Date(position.timestamp).toISOString(), latitude: c.latitude, longitude: c.longitude };
    if (c.accuracy !== null && c.accuracy >= 0 && c.accuracy <= 100000) p.accuracy_m = c.accuracy;
    if (c.speed !== null && c.speed >= 0 && c.speed <= 150) p.speed_mps = c.speed;
    if (c.heading !== null && c.heading >= 0 && c.heading < 360) p.heading_deg = c.heading;
    return p;
  }

  async function keep(position) {
    if (taken === position.timestamp) return;
    taken = position.timestamp;
    const fix = ping(position);
    await TR.store.update("pings", (pings) => (pings || []).concat([fix]).slice(-KEEP));
  }

  // On shift: between the shift's start and end, or with a job in hand whatever the hour.
  function onShift() {
    const day = TR.day;
    if (!day) return false;
    if (day.stops.some((s) => s.status === "en_route" || s.status === "on_site")) return true;
    const now = Date.now();
    return Boolean(day.shift_starts_at) && Date.parse(day.shift_starts_at) <= now && now <= Date.parse(day.shift_ends_at);
  }

  async function tick() {
    if (latest && onShift()) await keep(latest);
    if (navigator.onLine) await flush().catch(() => {});
  }

  async function flush() {
    for (;;) {
      const pings = (await TR.store.get("pings")) || [];
      if (!pings.length) return;
      const batch = pings.slice(0, BATCH);
      const response = await TR.api("POST", "/technicians/me/positions", { pings: batch });
      if (response.status >= 500 || response.status === 429) throw new TR.Offline("the server is busy");
      // Taken (repeats and pings it judged impossible included, each named in its answer), or
      // refused as a whole (a 400 would be refused again): either way not sent twice.
      const sent = new Set(batch.map((p) => p.recorded_at + p.latitude + p.longitude));
      await TR.store.update("pings", (all) => (all || []).filter((p) => !sent.has(p.recorded_at + p.latitude + p.longitude)));
    }
  }

  // The fix a set-off is reported from: a fresh one if the phone gives it within a few seconds.
  async function fixNow() {
    const fresh = await new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(resolve, () => resolve(null), { enableHighAccuracy: true, timeout: 5000, maximumAge: 10000 });
    });
    const position = fresh || latest;
    if (position) await keep(position);
  }

  function start() {
    if (watch !== null || !navigator.geolocation) return;
    watch = navigator.geolocation.watchPosition((p) => { latest = p; }, () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
    const every = Number(document.body.dataset.pingIntervalS) || 20;
    timer = setInterval(tick, every * 1000);
  }

  function stop() {
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    if (timer !== null) clearInterval(timer);
    watch = timer = null;
  }

  TR.positions = { start, stop, flush, fixNow };
})();
