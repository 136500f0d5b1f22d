// A large map drawn cheaply while its camera moves (a drag, the inertia after it, a zoom).
//
// Where a panning frame's time went (Chrome trace, CPU time of Chromium's processes, `perf` of
// the GPU process; headless Chromium with SwiftShader): the page's script takes well under a
// millisecond per frame; the rest is the GPU process, which composited every canvas layer (some
// 12 ms of CPU per full-size layer) and drew the 20,000 nodes twice (the picking pass and the
// visible pass) as GL points, at about a microsecond of CPU per point whatever its size. So
// while the camera moves:
//
// * the layers that sigma leaves empty then (ties with `hideEdgesOnMove`; labels and hovers with
//   `hideLabelsOnMove`) are taken out of the page's composition (`visibility: hidden`), and the
//   edge labels' layer, never drawn on this page, always is;
// * every node is drawn at its new place, once (no picking pass: nothing is picked while the map
//   moves, and the still frame after the move draws it again), at half the resolution (the
//   browser scales the canvas up without smoothing), as discs filled on the CPU into one texture
//   that the GPU process draws as a single quad (lib/splat.ts).
//
// The first still frame after the move draws the whole map as before: ties, labels, GL points at
// full resolution and the picking pass.
import type Sigma from "sigma";
import { NodePointProgram } from "sigma/rendering";
import type { RenderParams } from "sigma/types";
import { Splatter } from "./splat";

/** The nodes' resolution while the camera moves, as a share of the still resolution. */
export const MOVING_RESOLUTION = 0.5;

/** Sigma's own test of a moving camera (what `hideEdgesOnMove` and `hideLabelsOnMove` use). */
export function isMoving(renderer: Sigma): boolean {
  const mouse = renderer.getMouseCaptor();
  return (
    renderer.getCamera().isAnimated() ||
    mouse.isMoving ||
    mouse.draggedEvents > 0 ||
    mouse.currentWheelDirection !== 0
  );
}

/**
 * Sizes a canvas's drawing buffer to the render's pixel ratio (which clears it when it changes);
 * a canvas drawn below the page's resolution is scaled up without smoothing, which costs the
 * software compositor less.
 */
function fit(canvas: HTMLCanvasElement | OffscreenCanvas, params: RenderParams, still: boolean): void {
  // as sigma sizes its canvases (a width attribute of "1375.5px" reads as 1375)
  const width = Math.max(1, Math.floor(params.width * params.pixelRatio));
  const height = Math.max(1, Math.floor(params.height * params.pixelRatio));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const scaling = still ? "" : "pixelated";
  if (canvas instanceof HTMLCanvasElement && canvas.style.imageRendering !== scaling) {
    canvas.style.imageRendering = scaling;
  }
}

/**
 * Sigma's `NodePointProgram` (one GL point per node) that, while the camera moves, draws every
 * node at `MOVING_RESOLUTION` on the CPU into one texture (lib/splat.ts) instead of as GL points,
 * with no picking pass.
 */
export class MovingPointProgram extends NodePointProgram {
  /** Draws the moving frames (made on the first one). */
  private splatter: Splatter | null = null;

  render(params: RenderParams): void {
    const { gl } = this.normalProgram;
    if (!isMoving(this.renderer)) {
      fit(gl.canvas, params, true);
      super.render(params);
      return;
    }
    const scaled = { ...params, pixelRatio: params.pixelRatio * MOVING_RESOLUTION };
    fit(gl.canvas, scaled, false);
    this.splatter ??= new Splatter(gl);
    const points = {
      array: this.array,
      count: this.verticesCount,
      stride: this.STRIDE,
      matrix: params.matrix,
      sizeRatio: params.sizeRatio,
      pixelRatio: scaled.pixelRatio,
    };
    this.splatter.draw(points, gl.canvas.width, gl.canvas.height);
  }
}

/** Sigma's layers that are empty while the camera moves, under the renderer's settings. */
function emptyWhileMoving(renderer: Sigma): string[] {
  const empty: string[] = [];
  if (renderer.getSetting("hideEdgesOnMove")) empty.push("edges");
  if (renderer.getSetting("hideLabelsOnMove")) empty.push("labels", "hovers", "hoverNodes");
  return empty;
}

/**
 * Takes the layers that hold nothing out of the page's composition: the edge labels' layer when
 * edge labels are off, and, during each moving frame, the layers sigma leaves empty then.
 */
export function quietLayers(renderer: Sigma): void {
  const layers = renderer.getCanvases();
  if (!renderer.getSetting("renderEdgeLabels") && layers.edgeLabels) layers.edgeLabels.style.display = "none";
  let hidden = false;
  renderer.on("beforeRender", () => {
    const moving = isMoving(renderer);
    if (moving === hidden) return;
    hidden = moving;
    for (const id of emptyWhileMoving(renderer)) {
      const layer = layers[id];
      if (layer) layer.style.visibility = moving ? "hidden" : "";
    }
  });
}
