/**
 * Base class of the page's elements that show the {@link Playground}: it takes the playground
 * as the `pg` property and redraws whenever it reports a change. Not a custom element itself.
 */
import { LitElement, css } from 'lit';
import type { Playground } from './playground.ts';

export class PlaygroundElement extends LitElement {
  static override properties = { pg: { attribute: false } };
  declare pg: Playground | null;
  private readonly onChange = () => this.requestUpdate();
  private watched: Playground | null = null;

  constructor() {
    super();
    this.pg = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.watch();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.watched?.removeEventListener('change', this.onChange);
    this.watched = null;
  }

  protected override willUpdate(): void {
    this.watch();
  }

  private watch(): void {
    if (this.watched === this.pg) return;
    this.watched?.removeEventListener('change', this.onChange);
    this.watched = this.isConnected ? this.pg : null;
    this.watched?.addEventListener('change', this.onChange);
  }
}

/** Styles shared by the page's elements: sections, buttons, forms, tables, alerts. */
export const sharedStyles = css`
  :host { display: block; }
  h2 { font-size: 1.15rem; margin: 0 0 0.4rem; }
  h3 { font-size: 1rem; margin: 0.8rem 0 0.4rem; }
  p { margin: 0.3rem 0 0.6rem; }
  .explain { color: var(--r1s-ink-soft); max-width: 72ch; line-height: 1.45; }
  .note { color: var(--r1s-muted); font-size: 0.86rem; }
  section, .card { background: var(--r1s-surface); border: 1px solid var(--r1s-line); border-radius: 8px; padding: 0.8rem 1rem; margin-bottom: 1rem; }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 320px), 1fr)); gap: 1rem; }
  button { font: inherit; font-size: 0.92rem; padding: 0.35rem 0.85rem; border-radius: 6px; border: 1px solid var(--r1s-accent); background: var(--r1s-accent); color: var(--r1s-surface); cursor: pointer; }
  button.secondary { background: var(--r1s-surface); color: var(--r1s-accent); }
  button.danger { background: var(--r1s-surface); color: var(--r1s-red); border-color: var(--r1s-red); }
  button:disabled { opacity: 0.45; cursor: default; }
  button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--r1s-focus); outline-offset: 2px; }
  input, select, textarea { font: inherit; font-size: 0.92rem; padding: 0.25rem 0.4rem; border: 1px solid var(--r1s-line-input); border-radius: 5px; background: var(--r1s-surface); color: inherit; }
  label { font-size: 0.9rem; }
  .alert { background: var(--r1s-alert-bg); border: 1px solid var(--r1s-alert-border); color: var(--r1s-alert-ink); padding: 0.45rem 0.7rem; border-radius: 6px; margin: 0.4rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .ok-box { background: var(--r1s-ok-bg); border: 1px solid var(--r1s-ok-border); color: var(--r1s-ok-ink); padding: 0.45rem 0.7rem; border-radius: 6px; margin: 0.4rem 0; }
  table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
  td, th { padding: 0.2rem 0.55rem; text-align: right; border-bottom: 1px solid var(--r1s-line-faint); vertical-align: top; }
  th { font-weight: 600; color: var(--r1s-ink-soft); }
  th:first-child, td:first-child, .left { text-align: left; }
  .scroll { overflow-x: auto; max-width: 100%; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.82rem; overflow-wrap: anywhere; }
  .ok { color: var(--r1s-green); } .bad { color: var(--r1s-red); }
  .muted { color: var(--r1s-muted-faint); }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
