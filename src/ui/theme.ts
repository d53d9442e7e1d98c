/**
 * The page's colours, in one place: CSS custom properties (`--r1s-<name>`) set on <r1s-app> and
 * inherited by every element below it (shadow roots included), and the same values for canvas
 * and SVG drawings that need them as strings (uPlot series, bar colours). No other file of
 * src/ui spells a colour: styles use `var(--r1s-<name>)`, drawings PALETTE.
 */
import { css, unsafeCSS } from 'lit';

export const PALETTE = {
  /** Actions, links, the reward curve, positive advantages. */
  accent: '#2457c5',
  accentSoft: '#e8effc',
  ink: '#1d2330',
  muted: '#556',
  line: '#dde1e8',
  green: '#1a7f37',
  amber: '#9a6700',
  red: '#b42318',
  purple: '#7a3db8',
  teal: '#0a7ea4',
  grey: '#6e7781',
  violet: '#6e40c9',
  focus: '#f0b400',
  /** Token heat-map: positive and negative advantage at full strength. */
  advPositive: '#1f6feb',
  advNegative: '#d1242f',
  /** More chart series (the evaluation's bars). */
  pink: '#bf3989',
  slate: '#57606a',

  // Text, darkest first (ink and muted above).
  /** Explanations, table heads, legends, labels in drawings. */
  inkSoft: '#34405a',
  /** Secondary text: facts, file lists, captions. */
  inkDim: '#445',
  /** Labels of prompts and documents, empty states. */
  mutedSoft: '#667',
  /** The faintest text (`.muted`, an empty completion). */
  mutedFaint: '#778',

  // Surfaces.
  /** Cards, inputs, secondary buttons, and text on the accent. */
  surface: '#fff',
  /** Drop zones. */
  surfaceDrop: '#fafbfc',
  /** The token tape. */
  surfaceTape: '#fbfcfd',
  /** A supporting-facts row. */
  surfaceAlt: '#f7f8fa',

  // Lines (line above is the default border).
  /** Boxes, chips, swatches, the step pager. */
  lineStrong: '#c9ced8',
  /** Inputs and the left rule of document blocks. */
  lineInput: '#b9c2d0',
  /** The dashed border of drop zones. */
  lineDrop: '#9aa6b8',
  /** Table rows. */
  lineFaint: '#eef0f3',
  /** Chart grid lines. */
  lineGrid: '#e3e6eb',
  /** Tokens outside the loss in the heat-map. */
  lineHeat: '#e1e4ea',
  /** Arrows of the RL-step drawing. */
  arrow: '#8a93a3',

  // Tints of the accent.
  /** A drop target, the current row. */
  accentPale: '#eef4ff',
  /** A search call. */
  accentWash: '#f5f8fe',
  /** Borders of accent-soft boxes. */
  accentBorder: '#c5d5f5',
  /** Stripes of a lit documents box. */
  accentHatch: '#b8cbf2',

  // Highlights, notices, alerts.
  /** A selected row, the pinned-step chip. */
  selected: '#fff6d6',
  /** Notices that ask for a choice (resume, confirm). */
  notice: '#fff8e1',
  noticeBorder: '#f0d48a',
  /** Search matches in corpus text. */
  mark: '#ffe27a',
  alertBg: '#fdecea',
  alertBorder: '#f5c2bd',
  alertInk: '#8a1c12',
  okBg: '#e9f6ec',
  okBorder: '#b7dfc0',
  okInk: '#1a5c2b',
  /** A done mark on the accent. */
  okOnAccent: '#c8f0d2',

  // Tokens and documents.
  /** Background of tag tokens. */
  tagSoft: '#f1eafb',
  /** Background of prompt tokens. */
  promptSoft: '#f0f1f3',
  /** Stripes of spliced documents (the swatch uses the darker second stripe). */
  docStripe: '#eef1f5',
  docStripeAlt: '#e6eaf0',
  docStripeSwatch: '#d9dee6',
  /** Stripes of the documents box in the RL-step drawing. */
  hatch: '#f3f5f8',
  hatchLine: '#d3d9e2',
} as const;

export type PaletteName = keyof typeof PALETTE;

/** `--r1s-accent: #2457c5; ...` for every colour (kebab-case names). */
export const themeStyles = css`
  :host {
    ${unsafeCSS(Object.entries(PALETTE).map(([k, v]) => `--r1s-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${v};`).join('\n'))}
  }
`;
