// The page by keyboard, within 5 Tab stops of the caption: Continue, Back, the timeline, the
// clock's toolbar (one Tab stop, arrows inside) and the ring's nodes (one Tab stop, arrows
// inside; Enter opens a node's actions, arrows move between them). The toolbar's last
// control, "⋯", opens a menu of every other control of the page, section by section: Enter
// (or →) opens a section, listing each of its controls, and Enter on one goes to it (opening
// its folded card first). The menu is built from the page as it is when opened, so a control
// added to a card is in it without a list to keep up to date.

const $ = (id) => document.getElementById(id);

/** The sections of the "⋯" menu: a name and the element whose controls it lists. */
const SECTIONS = [
  ['Guided scenarios', '#scenarios-card'],
  ['Faults', '#faults-card'],
  ['Cluster set-up', '#setup-card'],
  ['Key, versions and requests', '#key-card'],
  ['Merkle trees', '#merkle-card'],
  ['Log', '#log-card'],
  ['How to read this page', '#glossary'],
  ['Mode and other pages', 'header.top nav'],
];

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';

/** Every control inside `root` a keyboard user may want: what is hidden away (a hidden card) or dynamic per message (log lines) is left out. */
export function controlsOf(root) {
  if (!root || root.hidden) return [];
  // Shown, or folded in a card that is (going to it unfolds the card).
  const shown = (el) => el.checkVisibility() || el.closest('details:not([open])')?.checkVisibility();
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => !el.disabled && el.tabIndex >= -1
    && !el.closest('[hidden]') && !el.closest('#log li') && shown(el));
}

/** A short name for a control, as a screen reader would read it. */
function nameOf(el) {
  const aria = el.getAttribute('aria-label');
  if (aria) return aria;
  const byFor = el.id && document.querySelector(`label[for="${el.id}"]`);
  if (byFor) return byFor.textContent.trim();
  const wrap = el.closest('label');
  if (wrap) return wrap.textContent.trim().replace(/\s+/g, ' ');
  if (el.id === 'log') return 'Message log (arrows: its lines)';
  const text = el.querySelector?.('.t')?.textContent ?? el.textContent;
  const name = (text || el.title || el.placeholder || el.tagName.toLowerCase()).trim().replace(/\s+/g, ' ').slice(0, 48);
  // A chip of a group (the cut-off side's nodes, the keys in use) is named with its group.
  const group = el.parentElement?.closest('[role="group"][aria-label]');
  return group && group.closest('.card') ? `${group.getAttribute('aria-label').split(':')[0]}: ${name}` : name;
}

/** Go to control `el`: unfold what holds it, bring it into view, focus it. */
function goTo(el) {
  for (let d = el.parentElement?.closest('details'); d; d = d.parentElement?.closest('details')) {
    if (el.tagName !== 'SUMMARY' || el.parentElement !== d) d.open = true;
  }
  el.scrollIntoView({ block: 'nearest' });
  el.focus();
}

/**
 * The "⋯" menu: level 1 lists the sections that have controls, level 2 one section's
 * controls. Arrows move, Enter (or →) opens or goes, ← (or Escape) returns, Escape closes.
 */
