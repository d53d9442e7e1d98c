/**
 * <r1s-bars>: a grouped bar chart in plain SVG (Lit `svg` templates, no HTML from data): one
 * group per category (e.g. question template), one bar per series (e.g. evaluation mode).
 * Values are in [0, 1] (rates). The numbers themselves are in the table beside it.
 *
 * Properties: `groups` (category labels), `series` ({ label, color, values }[] with one value
 * per group; NaN for none), `label` (the chart's accessible name).
 */
import { LitElement, css, html, svg } from 'lit';

/** One series of bars: a label, a colour, one value in [0, 1] per group (NaN: no bar). */
export interface BarSeries {
  label: string;
  color: string;
  values: number[];
}

export class R1sBars extends LitElement {
  static override properties = { groups: { attribute: false }, series: { attribute: false }, label: { type: String } };
  declare groups: string[];
  declare series: BarSeries[];
  declare label: string;

  static override styles = css`
    :host { display: block; }
    /* Scales down to the width there is (a 768 px tablet sees the whole chart, never a clipped part). */
    svg { font: 11px system-ui, sans-serif; width: 100%; height: auto; display: block; }
    .legend { display: flex; flex-wrap: wrap; gap: 0.8rem; font-size: 0.8rem; margin-bottom: 0.3rem; }
    .rule { stroke: var(--r1s-line-grid); }
    .tick { fill: var(--r1s-muted); }
    .group { fill: var(--r1s-ink-soft); }
    .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.25rem; vertical-align: -0.1rem; }
  `;

  constructor() {
    super();
    this.groups = [];
    this.series = [];
    this.label = 'bar chart';
  }

  override render() {
    const G = this.groups.length, S = Math.max(1, this.series.length);
    if (G === 0) return html``;
    const bar = 12, gap = 18, left = 34, top = 8, plotH = 140, bottom = 90;
    const groupW = S * bar + gap;
    const W = left + G * groupW + 10, H = top + plotH + bottom;
    const y = (v: number) => top + plotH * (1 - Math.max(0, Math.min(1, v)));
    return html`
      <div class="legend">${this.series.map((s) => html`<span><span class="swatch" style="background:${s.color}"></span>${s.label}</span>`)}</div>
      <svg style=${`max-width: ${W}px`} viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.label}>
        <title>${this.label}</title>
        ${[0, 0.25, 0.5, 0.75, 1].map((t) => svg`<line x1=${left} x2=${W - 10} y1=${y(t)} y2=${y(t)} class="rule" />
          <text x=${left - 4} y=${y(t) + 4} class="tick" text-anchor="end">${t}</text>`)}
        ${this.groups.map((g, gi) => {
          const x0 = left + gi * groupW + gap / 2;
          return svg`${this.series.map((s, si) => {
            const v = s.values[gi] ?? NaN;
            return Number.isFinite(v)
              ? svg`<rect x=${x0 + si * bar} y=${y(v)} width=${bar - 2} height=${Math.max(0.5, y(0) - y(v))} fill=${s.color}><title>${`${g}, ${s.label}: ${v.toFixed(3)}`}</title></rect>`
              : svg``;
          })}
          <text transform="translate(${x0 + (S * bar) / 2}, ${top + plotH + 8}) rotate(40)" class="group" text-anchor="start">${g}</text>`;
        })}
      </svg>`;
  }
}

customElements.define('r1s-bars', R1sBars);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-bars': R1sBars;
  }
}
