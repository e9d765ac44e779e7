// `--chart FILE.svg`: CPS over time (left) and the latency CDFs (right, log µs axis)
// as one self-contained SVG (no scripts, no external fonts).

export interface ChartSeries {
  label: string;
  color: string;
  points: Array<[number, number]>;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number): string => (v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(1)}`);

/** Renders both panels; `cps` are per-second samples per series, `cdf` (µs, fraction) points. */
export function renderChart(title: string, cps: ChartSeries[], cdf: ChartSeries[]): string {
  const W = 960, H = 420, pad = 56, gap = 48;
  const pw = (W - 2 * pad - gap) / 2, ph = H - 2 * pad;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);

  // Left: CPS over time.
  const x0 = pad, y0 = pad;
  const tMax = Math.max(1, ...cps.flatMap((s) => s.points.map((p) => p[0])));
  const cMax = niceMax(Math.max(1, ...cps.flatMap((s) => s.points.map((p) => p[1]))));
  const lx = (t: number) => x0 + (t / tMax) * pw;
  const ly = (c: number) => y0 + ph - (c / cMax) * ph;
  out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (let i = 0; i <= 4; i++) {
    const c = (cMax * i) / 4;
    out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${ly(c)}" y2="${ly(c)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${ly(c) + 4}" text-anchor="end">${fmt(c)}</text>`);
  }
  out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 36}" text-anchor="middle">time (s)</text>`);
  out.push(`<text x="${x0}" y="${y0 - 8}">connections per second</text>`);
  for (let i = 0; i <= 4; i++) {
    const t = (tMax * i) / 4;
    out.push(`<text x="${lx(t)}" y="${y0 + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  cps.forEach((s, k) => {
    if (s.points.length) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([t, c]) => `${lx(t).toFixed(1)},${ly(c).toFixed(1)}`).join(" ")}"/>`);
    out.push(`<text x="${x0 + 8}" y="${y0 + 16 + 16 * k}" fill="${s.color}">${esc(s.label)}</text>`);
  });

  // Right: latency CDF, log10 µs axis.
  const x1 = pad + pw + gap;
  const vals = cdf.flatMap((s) => s.points.map((p) => Math.max(1, p[0])));
  const lo = Math.floor(Math.log10(Math.max(1, Math.min(...(vals.length ? vals : [1])))));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(10, ...(vals.length ? vals : [10])))));
  const rx = (us: number) => x1 + ((Math.log10(Math.max(1, us)) - lo) / (hi - lo)) * pw;
  const ry = (f: number) => y0 + ph - f * ph;
  out.push(`<rect x="${x1}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (let e = lo; e <= hi; e++) {
    out.push(`<line x1="${rx(10 ** e)}" x2="${rx(10 ** e)}" y1="${y0}" y2="${y0 + ph}" stroke="#eee"/>`);
    out.push(`<text x="${rx(10 ** e)}" y="${y0 + ph + 18}" text-anchor="middle">${fmt(10 ** e)}</text>`);
  }
  for (const f of [0, 0.5, 0.9, 0.99, 1]) {
    out.push(`<line x1="${x1}" x2="${x1 + pw}" y1="${ry(f)}" y2="${ry(f)}" stroke="#eee"/>`);
    out.push(`<text x="${x1 - 6}" y="${ry(f) + 4}" text-anchor="end">${f}</text>`);
  }
  out.push(`<text x="${x1 + pw / 2}" y="${y0 + ph + 36}" text-anchor="middle">latency (µs, log scale)</text>`);
  out.push(`<text x="${x1}" y="${y0 - 8}">latency CDF</text>`);
  cdf.forEach((s, k) => {
    if (s.points.length) {
      const pts: string[] = [];
      let prev = 0;
      for (const [us, f] of s.points) {
        pts.push(`${rx(us).toFixed(1)},${ry(prev).toFixed(1)}`, `${rx(us).toFixed(1)},${ry(f).toFixed(1)}`);
        prev = f;
      }
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    }
    out.push(`<text x="${x1 + pw - 8}" y="${y0 + ph - 12 - 16 * k}" text-anchor="end" fill="${s.color}">${esc(s.label)}</text>`);
  });
  out.push(`</svg>\n`);
  return out.join("\n");
}
