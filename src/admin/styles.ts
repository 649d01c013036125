/**
 * The admin page's stylesheet, served as `/admin/assets/admin.css` (the Content-Security-Policy
 * allows styles from the page's own origin only, no inline styles). System fonts, no web fonts.
 */
export const ADMIN_CSS = `
:root {
  --ink: #1f2430; --muted: #5f6b7a; --line: #dfe3ea; --bg: #f6f7f9; --panel: #fff;
  --brand: #2f4d8f; --ok: #17663a; --ok-bg: #dcf3e4; --bad: #a32020; --bad-bg: #fbe2e2;
  --wait: #8a5a00; --wait-bg: #fdf0d5; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2a44; color: #fff; }
header.top .brand { font-weight: 700; font-size: 16px; letter-spacing: .2px; color: #fff; }
header.top nav { display: flex; gap: 4px; flex: 1; }
header.top nav a { color: #c9d3e6; padding: 6px 10px; border-radius: 6px; }
header.top nav a.active, header.top nav a:hover { background: #2f3f61; color: #fff; text-decoration: none; }
header.top .who { display: flex; align-items: center; gap: 10px; color: #c9d3e6; }
header.top .who form { margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 4px 0 16px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin-bottom: 16px; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .4px; color: var(--muted); }
tr:last-child td { border-bottom: 0; }
td.id, .mono { font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
td.reason { color: var(--bad); max-width: 360px; }
.muted { color: var(--muted); }
.chip { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.chip-ok { background: var(--ok-bg); color: var(--ok); }
.chip-bad { background: var(--bad-bg); color: var(--bad); }
.chip-wait { background: var(--wait-bg); color: var(--wait); }
.chip-muted { background: #e8ebf0; color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin-bottom: 14px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid #c6ccd6; border-radius: 6px; background: #fff; color: var(--ink); }
textarea { width: 100%; min-height: 70px; }
button, .button { font: inherit; font-weight: 600; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--brand); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.small { padding: 3px 10px; font-size: 12.5px; }
form.inline { display: inline; margin: 0; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.notice { padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; border: 1px solid; }
.notice.ok { background: var(--ok-bg); color: var(--ok); border-color: #a9dcbc; }
.notice.bad { background: var(--bad-bg); color: var(--bad); border-color: #f0b4b4; }
dl.facts { display: grid; grid-template-columns: 180px 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
pre.json { background: #0f1726; color: #e3e8f1; padding: 14px; border-radius: 8px; overflow: auto; max-height: 480px; font: 12.5px/1.5 var(--mono); margin: 0; white-space: pre; }
.pager { margin-top: 12px; display: flex; gap: 10px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
progress { width: 100%; height: 18px; }
.login { max-width: 380px; margin: 10vh auto; }
.login label { display: block; margin: 12px 0 4px; font-weight: 600; }
.login input { width: 100%; }
.login button { margin-top: 16px; width: 100%; }
.empty { padding: 24px; text-align: center; color: var(--muted); background: var(--panel); border: 1px dashed var(--line); border-radius: 8px; }
`;
