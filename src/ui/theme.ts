/**
 * The page's colours, in one place: CSS custom properties (`--r1s-<name>`) set on <r1s-app> and
 * inherited by every element below it (shadow roots included), and the same values for canvas
 * and SVG drawings that need them as strings (uPlot series).
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
} as const;

export type PaletteName = keyof typeof PALETTE;

/** `--r1s-accent: #2457c5; ...` for every colour (kebab-case names). */
export const themeStyles = css`
  :host {
    ${unsafeCSS(Object.entries(PALETTE).map(([k, v]) => `--r1s-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${v};`).join('\n'))}
  }
`;
