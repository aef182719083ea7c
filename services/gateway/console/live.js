// Follows the open customer's timeline as it is written, resuming after the last event seen when the stream drops.
import { ApiError, authorization, checkSession } from "./api.js";
import { $ } from "./dom.js";
import { readEvents } from "./sse.js";
import { state } from "./state.js";

let stream = null; // aborts the stream being followed

function setLive(mode, text) {
  $("live").dataset.state = mode;
  $("live-text").textContent = text;
}

export function stopStream() {
  if (stream) stream.abort();
  stream = null;
  setLive("off", "Offline");
}

export async function watch(afterPosition, onEntry) {
  const controller = new AbortController();
  stream = controller;
  let lastId = afterPosition;
  let delay = 1000;
  for (let attempt = 0; !controller.signal.aborted; attempt += 1) {
    if (attempt === 0) setLive("connecting", "Connecting…");
    try {
      await readStream(lastId, attempt > 0, controller.signal, onEntry, (id) => {
        lastId = id;
        delay = 1000;
      });
      setLive("retrying", "Reconnecting…");
    } catch (error) {
      if (controller.signal.aborted) return;
      const unavailable = error.status >= 400 && error.status < 500;
      setLive("retrying", unavailable ? "Live updates unavailable" : "Reconnecting…");
      $("live").title = error.message;
      if (unavailable) delay = Math.max(delay, 30000);
    }
    await sleep(delay, controller.signal);
    delay = Math.min(delay * 2, 30000);
  }
}

async function readStream(lastId, resuming, signal, onEntry, onId) {
  const params = new URLSearchParams({ afterPosition: lastId });
  const headers = { ...authorization(), Accept: "text/event-stream" };
  if (resuming) headers["Last-Event-ID"] = lastId;
  const response = await fetch(`/v1/${state.customer}/timeline:watch?${params}`, { signal, headers });
  checkSession(response);
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  setLive("live", "Live");
  $("live").title = "New entries appear as they are recorded";
  await readEvents(response.body, (event) => {
    if (event.id) onId(event.id);
    if (event.type === "entry") onEntry(JSON.parse(event.data).entry);
    if (event.type === "error") $("live").title = JSON.parse(event.data).message || "";
  });
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}
