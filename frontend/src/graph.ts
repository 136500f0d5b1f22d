// The graph page's island: the map of who works with whom, drawn with WebGL by sigma.js from
// GET /api/v1/graph (positions computed on the server). Every name goes into the page as text
// (textContent, canvas labels), never as HTML.
import Graph from "graphology";
import Sigma from "sigma";
import { EdgeLineProgram, NodePointProgram } from "sigma/rendering";
import type { EdgeDisplayData, MouseCoords, NodeDisplayData } from "sigma/types";
import { MovingPointProgram, quietLayers } from "./lib/moving";

interface MapData {
  as_of: number;
  span: [number, number] | null;
  source: string | null;
  sources: string[];
  k_min: number;
  admin: boolean;
  me: number;
  nodes: {
    id: string[];
    name: string[];
    x: number[];
    y: number[];
    group: number[];
    size: number[] | null;
  };
  links: { src: number[]; dst: number[] };
  groups: { id: number; size: number; label: string }[];
  hidden: { small_groups: number };
}

const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
  "#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939", "#843c39",
];
const UNGROUPED = "#8a939e";
const FADED = "#e4e7eb";
const ME = "#111111";
const DAY = 86_400;
/** Maps with more ties than this are drawn the cheap way. */
const BIG = 20_000;

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`graph page: ${selector} is missing`);
  return found;
}

const container = element<HTMLDivElement>("#graph");
const status = element<HTMLParagraphElement>("#graph-status");
const hoverLine = element<HTMLParagraphElement>("#graph-hover");
const slider = element<HTMLInputElement>("#as-of");
const sliderText = element<HTMLOutputElement>("#as-of-text");
const sourceSelect = element<HTMLSelectElement>("#source");
const groupSelect = element<HTMLSelectElement>("#group");
const finder = element<HTMLInputElement>("#find");
const names = element<HTMLDataListElement>("#people-names");
const legend = element<HTMLUListElement>("#legend");
const panel = element<HTMLElement>("#focus");

let renderer: Sigma | null = null;
let graph: Graph | null = null;
let data: MapData | null = null;
let focus: string | null = null;
let neighbours = new Set<string>();
let groupFilter: number | null = null;
let firstLoad = true;

function day(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function colour(group: number): string {
  return group < 0 ? UNGROUPED : PALETTE[group % PALETTE.length];
}

function visible(node: number): boolean {
  return groupFilter === null || data === null || data.nodes.group[node] === groupFilter;
}

function nodeReducer(node: string, attributes: Record<string, unknown>): Partial<NodeDisplayData> {
  const index = Number(node);
  const shown = { ...(attributes as Partial<NodeDisplayData>) };
  if (!visible(index)) return { ...shown, hidden: true };
  if (focus !== null && node !== focus && !neighbours.has(node)) {
    return { ...shown, color: FADED, label: null, zIndex: 0 };
  }
  if (focus !== null) return { ...shown, zIndex: 1, forceLabel: node === focus };
  return shown;
}

function edgeReducer(edge: string, attributes: Record<string, unknown>): Partial<EdgeDisplayData> {
  const shown = attributes as Partial<EdgeDisplayData>;
  if (graph === null) return shown;
  const [a, b] = graph.extremities(edge);
  if (!visible(Number(a)) || !visible(Number(b))) return { ...shown, hidden: true };
  if (focus !== null && a !== focus && b !== focus) return { ...shown, hidden: true };
  return shown;
}

function useReducers(): void {
  const active = focus !== null || groupFilter !== null;
  renderer?.setSetting("nodeReducer", active ? nodeReducer : null);
  renderer?.setSetting("edgeReducer", active ? edgeReducer : null);
}

function countShown(): void {
  if (data === null) return;
  let shown = 0;
  for (let i = 0; i < data.nodes.id.length; i++) if (visible(i)) shown++;
  container.dataset.nodes = String(shown);
  container.dataset.links = String(data.links.src.length);
}

function clear(parent: HTMLElement): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
}

function personLink(index: number): HTMLAnchorElement {
  const link = document.createElement("a");
  const id = data?.nodes.id[index] ?? "";
  if (/^\d+$/.test(id)) link.href = `/people/${id}`;
  const name = document.createElement("bdi");
  name.textContent = data?.nodes.name[index] || `person ${id}`;
  link.appendChild(name);
  return link;
}

function showFocus(): void {
  clear(panel);
  panel.hidden = focus === null;
  container.dataset.focus = focus === null ? "" : (data?.nodes.id[Number(focus)] ?? "");
  container.dataset.neighbours = String(neighbours.size);
  if (focus === null || data === null) return;
  const title = document.createElement("h2");
  title.appendChild(personLink(Number(focus)));
  panel.appendChild(title);
  const count = document.createElement("p");
  count.textContent = `Works with ${neighbours.size} ${neighbours.size === 1 ? "person" : "people"} on this map.`;
  panel.appendChild(count);
  const list = document.createElement("ul");
  for (const other of Array.from(neighbours).slice(0, 25)) {
    const item = document.createElement("li");
    item.appendChild(personLink(Number(other)));
    list.appendChild(item);
  }
  panel.appendChild(list);
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Show everyone";
  close.addEventListener("click", () => focusOn(null));
  panel.appendChild(close);
}

