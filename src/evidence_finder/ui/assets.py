"""CSS and the small client-side scripts of the web chat (no external resources)."""

from __future__ import annotations

# Delegated click handler: an [n] marker in the conversation asks the server to open that
# citation in the evidence panel. Only data attributes of our own links are read.
TRANSCRIPT_JS = """
element.addEventListener('click', (e) => {
  // in quote mode the whole quote opens its citation, not only its [n]
  const item = e.target.closest('.ef-quotes li');
  const a = e.target.closest('a.ef-cite') || (item && item.querySelector('a.ef-cite'));
  if (!a) return;
  e.preventDefault();
  // the panel may already show this card (closed by hand): then the server's re-render is
  // the same HTML and changes nothing, so open it here too
  const card = document.getElementById(`ef-ev-${Number(a.dataset.turn)}-${Number(a.dataset.n)}`);
  if (card) card.open = true;
  trigger('click', {turn: Number(a.dataset.turn), n: Number(a.dataset.n)});
});
watch('value', () => {
  // the newest answer in view: its start when it does not fit (a phone), else all of it
  const turns = element.querySelectorAll('.ef-turn');
  if (!turns.length) return;
  const last = turns[turns.length - 1];
  const bot = last.querySelector('.ef-bot') || last;
  const r = bot.getBoundingClientRect();
  if (r.height > window.innerHeight * 0.8) bot.scrollIntoView({block: 'start'});
  else last.scrollIntoView({block: 'nearest'});
});
"""

# Copy buttons (clipboard API where allowed, a hidden textarea otherwise) and bringing the
# opened citation into view.
EVIDENCE_JS = """
const copy = async (text) => {
  try { await navigator.clipboard.writeText(text); return; } catch (err) { /* fall back */ }
  const ta = document.createElement('textarea');
  ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
  document.body.appendChild(ta); ta.select();
  try { document.execCommand('copy'); } finally { ta.remove(); }
};
element.addEventListener('click', async (e) => {
  const b = e.target.closest('button.ef-copy');
  if (!b) return;
  e.preventDefault();
  await copy(b.dataset.copy || '');
  if (!b.dataset.label) b.dataset.label = b.textContent;
  b.textContent = b.dataset.done || 'OK';
  b.classList.add('ef-done');
  setTimeout(() => { b.textContent = b.dataset.label; b.classList.remove('ef-done'); }, 1600);
});
watch('value', () => {
  // only a citation the user opened is brought into view, title first; a new answer's
  // evidence must not pull the page away from the answer (on a phone it sits below it)
  const card = element.querySelector('.ef-evidence[data-opened] .ef-selected');
  if (card) card.scrollIntoView({block: 'start', behavior: 'smooth'});
});
"""

