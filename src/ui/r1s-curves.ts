/**
 * <r1s-curves>: per-step training curves drawn with uPlot.
 *
 * Properties: `points` (one object per step), `series` (which numeric fields to draw, with a
 * label, colour, dash and markers), `label` (the chart's accessible name), `height` (pixels),
 * `emptyNote` (shown instead of an empty plot when no series has a finite value, e.g. a KL that
 * is not computed). Redraws when `points` changes.
 */
import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { PALETTE } from './theme.ts';

export interface CurveSeries {
  /** Field of each point. */
  key: string;
  label: string;
  color: string;
  /** Dash pattern in pixels (e.g. [6, 4]), so series that lie on top of each other stay distinguishable. */
  dash?: number[];
  /** Marker at every point (drawn over the line). */
  marker?: boolean;
}

export class R1sCurves extends LitElement {
  static override properties = {
    points: { attribute: false },
    series: { attribute: false },
    label: { type: String },
    height: { type: Number },
    range: { attribute: false },
    emptyNote: { type: String },
  };
  /** Why the chart is empty when every value is missing (the plot is hidden then). */
  declare emptyNote: string;

  declare points: Record<string, number>[];
  declare series: CurveSeries[];
  declare label: string;
  /** Plot height in pixels. */
  declare height: number;
  /** Fixed y range (e.g. [0, 1] for rates); null scales to the data. */
  declare range: [number, number] | null;
  private plot: uPlot | null = null;
  private resize = new ResizeObserver(() => this.fit());

  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host { display: block; min-height: 120px; }
      .chart { width: 100%; }
      .empty { color: var(--r1s-muted-soft); font-size: 0.9rem; padding: 1rem 0; }
      .u-legend { font-size: 0.78rem; }
      .u-legend th { padding: 0 0.3rem; }
      .x-label { font-size: 0.72rem; color: var(--r1s-muted-soft); text-align: right; margin-top: -0.2rem; }
    `,
  ];

  constructor() {
    super();
    this.points = [];
    this.series = [];
    this.label = 'training curves';
    this.height = 200;
    this.range = null;
    this.emptyNote = '';
  }

  /** Steps exist but no series has a finite value. */
  private get allMissing(): boolean {
    return this.points.length > 0 && !this.points.some((p) => this.series.some((s) => Number.isFinite(p[s.key])));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  override render() {
    const hide = this.allMissing && this.emptyNote !== '';
    return html`<div class="chart" role="img" aria-label=${this.label} ?hidden=${hide}></div>
      ${this.points.length && !hide ? html`<div class="x-label">x: step</div>` : ''}
      ${this.points.length === 0 ? html`<div class="empty">No steps yet.</div>` : ''}
      ${hide ? html`<div class="empty">${this.emptyNote}</div>` : ''}`;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('series') || changed.has('range') || changed.has('height')) {
      this.plot?.destroy();
      this.plot = null;
    }
    this.draw();
  }

  private data(): uPlot.AlignedData {
    const x = this.points.map((p) => p.step ?? 0);
    return [x, ...this.series.map((s) => this.points.map((p) => (Number.isFinite(p[s.key]) ? p[s.key]! : null)))] as uPlot.AlignedData;
  }

  private draw(): void {
    const el = this.renderRoot.querySelector<HTMLElement>('.chart');
    if (!el) return;
    if (this.points.length === 0) {
      // A restarted stage has no steps yet: drop the old plot rather than keep its lines.
      this.plot?.destroy();
      this.plot = null;
      return;
    }
    if (!this.plot) {
      this.plot = new uPlot(
        {
          width: Math.max(200, el.clientWidth || 600),
          height: this.height,
          scales: { x: { time: false }, ...(this.range ? { y: { range: this.range } } : {}) },
          // Steps are whole numbers: no ticks at 1.2, 1.4, ...
          axes: [{ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], size: 30 }, { size: 46 }],
          legend: { live: false },
          series: [{ label: 'step' }, ...this.series.map((s) => ({
            label: s.label, stroke: s.color, width: 2, ...(s.dash ? { dash: s.dash } : {}),
            points: s.marker ? { show: true, size: 6, stroke: s.color, fill: PALETTE.surface, width: 1.5 } : { show: false },
          }))],
        },
        this.data(),
        el,
      );
    } else this.plot.setData(this.data());
  }

  private fit(): void {
    const el = this.renderRoot.querySelector<HTMLElement>('.chart');
    if (this.plot && el && el.clientWidth > 0) this.plot.setSize({ width: el.clientWidth, height: this.height });
  }
}

customElements.define('r1s-curves', R1sCurves);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-curves': R1sCurves;
  }
}
