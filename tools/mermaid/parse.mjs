// Reads diagrams as a JSON array of strings on stdin; prints a JSON array with, for each,
// null when mermaid parses it or the parser's error message when it does not.
// mermaid runs in browsers: jsdom gives it the little DOM it touches while parsing.
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!doctype html><html><body></body></html>");
for (const name of ["window", "document", "Element", "HTMLElement", "SVGElement", "Node",
                    "DocumentFragment", "DOMParser", "XMLSerializer"]) {
  globalThis[name] = name === "window" ? window : window[name];
}

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;

const results = [];
for (const diagram of JSON.parse(input)) {
  try {
    await mermaid.parse(diagram);
    results.push(null);
  } catch (error) {
    results.push(String(error?.message ?? error));
  }
}
process.stdout.write(JSON.stringify(results));
