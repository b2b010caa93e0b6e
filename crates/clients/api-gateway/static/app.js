// mcp-fleet web UI: the little script the pages need (no framework, nothing loaded from elsewhere).
//
// 1. A request's page follows `/api/v1/requests/{id}/events` (the same stream
//    `mcp-fleet request watch` reads): on each `state` event it fetches the
//    server-rendered fragment of the page and swaps it in; on `done` it does
//    that once more and closes the stream. The events carry JSON for scripts;
//    the HTML is rendered by the server from the same data, so the page has
//    one template, not a second one in JavaScript.
// 2. Forms with `data-confirm` ask before they submit (destructive actions).
"use strict";

function follow(section) {
  const events = section.dataset.events;
  const fragment = section.dataset.fragment;
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (r.ok) {
        section.innerHTML = await r.text();
        section.dataset.updated = String(Date.now());
      }
    } catch (_) {
      // The next event tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const source = new EventSource(events, { withCredentials: true });
  source.addEventListener("state", refresh);
  source.addEventListener("done", () => {
    source.close();
    section.dataset.done = "1";
    refresh();
  });
  source.addEventListener("problem", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-events][data-fragment]").forEach(follow);
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  });
});
