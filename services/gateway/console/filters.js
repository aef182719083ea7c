// The channel chips above the timeline: with any ticked, the timeline shows only those channels.
import { $, el, icon } from "./dom.js";
import { CHANNELS } from "./labels.js";
import { state } from "./state.js";
import { loadTimeline } from "./timeline.js";

export function buildFilters() {
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
