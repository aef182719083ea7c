// The open customer's timeline, newest first: a page at a time as the agent scrolls, live entries slotted in by time.
import { api } from "./api.js";
import { $, announce, setStatus } from "./dom.js";
import { entryItem, entryTime, RELOADING_CHANGES } from "./entry.js";
import { stopStream, watch } from "./live.js";
import { state } from "./state.js";

const PAGE_SIZE = 30;
let nextPageToken = "";
let loadingMore = false;
const seen = new Set(); // the same entry can come from a page, the stream and a note's own read

// Reopening the customer needs a module that loads this one, so the entry point plugs it in here.
let customerMoved = () => {};

export function onCustomerMoved(handler) {
  customerMoved = handler;
}

let profileChanged = () => {};

export function onProfileChanged(handler) {
  profileChanged = handler;
}

const sentinelObserver = new IntersectionObserver(
  (observed) => {
    if (observed.some((entry) => entry.isIntersecting)) loadMore();
  },
  { rootMargin: "600px 0px" },
);

export function timelinePath(extra = {}) {
  const params = new URLSearchParams({ pageSize: String(PAGE_SIZE), ...extra });
  for (const channel of state.channels) params.append("channels", channel);
  return `/v1/${state.customer}/timeline?${params}`;
}

// Forgets the shown timeline, so no page of it is asked for once another customer is open.
export function clearTimeline() {
  stopStream();
  seen.clear();
  nextPageToken = "";
  sentinelObserver.unobserve($("sentinel"));
  $("timeline").replaceChildren();
}

export async function loadTimeline() {
  clearTimeline();
  const view = ++state.view;
  $("timeline").setAttribute("aria-busy", "true");
  setStatus($("timeline-status"), "Loading timeline…");
  try {
    const page = await api(timelinePath());
    if (view !== state.view) return;
    addPage(page);
    watch(page.position || "0", (entry) => onLiveEntry(view, entry));
  } catch (error) {
    if (view === state.view) setStatus($("timeline-status"), error.message, { retry: loadTimeline });
  } finally {
    if (view === state.view) $("timeline").removeAttribute("aria-busy");
  }
}

async function loadMore() {
  if (!nextPageToken || loadingMore) return;
  const view = state.view;
  loadingMore = true;
  setStatus($("timeline-status"), "Loading earlier entries…");
  try {
    const page = await api(timelinePath({ pageToken: nextPageToken }));
    if (view === state.view) addPage(page);
  } catch (error) {
    if (view === state.view) setStatus($("timeline-status"), error.message, { retry: loadMore });
  } finally {
    loadingMore = false;
  }
}

function addPage(page) {
  (page.entries || []).forEach((entry) => insertEntry(entry));
  nextPageToken = page.nextPageToken || "";
  showTimelineEnd();
  // Observing again reports the sentinel at once if it is still in view: a short page loads the next.
  sentinelObserver.unobserve($("sentinel"));
  if (nextPageToken) sentinelObserver.observe($("sentinel"));
}

export function showTimelineEnd() {
  if (nextPageToken) setStatus($("timeline-status"), "");
  else if ($("timeline").children.length) setStatus($("timeline-status"), "Start of history");
  else {
    const text = state.channels.size ? "No interactions on these channels" : "No interactions yet";
    setStatus($("timeline-status"), text, { tone: "empty" });
  }
}

function entryKey(entry) {
  const item = entry.interaction || entry.note || entry.customerChange || {};
  return `${entry.position}|${item.name || item.kind || ""}`;
}

function matchesFilter(entry) {
  if (!state.channels.size) return true;
  return Boolean(entry.interaction) && state.channels.has(entry.interaction.channel);
}

export function insertEntry(entry, fresh = false) {
  const key = entryKey(entry);
  if (seen.has(key)) return null;
  seen.add(key);
  const node = entryItem(entry);
  node.dataset.time = String(entryTime(entry));
  node.dataset.position = String(entry.position || 0);
  const list = $("timeline");
  const newer = (other) =>
    Number(other.dataset.time) > entryTime(entry) ||
    (Number(other.dataset.time) === entryTime(entry) && Number(other.dataset.position) > Number(entry.position));
  const last = list.lastElementChild;
  if (!last || newer(last)) list.append(node);
  else list.insertBefore(node, [...list.children].find((other) => !newer(other)));
  if (fresh) highlight(node);
  return node;
}

function highlight(node) {
  node.classList.add("is-new");
  node.addEventListener("animationend", () => node.classList.remove("is-new"), { once: true });
}

function onLiveEntry(view, entry) {
  if (view !== state.view || !entry) return;
  const change = entry.customerChange;
  if (change && RELOADING_CHANGES.has(change.kind)) {
    customerMoved();
    return;
  }
  if (change && change.kind === "CUSTOMER_CHANGE_KIND_PROFILE_UPDATED") profileChanged();
  if (!matchesFilter(entry)) return;
  const node = insertEntry(entry, true);
  if (node) {
    announce(`New on the timeline: ${node.querySelector(".entry-main").getAttribute("aria-label")}`);
    showTimelineEnd();
  }
}
