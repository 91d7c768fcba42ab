// The site's behaviour: search autocomplete, copy citation, the source view's highlights (query.js: the editor).
"use strict";

function lightUp(ids) {
  for (const mark of document.querySelectorAll("mark.excerpt")) {
    const own = mark.dataset.excerpts.trim().split(" ");
    mark.classList.toggle("active", own.some((id) => ids.includes(id)));
  }
}

function lightUpFromHash() {
  if (location.hash.startsWith("#excerpt-")) lightUp([decodeURIComponent(location.hash.slice(9))]);
}

// A name as a page shows it: a direction override (U+202A-U+202E, U+2066-U+2069) written as its code
// point, as the server writes it in every page, never obeyed (it would turn the words after it around).
function shown(text) {
  return text.replace(/[\u202a-\u202e\u2066-\u2069]/g, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase()}>`);
}

// A list of matches under a search or parameter field, fed by /api/search; arrows and Enter choose.
function autocomplete(input) {
  const list = document.createElement("ul");
  list.className = "suggestions";
  list.id = input.id + "-suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.insertAdjacentElement("afterend", list);
  let hits = [];
  let active = -1;
  let timer = null;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  };
  const choose = (hit) => {
    close();
    if (input.dataset.autocomplete === "param") {
      input.value = hit.iri;
      const note = document.getElementById(input.id + "-chosen");
      if (note) note.textContent = shown(hit.label);
    } else if (hit.href) {
      location.href = hit.href;
    }
  };
  const show = () => {
    list.replaceChildren();
    hits.forEach((hit, i) => {
      const item = document.createElement("li");
      item.id = `${list.id}-${i}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = hit.kind;
      item.append(kind, " ", shown(hit.kind === "excerpt" ? hit.snippet : hit.label));
      item.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(hit);
      });
      list.append(item);
    });
    list.hidden = hits.length === 0;
    input.setAttribute("aria-expanded", hits.length ? "true" : "false");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2 || /^[a-z]+:\/\//i.test(text)) return close();
    timer = setTimeout(async () => {
      const kinds = (input.dataset.kinds || "").split(" ").filter(Boolean).map((k) => `&kind=${k}`).join("");
      const response = await fetch(`/api/search?limit=8&q=${encodeURIComponent(text)}${kinds}`);
      if (!response.ok) return close();
      hits = (await response.json()).hits;
      active = -1;
      show();
    }, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + hits.length) % hits.length;
      show();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(hits[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}

// "Copy citation" buttons copy their data-citation text; the button says it did.
function copyCitation(button) {
  button.addEventListener("click", async () => {
    const text = button.dataset.citation;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy citation"), 2000);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-autocomplete]")) autocomplete(input);
  for (const button of document.querySelectorAll("button[data-citation]")) copyCitation(button);
  for (const mark of document.querySelectorAll("mark.excerpt")) {
    mark.addEventListener("mouseenter", () => lightUp(mark.dataset.excerpts.trim().split(" ")));
  }
  lightUpFromHash();
  window.addEventListener("hashchange", lightUpFromHash);
});
