/**
 * <r1s-settings>: the settings of an RL stage that matter, each with its value, the recipe's
 * default, the paper's value and a one-line explanation (settings-info.ts). Each stage has its
 * own values (`s1.lr`, `s2.lr` in the URL: url-config.ts); the seed and the save interval are
 * shared by both stages and say so. Changes go into the URL at once (a link reproduces the run)
 * and take effect when the stage starts: a running stage keeps the settings it started with.
 *
 * Properties: `pg` (the Playground), `stage` (1 or 2).
 */
import { css, html, nothing } from 'lit';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import { SAVE_EVERY_INFO, SEED_INFO, SETTINGS_INFO, stepsInfo, type SettingInfo } from './settings-info.ts';
import { DEFAULT_PAGE_CONFIG, readPageConfig, STAGE_KEYS, stageValue, withStageValue, type PageConfig, type StageKey } from './url-config.ts';

const isStageKey = (k: keyof PageConfig): k is StageKey => (STAGE_KEYS as readonly string[]).includes(k);

export class R1sSettings extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, stage: { type: Number }, invalid: { state: true } };
  declare stage: 1 | 2;
  declare invalid: Partial<Record<keyof PageConfig, string>>;

  static override styles = [sharedStyles, css`
    .settings { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 17rem), 1fr)); gap: 0.6rem 1rem; }
    .setting { display: flex; flex-direction: column; gap: 0.15rem; }
    .setting label { font-weight: 600; }
    .setting input, .setting select { width: 10rem; }
    .help { font-size: 0.8rem; color: var(--r1s-muted); line-height: 1.3; }
    .bad { font-size: 0.8rem; }
  `];

  constructor() {
    super();
    this.stage = 1;
    this.invalid = {};
  }

  /** Parses through the URL reader, so the form accepts exactly what a link may hold. */
  private apply(key: keyof PageConfig, raw: string): void {
    const stage = this.stage;
    const name = isStageKey(key) ? `s${stage}.${key}` : key;
    const { config, errors } = readPageConfig(`?${new URLSearchParams({ [name]: raw })}`);
    if (errors.length) {
      this.invalid = { ...this.invalid, [key]: errors[0]! };
      return;
    }
    const { [key]: _gone, ...rest } = this.invalid;
    this.invalid = rest;
    const pg = this.pg!;
    if (isStageKey(key)) pg.setConfig({ stages: withStageValue(pg.config, stage, key, config.stages[stage][key] as never).stages });
    else pg.setConfig({ [key]: config[key] } as Partial<PageConfig>);
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const stage = this.stage;
    const locked = pg.running || (pg.stage === stage && pg.metrics[stage].length > 0 && !pg.stageDone(stage));
    const shown = SETTINGS_INFO.filter((s) => !s.stage || s.stage === stage);
    return html`
      ${locked ? html`<p class="note">Stage ${stage} started with these settings; they stay fixed until it is restarted.</p>` : nothing}
      <div class="settings">
        ${this.field(stepsInfo(stage), locked)}
        ${shown.map((s) => this.field(s, locked))}
        ${this.field(SEED_INFO, locked)}
        ${this.field(SAVE_EVERY_INFO, false)}
      </div>
      <p class="note">The other settings are this stage's own: changing them here leaves Stage ${stage === 1 ? 2 : 1}'s values as they are.</p>
      <div class="row" style="margin-top:0.5rem">
        <button class="secondary" @click=${() => pg.resetStageSettings(stage)} ?disabled=${locked}>Reset Stage ${stage} to the recipe's defaults</button>
      </div>`;
  }

  private field(s: SettingInfo, locked: boolean) {
    const pg = this.pg!;
    const id = `set-s${this.stage}-${s.key}`;
    const value = String(isStageKey(s.key) ? stageValue(pg.config, this.stage, s.key) : pg.config[s.key]);
    const def = String(DEFAULT_PAGE_CONFIG[s.key]);
    const err = this.invalid[s.key];
    return html`<div class="setting">
      <label for=${id}>${s.label}</label>
      ${s.kind === 'select'
        ? html`<select id=${id} ?disabled=${locked} @change=${(e: Event) => this.apply(s.key, (e.target as HTMLSelectElement).value)}>
            ${(s.options ?? []).map((o) => html`<option value=${o} ?selected=${o === value}>${o}</option>`)}</select>`
        : html`<input id=${id} type="number" ?disabled=${locked} .value=${value} min=${s.min ?? ''} max=${s.max ?? ''} step=${s.kind === 'int' ? 1 : s.step ?? 'any'}
            aria-describedby=${`${id}-help`} @change=${(e: Event) => this.apply(s.key, (e.target as HTMLInputElement).value)} />`}
      <span class="help" id=${`${id}-help`}>${s.help} Default ${def}; paper ${s.paper}.</span>
      ${err ? html`<span class="bad" role="alert">${err}</span>` : nothing}
    </div>`;
  }
}

customElements.define('r1s-settings', R1sSettings);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-settings': R1sSettings;
  }
}
