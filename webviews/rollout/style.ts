// The panel's look: VS Code's theme variables only (light, dark and high contrast alike), and a
// layout that reflows with the panel's width through container queries: from ~300 px (a card per
// backend) to a full editor (one line per backend). Words never break inside: addresses, headers
// and buttons keep to one line; only prose wraps, at spaces.
export const css = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 12px 16px; margin: 0; overflow-wrap: normal; word-break: normal; }
#app { container-type: inline-size; container-name: page; max-width: 1400px; }
h2 { font-size: 1.05em; font-weight: 600; margin: 14px 0 6px; }
.muted { color: var(--vscode-descriptionForeground); }
.small { font-size: 0.9em; }
.nowrap, [data-nowrap] { white-space: nowrap; }
.ellipsis { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.error { color: var(--vscode-errorForeground); }

/* header: title, then the buttons, which wrap as whole buttons */
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; margin: 10px 0 6px; }
.top h1 { font-size: 1.2em; font-weight: 600; margin: 0; flex: 1 1 12em; min-width: 0; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; }
.buttons vscode-button { white-space: nowrap; }

/* the outcome: a sentence with what serves now, then why, then what to do */
.banner { border-left: 4px solid var(--vscode-editorWidget-border, #8886); background: var(--vscode-editorWidget-background, transparent); padding: 8px 12px; margin: 8px 0; border-radius: 3px; }
.banner .sentence { font-size: 1.1em; font-weight: 600; }
.banner .detail { margin-top: 4px; white-space: pre-wrap; overflow-wrap: break-word; }
.banner .next { margin-top: 4px; }
.banner.good { border-left-color: var(--vscode-testing-iconPassed, #3a3); }
.banner.bad { border-left-color: var(--vscode-testing-iconFailed, #d33); }
.banner.warn { border-left-color: var(--vscode-editorWarning-foreground, #c90); }
.banner.info { border-left-color: var(--vscode-progressBar-background, #07f); }

.warnings { margin: 6px 0; padding: 0; list-style: none; }
.warnings li { margin: 2px 0; cursor: pointer; }
.warnings li::before { content: '⚠ '; color: var(--vscode-editorWarning-foreground, #c90); }
.warnings li.info::before { content: 'ℹ '; color: var(--vscode-editorInfo-foreground, #07f); }

/* configuration: a two-column list that stacks when narrow */
.summary { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 0; }
.summary dt { color: var(--vscode-descriptionForeground); white-space: nowrap; }
.summary dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
@container page (max-width: 420px) {
  .summary { grid-template-columns: minmax(0, 1fr); }
  .summary dd { margin-bottom: 4px; }
}
details.config > summary { cursor: pointer; color: var(--vscode-descriptionForeground); margin: 4px 0; }

.progress { height: 6px; border-radius: 3px; background: var(--vscode-editorWidget-border, #8884); margin: 6px 0 2px; overflow: hidden; }
.progress div { height: 100%; background: var(--vscode-progressBar-background, #07f); }
.progress.bad div { background: var(--vscode-testing-iconFailed, #d33); }

/* charts: side by side when there is room, stacked when not */
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px 16px; }
.chart h3 { font-size: 0.95em; font-weight: 600; margin: 4px 0; }
.chart svg { display: block; width: 100%; overflow: visible; }
.chart .axis { stroke: var(--vscode-charts-lines, #8886); stroke-width: 1; }
.chart .grid { stroke: var(--vscode-charts-lines, #8884); stroke-width: 1; stroke-dasharray: 2 3; opacity: 0.6; }
.chart text { fill: var(--vscode-descriptionForeground); font-size: 10px; font-family: var(--vscode-font-family); }
.chart .canary { stroke: var(--vscode-charts-orange, #d18616); fill: none; stroke-width: 2; }
.chart .baseline { stroke: var(--vscode-charts-blue, #3794ff); fill: none; stroke-width: 2; }
.chart .dot.canary { fill: var(--vscode-charts-orange, #d18616); stroke: none; }
.chart .dot.baseline { fill: var(--vscode-charts-blue, #3794ff); stroke: none; }
.chart .limit { stroke: var(--vscode-charts-red, #f14c4c); stroke-width: 1.5; stroke-dasharray: 5 3; fill: none; }
.chart text.limit-label { fill: var(--vscode-charts-red, #f14c4c); stroke: none; }
.chart .soak-end { stroke: var(--vscode-descriptionForeground); stroke-dasharray: 1 3; }
.chart .fail { fill: var(--vscode-charts-red, #f14c4c); }
.legend { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 0.9em; margin: 2px 0 6px; }
.legend > span { white-space: nowrap; }
.legend > span.note { white-space: normal; }
.swatch { display: inline-block; width: 14px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 4px; }
.swatch.canary { border-color: var(--vscode-charts-orange, #d18616); }
.swatch.baseline { border-color: var(--vscode-charts-blue, #3794ff); }
.swatch.limit { border-top: 2px dashed var(--vscode-charts-red, #f14c4c); }
.verdict { font-weight: 700; }
.verdict.fail { color: var(--vscode-testing-iconFailed, #d33); }
.verdict.pass { color: var(--vscode-testing-iconPassed, #3a3); }
.verdict.warn { color: var(--vscode-editorWarning-foreground, #c90); }
.verdict.pending { color: var(--vscode-descriptionForeground); }

/* backends: one line each when wide, two when medium, a card when narrow */
#backends { container-type: inline-size; container-name: rows; }
.bk-head, .bk-main { display: grid; gap: 2px 10px; align-items: center;
  grid-template-columns: minmax(10.5em, 1.1fr) minmax(10em, 1.6fr) minmax(7em, 1.3fr) 2.2em minmax(9em, 1.3fr);
  grid-template-areas: "addr prog now lb traffic"; }
.bk-head { color: var(--vscode-descriptionForeground); border-bottom: 1px solid var(--vscode-editorWidget-border, #8884); padding: 2px 4px; }
.bk-head span { white-space: nowrap; }
.bk { border-bottom: 1px solid var(--vscode-editorWidget-border, #8882); }
.bk-main { padding: 4px; cursor: pointer; }
.bk-main:hover { background: var(--vscode-list-hoverBackground); }
.bk-main:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.c-addr { grid-area: addr; display: flex; align-items: center; gap: 6px; min-width: 0; }
.c-prog { grid-area: prog; min-width: 0; }
.c-now { grid-area: now; min-width: 0; }
.c-lb { grid-area: lb; white-space: nowrap; }
.c-traffic { grid-area: traffic; font-variant-numeric: tabular-nums; min-width: 0; }
.addr { white-space: nowrap; font-variant-numeric: tabular-nums; }
.chev { display: inline-block; width: 1em; color: var(--vscode-descriptionForeground); transition: transform 0.1s; }
.bk.open .chev { transform: rotate(90deg); }
.canary-badge { font-size: 0.8em; padding: 0 5px; border-radius: 8px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); white-space: nowrap; }
.now.new { color: var(--vscode-testing-iconPassed, #3a3); }
.now.old { color: var(--vscode-foreground); }
.now.bad { color: var(--vscode-errorForeground); }
.now.busy { color: var(--vscode-progressBar-background, #07f); }
.now.none { color: var(--vscode-descriptionForeground); }
.row-error { grid-column: 1 / -1; color: var(--vscode-errorForeground); font-size: 0.9em; }
.bk-more { display: none; padding: 4px 8px 8px 24px; font-size: 0.9em; }
.bk.open .bk-more { display: block; }
.bk-more dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 1px 10px; margin: 0; }
.bk-more dt { color: var(--vscode-descriptionForeground); white-space: nowrap; }
.bk-more dd { margin: 0; min-width: 0; overflow-wrap: break-word; }
.lb-in { color: var(--vscode-testing-iconPassed, #3a3); }
.lb-out { color: var(--vscode-editorWarning-foreground, #c90); }

/* the step strip: one segment per step, named as the log names them (in the tooltip and beside it) */
.strip { display: flex; gap: 2px; height: 6px; margin: 2px 0 3px; max-width: 16em; }
.strip span { flex: 1; border-radius: 2px; background: var(--vscode-editorWidget-border, #8884); }
.strip span.done { background: var(--vscode-testing-iconPassed, #3a3); }
.strip span.running { background: var(--vscode-progressBar-background, #07f); }
.strip span.failed { background: var(--vscode-testing-iconFailed, #d33); }
.strip span.soak { flex: 1.6; }
.strip span.soak.pending-soak { background: transparent; outline: 1px dashed var(--vscode-editorWidget-border, #8886); outline-offset: -1px; }
.step { font-size: 0.9em; color: var(--vscode-descriptionForeground); }

@container rows (max-width: 700px) {
  .bk-head, .bk-main { grid-template-columns: minmax(9.5em, 1fr) minmax(8em, 1.2fr) 2.2em;
    grid-template-areas: "addr prog lb" "now traffic traffic"; }
  .bk-head .h-now, .bk-head .h-traffic { display: none; }
  .c-now:not(.none)::before { content: 'serves '; color: var(--vscode-descriptionForeground); }
}
@container rows (max-width: 430px) {
  .bk-head { display: none; }
  .bk-main { grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: "addr lb" "prog prog" "now now" "traffic traffic"; }
}

pre.log { max-height: 240px; overflow: auto; background: var(--vscode-textCodeBlock-background); padding: 6px; margin: 0; font-family: var(--vscode-editor-font-family); font-size: 0.9em; white-space: pre; }
.issues { padding-left: 18px; }
.issues li { margin: 4px 0; cursor: pointer; }
.issues li .where { color: var(--vscode-descriptionForeground); white-space: nowrap; }
.issues li:hover .msg { text-decoration: underline; }
`;
