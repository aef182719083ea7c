// Adding a note for the next agent, and showing it on the timeline as soon as the server has it.
import { api, newRequestId } from "./api.js";
import { $, el } from "./dom.js";
import { state } from "./state.js";
import { insertEntry, showTimelineEnd, timelinePath } from "./timeline.js";

let noteRequest = null;

export async function addNote(event) {
  event.preventDefault();
  const text = $("note-text").value;
  $("note-errors").replaceChildren();
  $("note-text").removeAttribute("aria-invalid");
  if (!text.trim()) return showNoteErrors(["Write the note first."]);
  const customer = state.customer;
  // A retry of the same note keeps its request id, so the server records it once.
  if (!noteRequest || noteRequest.text !== text || noteRequest.customer !== customer) {
    noteRequest = { text, customer, requestId: newRequestId() };
  }
  $("note-submit").disabled = true;
  $("note-status").textContent = "Adding…";
  try {
    const params = new URLSearchParams({ requestId: noteRequest.requestId });
    const answer = await api(`/v1/${customer}/notes?${params}`, { method: "POST", body: { text } });
    noteRequest = null;
    $("note-text").value = "";
    $("note-status").textContent = state.channels.size ? "Note added; the channel filter hides it." : "Note added.";
    if (customer === state.customer) await showWritesUpTo(answer.commitPosition, $("note-status"), "Note added");
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

export async function showWritesUpTo(position, status, done) {
  // The live stream usually brings the note first; this read makes sure it is there, once.
  const view = state.view;
  try {
    const page = await api(timelinePath({ minPosition: position || "0" }));
    if (view !== state.view) return;
    (page.entries || []).forEach((entry) => insertEntry(entry, true));
    showTimelineEnd();
  } catch (error) {
    if (view === state.view) status.textContent = `${done}; the timeline could not refresh: ${error.message}`;
  }
}
