// The agent console: sign in, find a customer, read and follow their timeline, add notes.
// API data only ever reaches the page through textContent and attributes, never as HTML.
"use strict";

const PAGE_SIZE = 30;
const TOKEN_KEY = "crm.console.token";
const CHANNELS = {
  CHANNEL_PHONE: "Phone call",
  CHANNEL_EMAIL: "Email",
  CHANNEL_CHAT: "Chat",
  CHANNEL_SOCIAL: "Social",
  CHANNEL_SMS: "SMS",
  CHANNEL_WHATSAPP: "WhatsApp",
  CHANNEL_VIDEO_CALL: "Video call",
  CHANNEL_IN_PERSON: "In person",
  CHANNEL_POSTAL_MAIL: "Post",
  CHANNEL_WEB_FORM: "Web form",
};
const SPEAKERS = { CHAT_SPEAKER_CUSTOMER: "Customer", CHAT_SPEAKER_AGENT: "Agent", CHAT_SPEAKER_BOT: "Bot" };
// Changes that move interactions between customers: the loaded timeline is stale after them.
const RELOADING_CHANGES = new Set([
  "CUSTOMER_CHANGE_KIND_MERGED_FROM",
  "CUSTOMER_CHANGE_KIND_SPLIT_OFF",
  "CUSTOMER_CHANGE_KIND_UNMERGED_FROM",
]);
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});
const SVG_NS = "http://www.w3.org/2000/svg";
const CUSTOMER_NAME = /^customers\/[A-Za-z0-9_-]+$/;

const $ = (id) => document.getElementById(id);
const state = {
  token: "",
  customer: "",
  channels: new Set(),
  nextPageToken: "",
  loadingMore: false,
  seen: new Set(),
  view: 0, // bumped on every timeline (re)load, so late answers for an old view are dropped
  stream: null,
  noteRequest: null,
  nextSearch: null,
};

// ---- small DOM helpers ----

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== ""));
  return node;
}

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

function setStatus(node, text, { tone = "", retry = null } = {}) {
  node.replaceChildren(text);
  node.dataset.tone = retry ? "error" : tone;
  if (!retry) return;
  const button = el("button", { type: "button", class: "button small" }, "Retry");
  button.addEventListener("click", retry);
  node.append(" ", button);
}

function announce(text) {
  $("announcer").textContent = text;
}

// ---- the API ----

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.details = Array.isArray(error.details) ? error.details : [];
  }

  get fieldViolations() {
    return this.details.flatMap((detail) => detail.fieldViolations || []);
  }
}

const JSON_TYPE = { "Content-Type": "application/json" };
const NETWORK_ERROR = "Could not reach the server. Check the connection and try again.";

async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${state.token}`, ...(body === undefined ? {} : JSON_TYPE) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: { message: NETWORK_ERROR } });
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401) signOut("Your session has ended or the token was not accepted. Sign in again.");
  if (!response.ok) throw new ApiError(response.status, data);
  return data || {};
}

function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---- signing in ----

function hashParams() {
  return new URLSearchParams(location.hash.slice(1));
}

function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

function start() {
  const params = hashParams();
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const customer = params.get("customer");
    history.replaceState(null, "", location.pathname + location.search + (customer ? `#customer=${customer}` : ""));
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else showSignIn("");
}

function signIn(token) {
  const claims = tokenClaims(token);
  if (claims && claims.exp && claims.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("This token has expired. Paste a new one.");
    return;
  }
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("agent-name").replaceChildren(claims ? claims.sub : "Signed in");
  if (claims && claims.role) $("agent-name").append(el("span", { class: "agent-role" }, ` · ${claims.role}`));
  $("sign-in-view").hidden = true;
  $("console-view").hidden = false;
  $("session").hidden = false;
  const customer = hashParams().get("customer");
  if (customer) openCustomer(customer);
  else $("search-input").focus();
}

function signOut(message) {
  stopStream();
  state.view += 1;
  state.token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn(message);
}

