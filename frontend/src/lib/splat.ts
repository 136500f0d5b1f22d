// Nodes drawn on the CPU into one texture, shown with one textured quad.
//
// Software WebGL (SwiftShader) spends about a microsecond of CPU per GL point, whatever its size,
// so 20,000 nodes cost some 20 ms of the GPU process per frame. Filling the same discs into a
// pixel array here costs the page a few milliseconds, and the GPU process then draws a single
// quad. Used for the frames where the camera moves, drawn at half resolution (lib/moving.ts).

const VERTEX = `
attribute vec2 a_corner;
varying vec2 v_uv;
void main() {
  v_uv = a_corner * 0.5 + 0.5;
  gl_Position = vec4(a_corner, 0.0, 1.0);
}`;

const FRAGMENT = `
precision mediump float;
uniform sampler2D u_image;
varying vec2 v_uv;
void main() {
  gl_FragColor = texture2D(u_image, v_uv);
}`;

/** Where the nodes are and how they are drawn, as sigma's point program holds them. */
export interface Points {
  /** Per node `stride` floats: x, y (framed graph), size, colour (packed RGBA bytes), id. */
  array: Float32Array;
  count: number;
  stride: number;
  /** Sigma's camera matrix (column-major 3x3, framed graph to clip space). */
  matrix: Float32Array;
  sizeRatio: number;
  pixelRatio: number;
}

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (shader === null) throw new Error("splat: no shader");
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`splat: ${gl.getShaderInfoLog(shader) ?? "shader did not compile"}`);
  }
  return shader;
}

/** Draws points as opaque discs into a GL context's default framebuffer, filled on the CPU. */
export class Splatter {
  private readonly program: WebGLProgram;
  private readonly corners: WebGLBuffer;
  private readonly texture: WebGLTexture;
  private readonly corner: number;
  private readonly image: WebGLUniformLocation | null;
  private pixels = new Uint32Array(0);
  private width = 0;
  private height = 0;

  constructor(private readonly gl: WebGLRenderingContext) {
    const program = gl.createProgram();
    const corners = gl.createBuffer();
    const texture = gl.createTexture();
    if (program === null || corners === null || texture === null) throw new Error("splat: no GL");
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error("splat: no link");
    this.program = program;
    this.corners = corners;
    this.texture = texture;
    this.corner = gl.getAttribLocation(program, "a_corner");
    this.image = gl.getUniformLocation(program, "u_image");
    gl.bindBuffer(gl.ARRAY_BUFFER, corners);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.bindTexture(gl.TEXTURE_2D, null);
  }

  /** Fills the discs into the pixel array (rows bottom-up, as GL reads a texture). */
  private fill(points: Points, width: number, height: number): void {
    const pixels = this.pixels;
    pixels.fill(0);
    const { array, stride, matrix: m } = points;
    const colours = new Uint32Array(array.buffer, array.byteOffset, array.length);
    const scale = points.pixelRatio / points.sizeRatio;
    for (let i = 0, at = 0; i < points.count; i++, at += stride) {
      const size = array[at + 2];
      const packed = colours[at + 3];
      if (!(size > 0) || packed >>> 24 === 0) continue; // hidden (sigma zeroes them)
      const colour = (packed | 0xff000000) >>> 0; // this page's colours are opaque
      const x = array[at];
      const y = array[at + 1];
      const px = ((m[0] * x + m[3] * y + m[6] + 1) / 2) * width;
      const py = ((m[1] * x + m[4] * y + m[7] + 1) / 2) * height;
      const radius = size * scale;
      const top = Math.max(0, Math.floor(py - radius));
      const bottom = Math.min(height - 1, Math.floor(py + radius));
      for (let row = top; row <= bottom; row++) {
        const dy = row + 0.5 - py;
        const reach = radius * radius - dy * dy;
        let from: number;
        let to: number;
        if (reach > 0) {
          const half = Math.sqrt(reach);
          from = Math.max(0, Math.round(px - half));
          to = Math.min(width, Math.round(px + half));
        } else {
          from = 0;
          to = 0;
        }
        if (to <= from && row === Math.floor(py)) {
          // a node smaller than a pixel still shows as one
          from = Math.floor(px);
          to = from + 1;
          if (from < 0 || from >= width) continue;
        }
        if (to > from) pixels.fill(colour, row * width + from, row * width + to);
      }
    }
  }

  /** Draws the points over the context's (cleared) default framebuffer of `width` x `height`. */
  draw(points: Points, width: number, height: number): void {
    const gl = this.gl;
    if (width !== this.width || height !== this.height) {
      this.width = width;
      this.height = height;
      this.pixels = new Uint32Array(width * height);
    }
    this.fill(points, width, height);
    const bytes = new Uint8Array(this.pixels.buffer);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, width, height);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, bytes);
    gl.useProgram(this.program);
    gl.uniform1i(this.image, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.corners);
    gl.enableVertexAttribArray(this.corner);
    gl.vertexAttribPointer(this.corner, 2, gl.FLOAT, false, 0, 0);
    gl.disable(gl.BLEND); // opaque discs on a cleared canvas
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.enable(gl.BLEND);
    gl.disableVertexAttribArray(this.corner);
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    gl.bindTexture(gl.TEXTURE_2D, null);
  }
}