export function bindMoreMenu() {
  const more = $('more-menu');
  const opener = $('btn-more');
  const items = () => [...more.querySelectorAll('button')];
  const close = (refocus) => {
    more.hidden = true;
    opener.setAttribute('aria-expanded', 'false');
    if (refocus) opener.focus();
  };
  const item = (label, act, extra = {}) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('role', 'menuitem');
    b.tabIndex = -1;
    b.textContent = label;
    for (const [k, v] of Object.entries(extra)) b.setAttribute(k, v);
    b.addEventListener('click', (ev) => { ev.stopPropagation(); act(); });
    return b;
  };
  const sections = () => SECTIONS.map(([label, sel]) => ({ label, controls: controlsOf(document.querySelector(sel)) }))
    .filter((s) => s.controls.length > 0);
  const showSections = (focusLabel = null) => {
    more.replaceChildren(...sections().map((s) => item(`${s.label} ▸`, () => showSection(s.label), { 'aria-haspopup': 'true', 'data-section': s.label })));
    more.dataset.level = '1';
    more.setAttribute('aria-label', 'Go to: the page\'s sections');
    const to = items().find((b) => b.dataset.section === focusLabel) ?? items()[0];
    to?.focus();
  };
  const showSection = (label) => {
    const s = sections().find((x) => x.label === label);
    if (!s) { showSections(); return; }
    more.replaceChildren(
      item(`◂ ${s.label}`, () => showSections(s.label), { 'data-back': 'true', 'aria-label': `Back to the sections (from ${s.label})` }),
      ...s.controls.map((el) => item(nameOf(el), () => { close(false); goTo(el); })),
    );
    more.dataset.level = '2';
    more.dataset.section = s.label;
    more.setAttribute('aria-label', `Go to: ${s.label}`);
    (items()[1] ?? items()[0]).focus();
  };
  opener.addEventListener('click', () => {
    if (!more.hidden) { close(false); return; }
    const bar = document.querySelector('.toolbar').getBoundingClientRect();
    const b = opener.getBoundingClientRect();
    more.style.left = `${Math.max(0, b.right - bar.left - 230)}px`;
    more.hidden = false;
    opener.setAttribute('aria-expanded', 'true');
    showSections();
  });
  more.addEventListener('keydown', (ev) => {
    const list = items();
    const k = list.indexOf(document.activeElement);
    const level2 = more.dataset.level === '2';
    if (ev.key === 'Escape' || (ev.key === 'ArrowLeft' && level2)) {
      ev.preventDefault();
      if (level2) showSections(more.dataset.section);
      else close(true);
      return;
    }
    if (ev.key === 'ArrowRight' && !level2 && k >= 0) { ev.preventDefault(); list[k].click(); return; }
    if (ev.key === 'Tab') { close(false); return; }
    const to = { ArrowDown: k + 1, ArrowUp: k - 1, Home: 0, End: list.length - 1 }[ev.key];
    if (to !== undefined) { ev.preventDefault(); list[(to + list.length) % list.length].focus(); }
  });
  more.addEventListener('focusout', (ev) => {
    if (!more.hidden && !more.contains(ev.relatedTarget) && ev.relatedTarget !== opener && ev.relatedTarget) close(false);
  });
}

/**
 * A toolbar is one Tab stop (the ARIA toolbar pattern): Left and Right move between its
 * controls (`skip`: controls with a Tab stop of their own, such as a slider that uses the
 * arrows itself).
 */
export function rovingToolbar(bar, skip = []) {
  const items = () => [...bar.querySelectorAll('button, select, input')].filter((el) => !skip.includes(el.id) && !el.disabled && !el.hidden);
  const focusAt = (el) => {
    for (const x of items()) x.tabIndex = x === el ? 0 : -1;
    el.focus();
  };
  for (const x of items()) x.tabIndex = x.id === 'btn-play' ? 0 : -1;
  bar.addEventListener('keydown', (ev) => {
    const list = items();
    const k = list.indexOf(ev.target);
    if (k < 0) return;
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: list.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    focusAt(list[(to + list.length) % list.length]);
  });
  bar.addEventListener('focusin', (ev) => { if (items().includes(ev.target)) for (const x of items()) x.tabIndex = x === ev.target ? 0 : -1; });
}

/** A node's actions (beside it on the ring): the arrows move between its buttons. */
export function arrowGroup(box) {
  box.addEventListener('keydown', (ev) => {
    const list = [...box.querySelectorAll('button')].filter((b) => !b.hidden && !b.disabled);
    const k = list.indexOf(document.activeElement);
    if (k < 0) return;
    const to = { ArrowDown: k + 1, ArrowRight: k + 1, ArrowUp: k - 1, ArrowLeft: k - 1, Home: 0, End: list.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    list[(to + list.length) % list.length].focus();
  });
}
