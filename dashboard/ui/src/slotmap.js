// The 1024-slot map: a 32×32 grid coloured by owning group; migrating slots striped and animated
// (source colour moving toward the target's); hover names slot, group, keys and bytes; with
// `onSelect`, dragging across cells selects a range. The cells are rebuilt only when the table or
// the selection changes, and the mouse is handled once on the grid (not per cell).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { bytes, count, groupColor } from './format.js';

function slotOf(e) {
  const s = e.target?.dataset?.slot;
  return s === undefined ? null : Number(s);
}

export function SlotMap({ slots, slotstats, selection, onSelect }) {
  const [hover, setHover] = useState(null);
  const drag = useRef(null);
  const select = useRef(onSelect);
  select.current = onSelect;
  useEffect(() => {
    const up = () => {
      if (drag.current && select.current) select.current(Math.min(drag.current.a, drag.current.b), Math.max(drag.current.a, drag.current.b));
      drag.current = null;
    };
    addEventListener('mouseup', up);
    return () => removeEventListener('mouseup', up);
  }, []);
  const [selA, selB] = selection ?? [-1, -2];
  const moving = useMemo(() => new Map((slots?.migrating ?? []).map(([s, from, to]) => [s, { from, to }])), [slots]);
  const cells = useMemo(() => {
    if (!slots) return null;
    const out = [];
    for (let s = 0; s < 1024; s++) {
      const owner = slots.owner[s];
      const m = moving.get(s);
      const style = m ? `--from:${groupColor(m.from)};--to:${groupColor(m.to)}` : `background:${groupColor(owner)}`;
      out.push(html`<div class=${`cell${m ? ' mig' : ''}${owner === 0 ? ' free' : ''}${s >= selA && s <= selB ? ' sel' : ''}`} style=${style} data-slot=${s} />`);
    }
    return out;
  }, [slots, moving, selA, selB]);
  if (!slots) return html`<div class="slotmap loading">loading the slot table…</div>`;
  const over = (e) => {
    const s = slotOf(e);
    if (s === null) return;
    setHover(s);
    if (drag.current) {
      drag.current.b = s;
      onSelect?.(Math.min(drag.current.a, s), Math.max(drag.current.a, s));
    }
  };
  const down = (e) => {
    const s = slotOf(e);
    if (s === null || !onSelect) return;
    e.preventDefault();
    drag.current = { a: s, b: s };
    onSelect(s, s);
  };
  const groups = [...new Set(slots.owner)].filter(Boolean).sort((a, b) => a - b);
  return html`
    <div class="slotmap-wrap">
      <div class=${`slotmap${onSelect ? ' selectable' : ''}`} data-migrating=${slots.migrating.length} data-groups=${groups.length}
        onMouseOver=${over} onMouseDown=${down} onMouseLeave=${() => setHover(null)}>${cells}</div>
      <div class="slot-info" id="slot-info">${hover === null ? html`<span class="muted">Hover a slot for its group, keys and bytes${onSelect ? '; drag to select a range' : ''}.</span>` : describeSlot(hover, slots, moving, slotstats)}</div>
      <div class="legend">${groups.map((g) => html`<span><i style=${`background:${groupColor(g)}`} />group ${g}</span>`)}
        <span><i class="free" />unassigned</span>${slots.migrating.length ? html`<span><i class="mig-key" />migrating (${slots.migrating.length})</span>` : null}</div>
    </div>`;
}

function describeSlot(s, slots, moving, stats) {
  const m = moving.get(s);
  const where = m ? `migrating from group ${m.from} to group ${m.to}` : slots.owner[s] ? `group ${slots.owner[s]}` : 'unassigned';
  const figures = stats ? ` · ${count(stats.keys[s])} keys · ${bytes(stats.bytes[s])}` : '';
  return html`<b>slot ${s}</b> · ${where}${figures}`;
}
