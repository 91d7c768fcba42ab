// The query page: a SPARQL editor (CodeMirror, served from this server) with highlighting, prefix
// completion, Ctrl+Enter to run, a history of past queries, and no silent overwrite of typed text.
"use strict";

const HISTORY_KEY = "opioid-kg.query-history";
const HISTORY_SIZE = 20;

function readHistory() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
  } catch {
    return [];
  }
}

function remember(text) {
  const past = readHistory().filter((item) => item !== text);
  past.unshift(text);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(past.slice(0, HISTORY_SIZE)));
}

// Completion of prefixes: after "PREFIX " the declaration with its IRI, elsewhere "name:".
function prefixHints(prefixes) {
  return (cm) => {
    const cursor = cm.getCursor();
    const line = cm.getLine(cursor.line).slice(0, cursor.ch);
    const word = /([A-Za-z][\w-]*)?$/.exec(line)[0];
    const declaring = /PREFIX\s+[\w-]*$/i.test(line);
    const list = Object.entries(prefixes)
      .filter(([name]) => name.startsWith(word))
      .map(([name, iri]) => (declaring ? { text: `${name}: <${iri}>`, displayText: `${name}: <${iri}>` } : `${name}:`));
    return { list, from: CodeMirror.Pos(cursor.line, cursor.ch - word.length), to: cursor };
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("query-form");
  const textarea = document.getElementById("editor");
  const menu = document.getElementById("catalogue");
  const catalogue = JSON.parse(document.getElementById("catalogue-data").textContent);
  const prefixes = JSON.parse(document.getElementById("prefix-data").textContent);
  const run = () => form.requestSubmit();
  let editor = {
    get: () => textarea.value,
    set: (text) => (textarea.value = text),
  };
  if (window.CodeMirror) {
    const cm = CodeMirror.fromTextArea(textarea, {
      mode: "application/sparql-query",
      lineNumbers: true,
      matchBrackets: true,
      screenReaderLabel: "SPARQL query",
      extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run, "Ctrl-Space": "autocomplete" },
      hintOptions: { hint: prefixHints(prefixes), completeSingle: false },
    });
    cm.on("change", () => cm.save());
    const scroller = cm.getScrollerElement();
    scroller.setAttribute("tabindex", "0"); // a long query scrolls; the keyboard can reach it
    scroller.setAttribute("aria-label", "SPARQL query, scrollable");
    cm.on("inputRead", (instance, change) => {
      if (/^[A-Za-z]$/.test(change.text[0])) instance.showHint();
    });
    editor = { get: () => cm.getValue(), set: (text) => { cm.setValue(text); cm.save(); } };
  } else {
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run();
      }
    });
  }
  let loaded = editor.get();
  const replace = (text) => {
    if (editor.get() !== loaded && editor.get() !== text && !confirm("Replace the query you typed?")) return false;
    editor.set(text);
    loaded = text;
    return true;
  };
  menu.addEventListener("change", () => {
    const chosen = catalogue[menu.value];
    if (chosen) replace(chosen.text);
  });
  const history = document.getElementById("history");
  const past = readHistory();
  for (const [i, text] of past.entries()) {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = text.replace(/\s+/g, " ").slice(0, 90);
    history.append(option);
  }
  history.closest(".history").hidden = past.length === 0;
  history.addEventListener("change", () => {
    if (history.value !== "") replace(past[Number(history.value)]);
    history.value = "";
  });
  form.addEventListener("submit", () => remember(editor.get()));
  const load = document.getElementById("load");
  if (load) load.hidden = true;
});
