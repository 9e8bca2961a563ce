// Shows each push message from the dispatch service as a notification.
// A new version takes over at once: a customer follows one visit, not a long-lived app.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("push", (event) => {
  let message = { title: "Your visit", body: "Your visit has an update." };
  try { message = event.data.json(); } catch (error) { if (event.data) message.body = event.data.text(); }
  event.waitUntil(self.registration.showNotification(message.title, { body: message.body, tag: message.kind || "visit" }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((all) => all.length ? all[0].focus() : null));
});