function focusOn(node: string | null): void {
  focus = node;
  neighbours = new Set(node !== null && graph !== null ? graph.neighbors(node) : []);
  showFocus();
  if (renderer === null) return;
  useReducers();
  if (node !== null) {
    const shown = renderer.getNodeDisplayData(node);
    if (shown) void renderer.getCamera().animate({ x: shown.x, y: shown.y, ratio: 0.35 }, { duration: 300 });
  }
}

function fillControls(map: MapData): void {
  if (map.span !== null && firstLoad) {
    slider.min = String(map.span[0]);
    slider.max = String(map.span[1]);
    slider.step = String(DAY);
    slider.value = String(map.as_of);
    slider.disabled = false;
  }
  sliderText.textContent = day(map.as_of);
  if (firstLoad) {
    for (const name of map.sources) sourceSelect.add(new Option(name, name));
  }
  const chosen = groupSelect.value;
  while (groupSelect.options.length > 1) groupSelect.remove(1);
  clear(legend);
  for (const group of map.groups) {
    groupSelect.add(new Option(`${group.label} (${group.size})`, String(group.id)));
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour(group.id);
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(`${group.label} · ${group.size} people`));
    legend.appendChild(item);
  }
  groupSelect.value = map.groups.some((g) => String(g.id) === chosen) ? chosen : "";
  groupFilter = groupSelect.value === "" ? null : Number(groupSelect.value);
  clear(names);
  for (const name of new Set(map.nodes.name)) if (name) names.appendChild(new Option(name));
}

function build(map: MapData): Graph {
  const built = new Graph({ type: "undirected", multi: false, allowSelfLoops: false });
  const { id, name, x, y, group, size } = map.nodes;
  for (let i = 0; i < id.length; i++) {
    const mine = i === map.me;
    built.addNode(String(i), {
      x: x[i],
      y: 1 - y[i],
      size: size !== null ? 2 + 10 * Math.sqrt(size[i]) : mine ? 9 : 3,
      color: mine ? ME : colour(group[i]),
      label: mine ? `${name[i]} (you)` : name[i],
      forceLabel: mine,
    });
  }
  const { src, dst } = map.links;
  for (let i = 0; i < src.length; i++) built.addEdgeWithKey(i, String(src[i]), String(dst[i]));
  return built;
}

/** How long the mouse rests on a large map before the node under it is looked up (ms). */
const HOVER_REST = 80;

/**
 * Sigma finds the node under the mouse on every mouse move by reading one pixel back from a
 * picking framebuffer; that read waits for the GPU to finish everything queued, which on a
 * software renderer is the whole frame. Skip it while the map is dragged (nothing is hovered
 * then), and on a large map only look once the mouse rests.
 */
function pickLazily(drawn: Sigma, large: boolean): void {
  const captor = drawn.getMouseCaptor();
  const listeners = (drawn as unknown as { activeListeners: Record<string, (event: MouseCoords) => void> })
    .activeListeners;
  const pick = listeners.handleMove;
  if (typeof pick !== "function") return; // another sigma version: leave its picking alone
  let resting: number | undefined;
  captor.removeListener("mousemove", pick);
  captor.on("mousemove", (event: MouseCoords) => {
    window.clearTimeout(resting);
    if (captor.isMouseDown) return;
    if (!large) pick(event);
    else resting = window.setTimeout(() => pick(event), HOVER_REST);
  });
}

