/**
 * <r1s-curves>: per-step training curves drawn with uPlot.
 *
 * Properties: `points` (one object per step), `series` (which numeric fields to draw, with a
 * label and colour), `label` (the chart's accessible name), `height` (pixels). Redraws when
 * `points` changes.
 */
import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';

export interface CurveSeries {
  /** Field of each point. */
  key: string;
  label: string;
  color: string;
}

export class R1sCurves extends LitElement {
  static override properties = {
    points: { attribute: false },
    series: { attribute: false },
    label: { type: String },
    height: { type: Number },
    range: { attribute: false },
  };

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
      .empty { color: #667; font-size: 0.9rem; padding: 1rem 0; }
    `,
  ];

  constructor() {
    super();
    this.points = [];
    this.series = [];
    this.label = 'training curves';
    this.height = 200;
    this.range = null;
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
    return html`<div class="chart" role="img" aria-label=${this.label}></div>
      ${this.points.length === 0 ? html`<div class="empty">No steps yet.</div>` : ''}`;
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
    const el = this.renderRoot.querySelector('.chart') as HTMLElement | null;
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
          axes: [{ label: 'step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, {}],
          legend: { live: false },
          series: [{ label: 'step' }, ...this.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
        },
        this.data(),
        el,
      );
    } else this.plot.setData(this.data());
  }

  private fit(): void {
    const el = this.renderRoot.querySelector('.chart') as HTMLElement | null;
    if (this.plot && el && el.clientWidth > 0) this.plot.setSize({ width: el.clientWidth, height: this.height });
  }
}

customElements.define('r1s-curves', R1sCurves);
