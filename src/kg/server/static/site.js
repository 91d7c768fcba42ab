// The query page's catalogue menu fills the editor; the source view lights up all pieces of an excerpt.
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

document.addEventListener("DOMContentLoaded", () => {
  const menu = document.getElementById("catalogue");
  const editor = document.getElementById("editor");
  const data = document.getElementById("catalogue-data");
  if (menu && editor && data) {
    const queries = JSON.parse(data.textContent);
    menu.addEventListener("change", () => {
      const chosen = queries[menu.value];
      if (chosen) editor.value = chosen.text;
    });
    const load = document.getElementById("load");
    if (load) load.hidden = true;
  }
  for (const mark of document.querySelectorAll("mark.excerpt")) {
    mark.addEventListener("mouseenter", () => lightUp(mark.dataset.excerpts.trim().split(" ")));
  }
  lightUpFromHash();
  window.addEventListener("hashchange", lightUpFromHash);
});
