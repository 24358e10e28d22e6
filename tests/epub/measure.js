// Measures one laid-out EPUB document in Chromium, character by character: returns what the
// reading tests count (tests/epub/test_reading.py). With `boxesOnly`, contrast is counted only
// for text on a background other than the page's (a reader's night colours restyle the page).
(boxesOnly) => {
  const LETTER = /[\p{L}\p{N}]/u;
  const HAN = /\p{Script=Han}/u;
  const LATIN = /[A-Za-z0-9]/;
  const MARK = /[\p{P}\p{S}\s]/u;
  const BLOCKS = "p, li, h1, h2, h3, figcaption, h1.title .line";
  const OPENING = /[“‘《（【「『〈〔]/;
  const out = { oneCharLastLines: [], tightPairs: [], brokenWords: [], lowContrast: [],
                indentedEntries: [], longestLine: 0, overflow: 0 };

  // Every character of `element` with its box, and whether a <wbr> or a space stands before it.
  function characters(element) {
    const chars = [];
    let wbr = false;
    // A 目录 entry's speeches are entries of their own.
    const nested = { acceptNode: node => node !== element && node.matches?.("ol, ul")
                     ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT };
    const walker = document.createTreeWalker(
      element, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, nested);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.localName === "wbr") wbr = true;
        continue;
      }
      for (let i = 0; i < node.data.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) chars.push({ ch: node.data[i], rect, node, wbr });
        wbr = /\s/.test(node.data[i]);  // a line may break after a space
      }
    }
    return chars;
  }

  function lines(chars) {
    const out = [];
    for (const c of chars) {
      if (/\s/.test(c.ch)) continue;
      const last = out[out.length - 1];
      const prev = last && last[last.length - 1];
      if (!prev || c.rect.top >= prev.rect.bottom - prev.rect.height / 2) out.push([c]);
      else last.push(c);
    }
    return out;
  }

  // A character's own advance, set where it stands but with no autospace.
  const advances = new Map();
  function advance(c) {
    const parent = c.node.parentElement;
    const style = getComputedStyle(parent);
    const key = `${style.font}|${c.ch}`;
    if (!advances.has(key)) {
      const probe = document.createElement("span");
      probe.style.cssText = "text-autospace: no-autospace; white-space: pre; position: absolute; text-indent: 0";
      probe.textContent = c.ch;
      parent.appendChild(probe);
      advances.set(key, probe.getBoundingClientRect().width);
      probe.remove();
    }
    return advances.get(key);
  }

  for (const block of document.querySelectorAll(BLOCKS)) {
    if (block.querySelector("p, li, h1, h2, h3") && !block.matches("li")) continue;
    const chars = characters(block);
    const rows = lines(chars);
    const text = chars.map(c => c.ch).join("");
    const em = parseFloat(getComputedStyle(block).fontSize);
    for (const row of rows) {  // in ems of the block's type: the characters a full line holds
      const width = row[row.length - 1].rect.right - row[0].rect.left;
      out.longestLine = Math.max(out.longestLine, width / em);
    }
    const last = rows[rows.length - 1];
    if (rows.length > 1 && last.filter(c => LETTER.test(c.ch)).length === 1) {
      out.oneCharLastLines.push(text.slice(-12));
    }
    // Han beside Latin or a digit: at least an eighth of an em between them.
    for (let i = 1; i < chars.length; i++) {
      const [a, b] = [chars[i - 1], chars[i]];
      const pair = (HAN.test(a.ch) && LATIN.test(b.ch)) || (LATIN.test(a.ch) && HAN.test(b.ch));
      if (!pair || Math.abs(a.rect.top - b.rect.top) > 1) continue;
      const size = parseFloat(getComputedStyle(a.node.parentElement).fontSize);
      const gap = b.rect.left - a.rect.left - advance(a);
      if (gap < size / 8 - 0.5) out.tightPairs.push(`${text.slice(Math.max(0, i - 6), i + 4)} ${gap.toFixed(2)}px`);
    }
    // A 目录 entry that opens with a mark sets it half-width, flush with the other entries.
    if (block.matches(".contents li") && OPENING.test(chars[0].ch) && chars[0].rect.width > 0.6 * em) {
      out.indentedEntries.push(text.slice(0, 10));
    }
    // A title or 目录 entry breaks only at a <wbr> or beside a mark or space.
    if (block.matches("h1.title .line, .contents li")) {
      for (let r = 1; r < rows.length; r++) {
        const first = rows[r][0];
        const index = chars.indexOf(first);
        const before = chars[index - 1];
        if (!first.wbr && !MARK.test(first.ch) && !MARK.test(before.ch)) {
          out.brokenWords.push(`${text.slice(Math.max(0, index - 6), index)}|${text.slice(index, index + 6)}`);
        }
      }
    }
  }

  // Contrast of every text against the background it sits on.
  function rgb(value) {
    const m = value.match(/[\d.]+/g).map(Number);
    return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 };
  }
  function luminance({ r, g, b }) {
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  }
  // The background a text sits on, and the element that paints it (null: the canvas).
  function background(element) {
    for (let e = element; e; e = e.parentElement) {
      const color = rgb(getComputedStyle(e).backgroundColor);
      if (color.a > 0) return [color, e];
    }
    const dark = getComputedStyle(document.documentElement).colorScheme.includes("dark")
      && matchMedia("(prefers-color-scheme: dark)").matches;
    return [dark ? rgb("18,18,18") : rgb("255,255,255"), null];
  }
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.data.trim() || seen.has(element)) continue;
    seen.add(element);
    const [paper, painter] = background(element);
    if (boxesOnly && [null, document.documentElement, document.body].includes(painter)) continue;
    const [fg, bg] = [luminance(rgb(getComputedStyle(element).color)), luminance(paper)];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) out.lowContrast.push(`${node.data.trim().slice(0, 10)} ${ratio.toFixed(2)}`);
  }
  out.overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return out;
}
