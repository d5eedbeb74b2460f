// Markdown to DOM, for model output. Every piece of text becomes a text node, so
// HTML in the input is shown, never parsed (no sanitiser needed: there is no HTML
// path). Links keep only http(s) and mailto URLs; images become links (no
// requests to addresses chosen by model output).
import { h } from "./dom.js";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

export function safeUrl(raw) {
  try {
    const url = new URL(raw.trim(), window.location.origin);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|\b_([^_\s][^_]*)_\b|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

function link(text, href) {
  const url = safeUrl(href);
  if (!url) return document.createTextNode(text || href);
  return h("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, text || url);
}

export function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("code", { text: m[2] }));
    else if (m[4] !== undefined) out.push(link(m[3], m[4]));
    else if (m[5] !== undefined || m[6] !== undefined) out.push(h("strong", {}, inline(m[5] ?? m[6])));
    else if (m[7] !== undefined || m[8] !== undefined) out.push(h("em", {}, inline(m[7] ?? m[8])));
    else if (m[9]) out.push(link(m[9], m[9]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function withBreaks(lines) {
  const out = [];
  lines.forEach((line, i) => {
    if (i) out.push(h("br"));
    out.push(...inline(line));
  });
  return out;
}

const FENCE = /^\s*(```+|~~~+)\s*([\w+-]*)/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;

function codeBlock(lines, i, fence, lang) {
  const body = [];
  let j = i + 1;
  while (j < lines.length && !lines[j].trim().startsWith(fence)) body.push(lines[j++]);
  const code = h("code", { text: body.join("\n") });
  if (lang) code.dataset.lang = lang;
  const label = lang ? h("span", { class: "code-lang", text: lang }) : null;
  return [h("div", { class: "code" }, label, h("pre", { tabindex: "0" }, code)), j + 1];
}

function list(lines, i, pattern, ordered) {
  const items = [];
  let j = i;
  while (j < lines.length && pattern.test(lines[j])) {
    const m = lines[j].match(pattern);
    items.push(h("li", {}, inline(ordered ? m[2] : m[1])));
    j++;
  }
  const first = ordered ? Number(lines[i].match(pattern)[1]) : 1;
  const el = h(ordered ? "ol" : "ul", ordered && first !== 1 ? { start: first } : {}, items);
  return [el, j];
}

/** A DocumentFragment of the rendered Markdown. */
export function render(source) {
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  const fragment = document.createDocumentFragment();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      i++;
    } else if ((m = line.match(FENCE))) {
      const [el, next] = codeBlock(lines, i, m[1], m[2]);
      fragment.append(el);
      i = next;
    } else if ((m = line.match(HEADING))) {
      fragment.append(h(`h${Math.min(6, m[1].length + 2)}`, {}, inline(m[2])));
      i++;
    } else if (RULE.test(line)) {
      fragment.append(h("hr"));
      i++;
    } else if (BULLET.test(line)) {
      const [el, next] = list(lines, i, BULLET, false);
      fragment.append(el);
      i = next;
    } else if (NUMBERED.test(line)) {
      const [el, next] = list(lines, i, NUMBERED, true);
      fragment.append(el);
      i = next;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(lines[i++].match(QUOTE)[1]);
      fragment.append(h("blockquote", {}, render(quoted.join("\n"))));
    } else {
      const para = [];
      while (
        i < lines.length && lines[i].trim() &&
        !FENCE.test(lines[i]) && !HEADING.test(lines[i]) && !BULLET.test(lines[i]) &&
        !NUMBERED.test(lines[i]) && !QUOTE.test(lines[i])
      ) {
        para.push(lines[i++]);
      }
      fragment.append(h("p", {}, withBreaks(para)));
    }
  }
  return fragment;
}
