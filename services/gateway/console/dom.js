// Every node the console builds goes through here: API data becomes text nodes and attributes, never HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

export const $ = (id) => document.getElementById(id);

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== ""));
  return node;
}

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

export function setStatus(node, text, { tone = "", retry = null } = {}) {
  node.replaceChildren(text);
  node.dataset.tone = retry ? "error" : tone;
  if (!retry) return;
  const button = el("button", { type: "button", class: "button small" }, "Retry");
  button.addEventListener("click", retry);
  node.append(" ", button);
}

export function announce(text) {
  $("announcer").textContent = text;
}