function showSignIn(message) {
  $("console-view").hidden = true;
  $("session").hidden = true;
  $("sign-in-view").hidden = false;
  $("sign-in-message").textContent = message;
  $("sign-in-message").hidden = !message;
  $("token-input").value = "";
  $("token-input").focus();
}

// ---- finding a customer ----

function searchParams(text) {
  if (text.includes("@")) return { label: "email", params: new URLSearchParams({ "identity.email": text }) };
  const digits = (text.match(/\d/g) || []).length;
  if (/^[\d\s+()-]+$/.test(text) && digits >= 6) {
    return { label: "phone", params: new URLSearchParams({ "identity.phone": text }) };
  }
  return { label: "name", params: new URLSearchParams({ name: text, pageSize: "20" }) };
}

async function search(text, pageToken = "") {
  const { label, params } = searchParams(text);
  if (pageToken) params.set("pageToken", pageToken);
  if (!pageToken) $("results").replaceChildren();
  $("more-results").hidden = true;
  setStatus($("search-status"), `Searching by ${label}…`);
  try {
    const answer = await api(`/v1/customers:search?${params}`);
    const customers = answer.customers || [];
    customers.forEach((customer) => $("results").append(resultItem(customer)));
    const count = $("results").children.length;
    setStatus($("search-status"), count ? `${count} found by ${label}` : `No customer found by ${label}.`);
    state.nextSearch = answer.nextPageToken ? () => search(text, answer.nextPageToken) : null;
    $("more-results").hidden = !answer.nextPageToken;
  } catch (error) {
    setStatus($("search-status"), error.message, { retry: () => search(text, pageToken) });
  }
}

function identityText(identity) {
  if (!identity) return "";
  if (identity.email) return identity.email;
  if (identity.phone) return identity.phone;
  if (identity.social) return `${identity.social.handle} on ${identity.social.platform}`;
  if (identity.chatVisitorId) return `chat visitor ${identity.chatVisitorId}`;
  if (identity.external) return `${identity.external.system} ${identity.external.id}`;
  return "";
}

function customerTitle(customer) {
  return customer.displayName || identityText((customer.identities || [])[0]) || customer.name;
}

function resultItem(customer) {
  const identities = (customer.identities || []).map(identityText).filter(Boolean);
  const button = el(
    "button",
    { type: "button", class: "result", "aria-current": customer.name === state.customer ? "true" : null },
    el("span", { class: "result-name" }, customerTitle(customer)),
    el("span", { class: "result-detail" }, customer.displayName ? identities.join(" · ") : identities.slice(1).join(" · ")),
  );
  button.dataset.customer = customer.name;
  button.addEventListener("click", () => showCustomer(customer.name));
  return el("li", {}, button);
}

function showCustomer(name) {
  location.hash = `customer=${name}`; // the hashchange listener opens it, and reload keeps it
  if (state.customer === name) $("customer-title").focus();
}

// ---- one customer ----

async function openCustomer(name, { focus = true } = {}) {
  // The name becomes part of API paths: accept nothing but a customer's.
  if (!CUSTOMER_NAME.test(name)) {
    state.customer = "";
    return showCustomerError(`“${name}” is not a customer's name.`);
  }
  if (name !== state.customer) $("note-text").value = ""; // a draft belongs to the customer it was written for
  state.customer = name;
  markCurrentResult();
  $("customer-placeholder").hidden = true;
  $("customer-detail").hidden = false;
  $("customer-title").textContent = "Loading customer…";
  $("customer-identities").replaceChildren();
  $("customer-notice").hidden = true;
  $("note-errors").replaceChildren();
  $("note-status").textContent = "";
  $("timeline").replaceChildren();
  stopStream();
  const view = ++state.view;
  try {
    const answer = await api(`/v1/${name}`);
    if (view !== state.view) return;
    showCustomerHead(answer.customer, answer.redirectedFrom);
    if (focus) $("customer-title").focus();
    await loadTimeline();
  } catch (error) {
    if (view === state.view) showCustomerError(error.message, () => openCustomer(name));
  }
}