CSS = """
.gradio-container { max-width: 1320px !important; }
#ef-header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; }
#ef-header h1 { margin: 0; font-size: 1.55rem; font-weight: 650; letter-spacing: -0.01em; }
#ef-header p { margin: 0; color: var(--body-text-color-subdued); }
#ef-lang { max-width: 260px; margin-left: auto; }
.ef-banner { border-radius: 8px; padding: 10px 14px; background: #fff7e6; border: 1px solid #f5c26b;
  color: #6b4500; }
.ef-chat { display: flex; flex-direction: column; gap: 14px; padding: 4px 2px; }
.ef-chat.ef-empty, .ef-evidence.ef-empty { color: var(--body-text-color-subdued); padding: 18px 8px; }
.ef-msg { border-radius: 10px; padding: 10px 14px; line-height: 1.55; }
.ef-msg p { margin: 0 0 0.55em 0; }
.ef-msg p:last-child { margin-bottom: 0; }
.ef-msg ul { margin: 0.2em 0 0.4em 1.2em; padding: 0; }
.ef-msg li { margin: 0.25em 0; }
.ef-who { font-size: 0.75rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color-subdued); margin-bottom: 4px; }
.ef-user { background: var(--background-fill-secondary); align-self: flex-end; max-width: 85%; }
.ef-bot { background: var(--background-fill-primary); border: 1px solid var(--border-color-primary); }
a.ef-cite { color: var(--color-accent); font-weight: 600; text-decoration: none; cursor: pointer;
  padding: 0 1px; }
a.ef-cite:hover { text-decoration: underline; }
.ef-cites { white-space: nowrap; font-size: 0.9em; }
.ef-chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
a.ef-chip { font-weight: 500; font-size: 0.82rem; border: 1px solid var(--border-color-primary);
  border-radius: 999px; padding: 2px 10px; background: var(--background-fill-secondary); }
.ef-foot { margin-top: 8px; font-size: 0.78rem; color: var(--body-text-color-subdued); }
.ef-reading { color: #374151; font-size: 0.92em; margin-bottom: 6px; }
.ef-notice { background: #eef5ff; border-left: 3px solid #3b82f6; padding: 6px 10px; margin-bottom: 8px;
  border-radius: 4px; font-size: 0.9rem; }
.ef-abstain { background: #fff7e6; border-left: 3px solid #f59e0b; padding: 6px 10px; margin-bottom: 8px;
  border-radius: 4px; font-size: 0.9rem; }
.ef-error { background: #fdecec; border-left: 3px solid #dc2626; padding: 8px 10px; border-radius: 4px;
  color: #7f1d1d; white-space: pre-wrap; }
.ef-thinking { color: var(--body-text-color-subdued); font-style: italic; }
.ef-streaming::after { content: "▍"; animation: ef-blink 1s steps(1) infinite; }
@keyframes ef-blink { 50% { opacity: 0; } }
.ef-evidence { display: flex; flex-direction: column; gap: 8px; }
.ef-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
  background: var(--background-fill-primary); }
.ef-card.ef-selected { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.ef-card summary { cursor: pointer; list-style: none; display: grid; grid-template-columns: auto 1fr;
  column-gap: 8px; row-gap: 2px; }
.ef-card summary::-webkit-details-marker { display: none; }
.ef-n { grid-row: span 3; background: var(--color-accent); color: white; border-radius: 6px;
  min-width: 22px; height: 22px; display: inline-flex; align-items: center; justify-content: center;
  font-size: 0.8rem; font-weight: 600; }
.ef-title { font-weight: 600; }
.ef-meta { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.ef-quote { font-size: 0.88rem; color: var(--body-text-color); }
.ef-card[open] .ef-quote { display: none; }
.ef-context { margin-top: 8px; padding: 8px 10px; background: var(--background-fill-secondary);
  border-radius: 6px; line-height: 1.55; font-size: 0.92rem; white-space: pre-wrap; }
.ef-around { color: var(--body-text-color-subdued); }
mark.ef-span { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.ef-quotes li { cursor: pointer; }
.ef-quotes li:hover { background: var(--background-fill-secondary); border-radius: 4px; }
.ef-where { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 6px 0 0 0; font-size: 0.85rem; }
.ef-where > div { display: flex; gap: 4px; }
.ef-where dt { color: var(--body-text-color-subdued); }
.ef-where dt::after { content: ":"; }
.ef-where dd { margin: 0; }
.ef-actions { display: flex; align-items: center; gap: 10px; margin-top: 8px; }
button.ef-copy { font-size: 0.8rem; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 2px 10px; background: var(--background-fill-secondary); cursor: pointer; }
button.ef-copy.ef-done { border-color: #16a34a; color: #166534; }
.ef-docid { font-size: 0.75rem; color: var(--body-text-color-subdued); font-family: var(--font-mono); }
.ef-examples button { font-size: 0.82rem !important; }
#ef-transcript { min-height: 320px; }
/* Gradio writes 'Drop File Here' in the browser's language: show ours, in the interface's */
#ef-upload [data-testid="upload-text"] { font-size: 0; }
#ef-upload [data-testid="upload-text"] > :not(.icon-wrap) { display: none; }
#ef-upload [data-testid="upload-text"]::after { content: var(--ef-upload-drop, ""); font-size: var(--text-lg);
  line-height: 1.4; display: block; }
/* Phones: one column, so the transcript and the evidence grow with the page instead of
   scrolling inside it (a swipe there would scroll the box, not the page) */
@media (max-width: 760px) {
  #ef-transcript, #ef-evidence, #ef-transcript .html-container, #ef-evidence .html-container {
    max-height: none !important; overflow: visible !important; }
  #ef-transcript { min-height: 0; }
  .ef-card summary { grid-template-columns: auto minmax(0, 1fr); }
  .ef-title { overflow-wrap: anywhere; }
  .ef-user { max-width: 100%; }
}
.ef-confirm { font-weight: 600; color: #7f1d1d; margin: 6px 0; }
.ef-status-ok { color: #166534; }
.ef-status-err { color: #7f1d1d; }
"""
