// One timeline entry as a list item: an interaction on any channel, a note, or a change to the customer record.
import { el, icon } from "./dom.js";
import { CHANNELS, identityText } from "./labels.js";

const SPEAKERS = { CHAT_SPEAKER_CUSTOMER: "Customer", CHAT_SPEAKER_AGENT: "Agent", CHAT_SPEAKER_BOT: "Bot" };
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});
// Changes that move interactions between customers: the loaded timeline is stale after them.
export const RELOADING_CHANGES = new Set([
  "CUSTOMER_CHANGE_KIND_MERGED_FROM",
  "CUSTOMER_CHANGE_KIND_SPLIT_OFF",
  "CUSTOMER_CHANGE_KIND_UNMERGED_FROM",
]);

export function entryTime(entry) {
  // Browsers parse at most milliseconds; the API may send nanoseconds.
  return Date.parse((entry.occurredTime || "").replace(/(\.\d{3})\d+/, "$1")) || 0;
}

export function entryItem(entry) {
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
    meta: `Recorded by ${actorText(interaction.recordedBy)}${via ? ` · via ${via}` : ""}`,
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

// Actors carry identity-provider subjects percent-encoded (README, Actors); people read them decoded.
function actorText(actor) {
  if (!actor) return "unknown";
  try {
    return decodeURIComponent(actor);
  } catch {
    return actor;
  }
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
    meta: `Written by ${actorText(note.author)}`,
  };
}

function changeParts(change) {
  const other = change.otherCustomer || "another customer";
  const unlinked = change.unlinkKind === "UNLINK_KIND_RELEASE" ? "Identity released" : "Identity unlinked";
  const titles = {
    CUSTOMER_CHANGE_KIND_IDENTITY_LINKED: `Identity linked: ${identityText(change.identity)}`,
    CUSTOMER_CHANGE_KIND_IDENTITY_UNLINKED: `${unlinked}: ${identityText(change.identity)}`,
    CUSTOMER_CHANGE_KIND_MERGED_FROM: `Merged in ${other}`,
    CUSTOMER_CHANGE_KIND_SPLIT_OFF: `Split off ${other} again`,
    CUSTOMER_CHANGE_KIND_UNMERGED_FROM: `Split off again from ${other}`,
    CUSTOMER_CHANGE_KIND_PROFILE_UPDATED: profileTitle(change),
  };
  const facts = [change.reason && `Reason: ${change.reason}`, change.evidence && `Evidence: ${change.evidence}`];
  return {
    kind: "change",
    icon: RELOADING_CHANGES.has(change.kind) ? "merge" : "change",
    label: "Customer record",
    title: titles[change.kind] || "Customer record changed",
    direction: null,
    body: [facts.some(Boolean) ? el("p", { class: "entry-details" }, facts.filter(Boolean).join(" · ")) : null],
    meta: `By ${actorText(change.actor)}`,
  };
}

function profileTitle(change) {
  const fields = change.updatedFields || [];
  const others = fields.filter((field) => field !== "display_name").map((field) => field.replaceAll("_", " "));
  const named = fields.includes("display_name") ? [change.displayName ? `Name set to “${change.displayName}”` : "Name removed"] : [];
  return [...named, ...(others.length ? [`Profile updated: ${others.join(", ")}`] : [])].join(" · ") || "Profile updated";
}