function showCustomerError(message, retry = null) {
  stopStream();
  state.view += 1;
  $("customer-placeholder").hidden = true;
  $("customer-detail").hidden = false;
  $("customer-title").textContent = "Customer not available";
  $("customer-identities").replaceChildren();
  $("timeline").replaceChildren();
  setStatus($("timeline-status"), message, { tone: "error", retry });
}

function showCustomerHead(customer, redirectedFrom) {
  if (customer.name !== state.customer) {
    state.customer = customer.name;
    history.replaceState(null, "", `#customer=${customer.name}`);
    markCurrentResult();
  }
  $("customer-title").textContent = customerTitle(customer);
  const identities = (customer.identities || []).map((identity) => el("li", {}, identityText(identity)));
  const merged = (customer.mergedFrom || []).length;
  if (merged) identities.push(el("li", { class: "merged" }, `Includes ${merged} merged record${merged === 1 ? "" : "s"}`));
  $("customer-identities").replaceChildren(...identities);
  if (redirectedFrom) {
    $("customer-notice").textContent = `${redirectedFrom} was merged into this customer: this is the merged history.`;
    $("customer-notice").hidden = false;
  }
}

function markCurrentResult() {
  for (const button of document.querySelectorAll(".result")) {
    if (button.dataset.customer === state.customer) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

// ---- the timeline ----

function timelinePath(extra = {}) {
  const params = new URLSearchParams({ pageSize: String(PAGE_SIZE), ...extra });
  for (const channel of state.channels) params.append("channels", channel);
  return `/v1/${state.customer}/timeline?${params}`;
}

async function loadTimeline() {
  stopStream();
  const view = ++state.view;
  state.seen.clear();
  state.nextPageToken = "";
  $("timeline").replaceChildren();
  $("timeline").setAttribute("aria-busy", "true");
  setStatus($("timeline-status"), "Loading timeline…");
  try {
    const page = await api(timelinePath());
    if (view !== state.view) return;
    addPage(page);
    watch(view, page.position || "0");
  } catch (error) {
    if (view === state.view) setStatus($("timeline-status"), error.message, { retry: loadTimeline });
  } finally {
    if (view === state.view) $("timeline").removeAttribute("aria-busy");
  }
}

async function loadMore() {
  if (!state.nextPageToken || state.loadingMore) return;
  const view = state.view;
  state.loadingMore = true;
  setStatus($("timeline-status"), "Loading earlier entries…");
  try {
    const page = await api(timelinePath({ pageToken: state.nextPageToken }));
    if (view === state.view) addPage(page);
  } catch (error) {
    if (view === state.view) setStatus($("timeline-status"), error.message, { retry: loadMore });
  } finally {
    state.loadingMore = false;
  }
}

function addPage(page) {
  (page.entries || []).forEach((entry) => insertEntry(entry));
  state.nextPageToken = page.nextPageToken || "";
  showTimelineEnd();
  // Observing again reports the sentinel at once if it is still in view: a short page loads the next.
  sentinelObserver.unobserve($("sentinel"));
  if (state.nextPageToken) sentinelObserver.observe($("sentinel"));
}

function showTimelineEnd() {
  if (state.nextPageToken) setStatus($("timeline-status"), "");
  else if ($("timeline").children.length) setStatus($("timeline-status"), "Start of history");
  else {
    const text = state.channels.size ? "No interactions on these channels" : "No interactions yet";
    setStatus($("timeline-status"), text, { tone: "empty" });
  }
}

const sentinelObserver = new IntersectionObserver(
  (observed) => {
    if (observed.some((entry) => entry.isIntersecting)) loadMore();
  },
  { rootMargin: "600px 0px" },
);

function entryKey(entry) {
  const item = entry.interaction || entry.note || entry.customerChange || {};
  return `${entry.position}|${item.name || item.kind || ""}`;
}

function entryTime(entry) {
  // Browsers parse at most milliseconds; the API may send nanoseconds.
  return Date.parse((entry.occurredTime || "").replace(/(\.\d{3})\d+/, "$1")) || 0;
}

function matchesFilter(entry) {
  if (!state.channels.size) return true;
  return Boolean(entry.interaction) && state.channels.has(entry.interaction.channel);
}

function insertEntry(entry, fresh = false) {
  const key = entryKey(entry);
  if (state.seen.has(key)) return null;
  state.seen.add(key);
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

// ---- rendering one entry ----

function entryItem(entry) {
  const parts = entry.interaction
    ? interactionParts(entry.interaction)
    : entry.note
      ? noteParts(entry.note)
      : changeParts(entry.customerChange || {});
  const occurred = entry.occurredTime ? new Date(entryTime(entry)) : null;
  return el(
    "li",
    { class: `entry ${parts.kind}` },
    el("span", { class: "entry-icon" }, icon(parts.icon)),
    el(
      "article",
      { class: "entry-main", "aria-label": `${parts.label}: ${parts.title}` },
      el(
        "header",
        { class: "entry-head" },
        el("span", { class: "entry-label" }, parts.label),
        parts.direction,
        occurred && el("time", { datetime: entry.occurredTime, title: entry.occurredTime }, TIME_FORMAT.format(occurred)),
      ),
      el("p", { class: "entry-title" }, parts.title),
      ...parts.body,
      el("p", { class: "entry-meta" }, parts.meta),
    ),
  );
}

function directionBadge(direction) {
  const inbound = direction === "DIRECTION_INBOUND";
  if (!inbound && direction !== "DIRECTION_OUTBOUND") return null;
  return el("span", { class: `direction ${inbound ? "in" : "out"}` }, icon(inbound ? "inbound" : "outbound"), inbound ? "Inbound" : "Outbound");
}

function interactionParts(interaction) {
  const channel = interaction.channel || "CHANNEL_UNSPECIFIED";
  const messages = (interaction.chat && interaction.chat.messages) || [];
  const subject = interaction.email && interaction.email.subject;
  const title = interaction.summary || subject || (messages[0] && messages[0].text) || "(no summary)";
  const via = identityText(interaction.identity);
  return {
    kind: `interaction ${channel.toLowerCase().replaceAll("_", "-")}`,
    icon: CHANNELS[channel] ? channel : "CHANNEL_UNSPECIFIED",
    label: CHANNELS[channel] || "Other channel",
    title,
    direction: directionBadge(interaction.direction),
    body: [
      detailsLine(interaction, subject !== title ? subject : ""),
      longText(interaction.body),
      transcript(messages),
      tagList(interaction.tags),
    ],
    meta: `Recorded by ${interaction.recordedBy || "unknown"}${via ? ` · via ${via}` : ""}`,
  };
}

function detailsLine(interaction, subject) {
  const facts = [];
  if (subject) facts.push(`Subject: ${subject}`);
  const call = interaction.phoneCall;
  if (call && call.duration) facts.push(`Lasted ${formatDuration(call.duration)}`);
  if (call && call.disposition) facts.push(call.disposition);
  if (call && call.recordingRef) facts.push(`Recording ${call.recordingRef}`);
  const social = interaction.social;
  if (social && social.platform) facts.push(`on ${social.platform}`);
  if (social && social.visibility) facts.push(social.visibility === "SOCIAL_VISIBILITY_PUBLIC" ? "public" : "private");
  const line = el("p", { class: "entry-details" }, facts.join(" · "));
  if (social && /^https?:\/\//i.test(social.postUrl || "")) {
    line.append(facts.length ? " · " : "", el("a", { href: social.postUrl, rel: "noopener noreferrer", target: "_blank" }, "View post"));
  }
  return line.childNodes.length ? line : null;
}

function formatDuration(duration) {
  const seconds = Math.round(parseFloat(duration));
  if (!Number.isFinite(seconds)) return duration;
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

function longText(text) {
  if (!text) return null;
  if (text.length <= 280) return el("p", { class: "entry-body" }, text);
  return el("details", { class: "entry-body" }, el("summary", {}, `${text.slice(0, 200).trimEnd()}…`), el("p", {}, text));
}

function transcript(messages) {
  if (!messages.length) return null;
  const lines = messages.map((message) =>
    el("li", {}, el("span", { class: "speaker" }, `${SPEAKERS[message.speaker] || "Someone"}:`), " ", message.text || ""),
  );
  const count = `Transcript · ${messages.length} message${messages.length === 1 ? "" : "s"}`;
  return el("details", { class: "transcript", open: messages.length <= 4 }, el("summary", {}, count), el("ol", {}, ...lines));
}

function tagList(tags) {
  if (!tags || !tags.length) return null;
  return el("ul", { class: "tags", "aria-label": "Tags" }, ...tags.map((tag) => el("li", {}, tag)));
}

function noteParts(note) {
  return {
    kind: "note",
    icon: "note",
    label: "Note",
    title: note.text || "",
    direction: null,
    body: [],
    meta: `Written by ${note.author || "unknown"}`,
  };
}

function changeParts(change) {
  const other = change.otherCustomer || "another customer";
  const titles = {
    CUSTOMER_CHANGE_KIND_IDENTITY_LINKED: `Identity linked: ${identityText(change.identity)}`,
    CUSTOMER_CHANGE_KIND_IDENTITY_UNLINKED: `Identity unlinked: ${identityText(change.identity)}`,
    CUSTOMER_CHANGE_KIND_MERGED_FROM: `Merged in ${other}`,
    CUSTOMER_CHANGE_KIND_SPLIT_OFF: `Split off ${other} again`,
    CUSTOMER_CHANGE_KIND_UNMERGED_FROM: `Split off again from ${other}`,
  };
  const facts = [change.reason && `Reason: ${change.reason}`, change.evidence && `Evidence: ${change.evidence}`];
  return {
    kind: "change",
    icon: RELOADING_CHANGES.has(change.kind) ? "merge" : "change",
    label: "Customer record",
    title: titles[change.kind] || "Customer record changed",
    direction: null,
    body: [facts.some(Boolean) ? el("p", { class: "entry-details" }, facts.filter(Boolean).join(" · ")) : null],
    meta: `By ${change.actor || "unknown"}`,
  };
}

// ---- channel filter ----

function buildFilters() {
  const chips = Object.entries(CHANNELS).map(([channel, label]) => {
    const input = el("input", { type: "checkbox", value: channel });
    input.addEventListener("change", onFilterChange);
    return el("label", { class: "chip" }, input, icon(channel), label);
  });
  $("chips").append(...chips);
}

function onFilterChange() {
  const checked = $("chips").querySelectorAll("input:checked");
  state.channels = new Set([...checked].map((input) => input.value));
  if (state.customer) loadTimeline();
}

// ---- adding a note ----

async function addNote(event) {
  event.preventDefault();
  const text = $("note-text").value;
  $("note-errors").replaceChildren();
  $("note-text").removeAttribute("aria-invalid");
  if (!text.trim()) return showNoteErrors(["Write the note first."]);
  const customer = state.customer;
  // A retry of the same note keeps its request id, so the server records it once.
  if (!state.noteRequest || state.noteRequest.text !== text || state.noteRequest.customer !== customer) {
    state.noteRequest = { text, customer, requestId: newRequestId() };
  }
  $("note-submit").disabled = true;
  $("note-status").textContent = "Adding…";
  try {
    const params = new URLSearchParams({ requestId: state.noteRequest.requestId });
    const answer = await api(`/v1/${customer}/notes?${params}`, { method: "POST", body: { text } });
    state.noteRequest = null;
    $("note-text").value = "";
    $("note-status").textContent = state.channels.size ? "Note added; the channel filter hides it." : "Note added.";
    if (customer === state.customer) await showWritesUpTo(answer.commitPosition);
  } catch (error) {
    $("note-status").textContent = "";
    const fields = error.fieldViolations ? error.fieldViolations.map((v) => v.description || v.field) : [];
    const retry = error.status === 0 ? " Your note is kept: press Add note to try again." : "";
    showNoteErrors(fields.length ? fields : [error.message + retry]);
  } finally {
    $("note-submit").disabled = false;
  }
}

function showNoteErrors(messages) {
  $("note-errors").replaceChildren(...messages.map((message) => el("p", {}, message)));
  $("note-text").setAttribute("aria-invalid", "true");
  $("note-text").focus();
}

async function showWritesUpTo(position) {
  // The live stream usually brings the note first; this read makes sure it is there, once.
  const view = state.view;
  try {
    const page = await api(timelinePath({ minPosition: position || "0" }));
    if (view !== state.view) return;
    (page.entries || []).forEach((entry) => insertEntry(entry, true));
    showTimelineEnd();
  } catch (error) {
    if (view === state.view) $("note-status").textContent = `Note added; the timeline could not refresh: ${error.message}`;
  }
}

// ---- live updates ----

function setLive(mode, text) {
  $("live").dataset.state = mode;
  $("live-text").textContent = text;
}

function stopStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
  setLive("off", "Offline");
}

async function watch(view, afterPosition) {
  const controller = new AbortController();
  state.stream = controller;
  let lastId = afterPosition;
  let delay = 1000;
  for (let attempt = 0; !controller.signal.aborted; attempt += 1) {
    if (attempt === 0) setLive("connecting", "Connecting…");
    try {
      await readStream(view, lastId, attempt > 0, controller.signal, (id) => {
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

async function readStream(view, lastId, resuming, signal, onId) {
  const params = new URLSearchParams({ afterPosition: lastId });
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
  if (resuming) headers["Last-Event-ID"] = lastId;
  const response = await fetch(`/v1/${state.customer}/timeline:watch?${params}`, { signal, headers });
  if (response.status === 401) signOut("Your session has ended or the token was not accepted. Sign in again.");
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  setLive("live", "Live");
  $("live").title = "New entries appear as they are recorded";
  await readEvents(response.body, (event) => {
    if (event.id) onId(event.id);
    if (event.type === "entry") onLiveEntry(view, JSON.parse(event.data).entry);
    if (event.type === "error") $("live").title = JSON.parse(event.data).message || "";
  });
}

async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = { id: "", type: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (event.data.length) onEvent({ ...event, data: event.data.join("\n") });
        event = { id: "", type: "message", data: [] };
        continue;
      }
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") event.id = text;
      else if (field === "event") event.type = text;
      else if (field === "data") event.data.push(text);
    }
  }
}

function onLiveEntry(view, entry) {
  if (view !== state.view || !entry) return;
  const change = entry.customerChange;
  if (change && RELOADING_CHANGES.has(change.kind)) {
    openCustomer(state.customer, { focus: false });
    return;
  }
  if (!matchesFilter(entry)) return;
  const node = insertEntry(entry, true);
  if (node) {
    announce(`New on the timeline: ${node.querySelector(".entry-main").getAttribute("aria-label")}`);
    showTimelineEnd();
  }
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

// ---- wiring ----

function wire() {
  buildFilters();
  $("zone").textContent = `Times in ${Intl.DateTimeFormat().resolvedOptions().timeZone}`;
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (token) signIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut("You have signed out."));
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("search-input").value.trim();
    if (text) search(text);
  });
  $("more-results").addEventListener("click", () => state.nextSearch && state.nextSearch());
  $("note-form").addEventListener("submit", addNote);
  window.addEventListener("hashchange", () => {
    const customer = hashParams().get("customer");
    if (state.token && customer && customer !== state.customer) openCustomer(customer);
  });
}

wire();
start();