async function load(): Promise<void> {
  const query = new URLSearchParams();
  if (!firstLoad) query.set("as_of", slider.value);
  if (sourceSelect.value) query.set("source", sourceSelect.value);
  container.setAttribute("aria-busy", "true");
  status.textContent = "Loading the map…";
  const started = performance.now();
  let response = await fetch(`/api/v1/graph?${query}`, { credentials: "same-origin" });
  for (let tries = 0; response.status === 504 && tries < 40; tries++) {
    // a large map is still being computed on the server: ask again (it is cached when done)
    status.textContent = "The server is still computing this map…";
    await new Promise((done) => setTimeout(done, 3000));
    response = await fetch(`/api/v1/graph?${query}`, { credentials: "same-origin" });
  }
  if (!response.ok) {
    status.textContent = `The map could not be loaded (${response.status}).`;
    container.setAttribute("aria-busy", "false");
    return;
  }
  const map = (await response.json()) as MapData;
  const fetched = performance.now();
  data = map;
  fillControls(map);
  focus = null;
  neighbours = new Set();
  showFocus();
  graph = build(map);
  renderer?.kill();
  const mark = performance.now();
  const large = map.links.src.length > BIG;
  renderer = new Sigma(graph, container, {
    nodeReducer: groupFilter === null ? null : nodeReducer,
    edgeReducer: groupFilter === null ? null : edgeReducer,
    zIndex: true,
    hideLabelsOnMove: large,
    // thin GL lines rather than antialiased quads: far cheaper to draw for a large map
    edgeProgramClasses: large ? { line: EdgeLineProgram } : {},
    // one GL point per node rather than an instanced triangle: software WebGL (SwiftShader)
    // runs instanced draws one instance at a time; while the map moves, filled on the CPU into
    // one texture at half resolution, with no picking pass (lib/moving.ts, lib/splat.ts)
    nodeProgramClasses: large ? { circle: MovingPointProgram } : {},
    nodeHoverProgramClasses: large ? { circle: NodePointProgram } : {},
    hideEdgesOnMove: large,
    defaultEdgeColor: "#c3cad4",
    labelRenderedSizeThreshold: 7,
    labelFont: "system-ui, sans-serif",
  });
  pickLazily(renderer, large);
  if (large) quietLayers(renderer);
  renderer.on("clickNode", ({ node }) => focusOn(node));
  renderer.on("clickStage", () => focusOn(null));
  renderer.on("enterNode", ({ node }) => {
    hoverLine.textContent = map.nodes.name[Number(node)] || "";
    container.dataset.hover = map.nodes.id[Number(node)];
  });
  renderer.on("leaveNode", () => {
    hoverLine.textContent = "";
    container.dataset.hover = "";
  });
  const camera = renderer.getCamera();
  camera.on("updated", (state) => {
    container.dataset.ratio = state.ratio.toFixed(4);
    container.dataset.camera = `${state.x.toFixed(5)},${state.y.toFixed(5)}`;
  });
  renderer.once("afterRender", () => {
    const rendered = performance.now();
    const times = {
      fetch: fetched - started,
      render: rendered - fetched,
      build: mark - fetched,
      total: rendered,
    };
    (window as unknown as { __graphTimes: typeof times }).__graphTimes = times;
    container.dataset.ready = "1";
  });
  renderer.refresh();
  container.dataset.ratio = camera.ratio.toFixed(4);
  countShown();
  const small = map.hidden.small_groups;
  status.textContent =
    `${container.dataset.nodes} people and ${map.links.src.length} ties as of ${day(map.as_of)}` +
    (small ? ` (${small} groups under ${map.k_min} people not named)` : "") + ".";
  container.setAttribute("aria-busy", "false");
  firstLoad = false;
}

function zoom(by: "in" | "out" | "reset"): void {
  const camera = renderer?.getCamera();
  if (!camera) return;
  if (by === "in") void camera.animatedZoom({ duration: 200 });
  else if (by === "out") void camera.animatedUnzoom({ duration: 200 });
  else void camera.animatedReset({ duration: 200 });
}

function pan(dx: number, dy: number): void {
  const camera = renderer?.getCamera();
  if (!camera) return;
  const step = 0.1 * camera.ratio;
  void camera.animate({ x: camera.x + dx * step, y: camera.y + dy * step }, { duration: 150 });
}

for (const button of document.querySelectorAll<HTMLButtonElement>("[data-zoom]")) {
  button.addEventListener("click", () => zoom(button.dataset.zoom as "in" | "out" | "reset"));
}
container.addEventListener("keydown", (event: KeyboardEvent) => {
  const moves: Record<string, [number, number]> = {
    ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1],
  };
  if (event.key === "+" || event.key === "=") zoom("in");
  else if (event.key === "-") zoom("out");
  else if (event.key === "0") zoom("reset");
  else if (event.key === "Escape") focusOn(null);
  else if (event.key in moves) pan(...moves[event.key]);
  else return;
  event.preventDefault();
});
slider.addEventListener("input", () => {
  sliderText.textContent = day(Number(slider.value));
});
slider.addEventListener("change", () => void load());
sourceSelect.addEventListener("change", () => void load());
groupSelect.addEventListener("change", () => {
  groupFilter = groupSelect.value === "" ? null : Number(groupSelect.value);
  if (focus !== null && !visible(Number(focus))) focusOn(null);
  countShown();
  useReducers();
});
element<HTMLFormElement>("#filters").addEventListener("submit", (event) => event.preventDefault());
element<HTMLFormElement>("#find-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (data === null) return;
  const wanted = finder.value.trim().toLowerCase();
  const index = data.nodes.name.findIndex((name) => name.toLowerCase() === wanted);
  const partial = index >= 0 ? index : data.nodes.name.findIndex((name) => name.toLowerCase().includes(wanted));
  if (wanted && partial >= 0) focusOn(String(partial));
  else status.textContent = "Nobody of that name is on this map.";
});

// Where a node is drawn, in page pixels (for keyboard-less checks and the browser tests).
(window as unknown as { __graphNode: unknown }).__graphNode = (node: string, box: DOMRect) => {
  const shown = renderer?.getNodeDisplayData(node);
  if (!renderer || !shown) return null;
  const at = renderer.framedGraphToViewport(shown);
  return { x: box.x + at.x, y: box.y + at.y };
};

void load();
