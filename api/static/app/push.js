// Job news by Web Push: a new job, a change to the day, a pinned job. The notification opens the
// app on that job (the service worker's notificationclick).
(function () {
  "use strict";
  const TR = self.TR;
  const $ = (id) => document.getElementById(id);

  function key(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  async function subscribe() {
    const answer = await TR.api("GET", "/push/public-key");
    if (!answer.ok) return false; // this server sends no pushes
    const registration = await navigator.serviceWorker.ready;
    const subscription = (await registration.pushManager.getSubscription()) ||
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key((await answer.json()).public_key) }));
    const stored = await TR.store.get("push");
    if (stored && stored.endpoint === subscription.endpoint) return true;
    const made = await TR.api("POST", "/push/subscriptions", subscription.toJSON());
    if (!made.ok) throw new Error(await TR.why(made));
    await TR.store.set("push", { endpoint: subscription.endpoint, id: (await made.json()).id });
    return true;
  }

  async function start() {
    if (!("serviceWorker" in navigator) || !("PushManager" in self) || !("Notification" in self)) return;
    if (Notification.permission === "granted") {
      $("notify").hidden = true;
      // A browser without a push service (some builds have none) still works the day: it only
      // misses the news, which the day's refresh brings anyway.
      await subscribe().catch(() => { $("notify").hidden = true; });
    } else {
      $("notify").hidden = Notification.permission === "denied";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("notify").addEventListener("click", async () => {
      if ((await Notification.requestPermission()) === "granted") await start();
    });
  });

  TR.push = { start };
})();
