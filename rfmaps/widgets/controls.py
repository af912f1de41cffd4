"""Accessible controls and texts for the explorers: a named range input and a described figure.

ipywidgets draws its sliders with noUiSlider, whose handle (``role="slider"``)
carries no accessible name: a screen reader says "slider, 3", never "kernel
size", and axe-core reports every handle (rule ``aria-input-field-name``).
ipywidgets offers no trait that names the handle. The controls here are small
anywidget modules instead (anywidget ships a prebuilt front end for JupyterLab,
Notebook 7, Voilà, VS Code and Colab: no build step), rendering what the
browser already makes accessible:

* :class:`IntRange`: a ``<label>`` tied to an ``<input type="range">``. The
  browser gives it its name, announces its value, and moves it with the arrow
  keys, Page Up/Down, Home and End. It reports a value when the handle is
  released or a key is pressed (as ``continuous_update=False`` did).
* :class:`ChoiceRange`: the same over a list of ``(label, value)`` options
  (the explorers' "neuron in layer" slider); the label is announced.
* :class:`LiveText`: HTML shown as it is, plus a visually hidden polite live
  region that repeats it once it has settled (no flood while a slider is held
  down), and, with ``describes=``, the figure beside it gets ``role="img"``, a
  name and this text as its description (``aria-describedby``). With ``keep_keys=True`` the keys
  pressed on the controls of its box stay theirs: JupyterLab's command-mode
  shortcuts (arrows select cells, Enter edits one) would take the focus away.

Their Python side keeps the part of the ipywidgets API the explorers use:
``value``, ``min``, ``max``, ``step``, ``description``, ``disabled``,
``observe``, ``hold_sync``, ``layout``, ``close``.
"""

from __future__ import annotations

from typing import Sequence

import anywidget
import traitlets

# One module for both range controls; ``_position`` names the trait the input's position mirrors
# (IntRange: ``value``; ChoiceRange: ``index``, its value being any option value).
_RANGE_ESM = r"""
// Each model imports this module afresh: a counter here would restart, so ids are random.
const uid = (kind) => `rfmaps-${kind}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
function render({ model, el }) {
  const id = uid("range");
  el.classList.add("rfmaps-range");
  const label = document.createElement("label");
  label.htmlFor = id;
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  const shown = document.createElement("span");  // the value, for the eye: the input announces its own
  shown.className = "rfmaps-range-value";
  shown.setAttribute("aria-hidden", "true");
  el.append(label, input, shown);
  const position = model.get("_position");
  const text = (at) => {
    const texts = model.get("texts");
    const i = Number(at) - model.get("min");
    return texts.length ? (texts[i] ?? String(at)) : String(at);
  };
  const show = (at) => {
    shown.textContent = text(at);
    if (model.get("texts").length) input.setAttribute("aria-valuetext", text(at));
    else input.removeAttribute("aria-valuetext");
  };
  const sync = () => {
    label.textContent = model.get("description");
    const name = model.get("label");
    if (name) input.setAttribute("aria-label", name); else input.removeAttribute("aria-label");
    input.min = model.get("min");  // range first, so the value is not clamped to the old one
    input.max = model.get("max");
    input.step = model.get("step");
    input.value = model.get(position);
    input.disabled = model.get("disabled");
    show(input.value);
  };
  // Keys that move the input are the input's: JupyterLab's notebook shortcuts (arrows select cells
  // in command mode) must not take them, or focus jumps to a cell. Escape still leaves to the notebook.
  input.addEventListener("keydown", (event) => { if (event.key !== "Escape") event.stopPropagation(); });
  input.addEventListener("input", () => show(input.value));  // while dragging: the number follows
  input.addEventListener("change", () => {  // released, or a key pressed: the kernel hears it
    model.set(position, Number(input.value));
    model.save_changes();
  });
  model.on("change", sync);
  sync();
  return () => model.off("change", sync);
}
export default { render };
"""

_RANGE_CSS = r"""
.rfmaps-range { display: flex; align-items: center; gap: 6px; min-height: 28px;
  font-size: var(--jp-widgets-font-size, 13px); color: var(--jp-widgets-label-color, inherit); }
.rfmaps-range label { white-space: nowrap; }
.rfmaps-range input[type="range"] { flex: 1 1 auto; min-width: 48px; margin: 0; accent-color: #1a5fb4; }
.rfmaps-range input[type="range"]:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 3px; }
.rfmaps-range-value { min-width: 2.2em; text-align: right; font-variant-numeric: tabular-nums;
  margin-right: 12px; }  /* apart from the next control's label */
"""

_LIVE_ESM = r"""
const uid = (kind) => `rfmaps-${kind}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
function render({ model, el }) {
  const id = uid("text");
  el.classList.add("rfmaps-live");
  const shown = document.createElement("div");
  shown.id = id;
  shown.className = "rfmaps-text";
  const live = document.createElement("div");  // empty at first: only changes are announced
  live.className = "rfmaps-sr-only";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  el.append(shown, live);
  let timer = null;
  const describe = () => {
    const mark = model.get("describes");
    const box = el.parentElement;
    if (!mark || !box) return;
    for (const figure of box.querySelectorAll(`:scope > .${mark}`)) {
      figure.setAttribute("role", "img");
      figure.setAttribute("aria-label", model.get("figure_label"));
      figure.setAttribute("aria-describedby", id);
    }
  };
  const update = (first) => {
    shown.innerHTML = model.get("value");
    describe();
    if (first || !model.get("announce")) return;
    clearTimeout(timer);  // a new value within the pause replaces the one waiting
    timer = setTimeout(() => { live.textContent = shown.textContent; }, model.get("settle_ms"));
  };
  // Keys pressed on a control of this box are the control's: in JupyterLab's command mode, arrows,
  // Enter and Space on a dropdown, checkbox or button would otherwise select, edit or scroll cells
  // and take the focus away. Escape still goes to the notebook.
  const keep = (event) => {
    if (event.key !== "Escape" && event.target.matches("input, select, textarea, button")) event.stopPropagation();
  };
  let box = null, tries = 0;
  const attach = () => {  // the box adds this view to itself after render: wait for it
    if (!el.parentElement) { if (tries++ < 600) requestAnimationFrame(attach); return; }
    box = el.parentElement;
    describe();
    if (model.get("keep_keys")) {
      box.addEventListener("keydown", keep);
      box.classList.add("rfmaps-keys");  // and its controls show where the focus is (CSS below)
    }
  };
  model.on("change:value", () => update(false));
  update(true);
  attach();
  return () => { clearTimeout(timer); if (box) box.removeEventListener("keydown", keep); };
}
export default { render };
"""

_LIVE_CSS = r"""
.rfmaps-keys :is(select, input, button, textarea):focus-visible {  /* ipywidgets removes the outline */
  outline: 2px solid #1a5fb4 !important; outline-offset: 1px; }
.rfmaps-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
"""


class _Range(anywidget.AnyWidget):
    """What both range controls share: range, name, state."""

    _esm = _RANGE_ESM
    _css = _RANGE_CSS
    _position = traitlets.Unicode("value").tag(sync=True)
    min = traitlets.Int(0).tag(sync=True)
    max = traitlets.Int(100).tag(sync=True)
    step = traitlets.Int(1).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    #: The accessible name when it should say more than the visible description (which it must contain).
    label = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    #: What is shown and announced for each position from min (empty: the number itself).
    texts = traitlets.List(traitlets.Unicode()).tag(sync=True)


class IntRange(_Range):
    """An integer slider with an accessible name, keyed like a native range input.

    Examples
    --------
    >>> s = IntRange(value=3, min=1, max=7, description="kernel size", label="kernel size of layer 1")
    >>> s.value = 9        # clamped into the range, as ipywidgets.IntSlider does
    >>> s.value
    7
    >>> s.max = 5; s.value
    5
    """

    value = traitlets.Int(0).tag(sync=True)

    @traitlets.validate("value")
    def _clamp(self, proposal):
        return min(max(proposal["value"], self.min), self.max)

    @traitlets.validate("min", "max")
    def _ordered(self, proposal):
        low = proposal["value"] if proposal["trait"].name == "min" else self.min
        high = proposal["value"] if proposal["trait"].name == "max" else self.max
        if low > high:
            raise traitlets.TraitError(f"setting {proposal['trait'].name} to {proposal['value']} "
                                       f"leaves min ({low}) above max ({high})")
        return proposal["value"]

    @traitlets.observe("min", "max")
    def _keep_inside(self, change):
        self.value = min(max(self.value, self.min), self.max)


class ChoiceRange(_Range):
    """A slider over ``options``, ``(label, value)`` pairs; ``value`` is the chosen option's value.

    Examples
    --------
    >>> s = ChoiceRange(options=[("1", 0), ("2", 3)], description="neuron in layer")
    >>> s.value = 3; s.index, s.texts
    (1, ['1', '2'])
    >>> s.options = (("1", 0),); s.value   # an option that left: the first one is chosen
    0
    """

    _position = traitlets.Unicode("index").tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    options = traitlets.Any(())
    value = traitlets.Any(None)

    def __init__(self, options: Sequence = (), **kwargs):
        super().__init__(**kwargs)
        self.options = tuple(options)

    def _values(self) -> list:
        return [option[1] for option in self.options]

    @traitlets.observe("options")
    def _new_options(self, change):
        options = tuple(self.options)
        if not options:
            raise traitlets.TraitError("options must hold at least one (label, value) pair")
        values = self._values()
        with self.hold_sync():
            self.texts = [str(label) for label, _ in options]
            self.min, self.max = 0, len(options) - 1
            kept = self.value if any(self.value is v or self.value == v for v in values) else values[0]
            self.index = values.index(kept)
            self.value = kept

    @traitlets.validate("value")
    def _an_option(self, proposal):
        if self.options and not any(proposal["value"] == v for v in self._values()):
            raise traitlets.TraitError(f"value must be one of {self._values()}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("value")
    def _value_moves_index(self, change):
        if not self.options:  # set before the options (in __init__): _new_options places it
            return
        index = self._values().index(change["new"])
        if self.index != index:
            self.index = index

    @traitlets.observe("index")
    def _index_picks_value(self, change):
        if not self.options:
            return
        index = min(max(change["new"], 0), len(self.options) - 1)
        value = self._values()[index]
        if self.value != value:
            self.value = value


class LiveText(anywidget.AnyWidget):
    """HTML on show, announced politely to screen readers once it settles.

    ``describes``: a CSS class of a sibling widget (in the same box) that this
    text describes; that widget becomes ``role="img"`` named ``figure_label``.

    Examples
    --------
    >>> text = LiveText(value="<b>Neuron (row 2, col 3)</b> sees a 5 × 5 field")
    >>> "row 2" in text.value
    True
    """

    _esm = _LIVE_ESM
    _css = _LIVE_CSS
    value = traitlets.Unicode("").tag(sync=True)
    announce = traitlets.Bool(True).tag(sync=True)
    settle_ms = traitlets.Int(600).tag(sync=True)  # a new value within this pause replaces the waiting one
    describes = traitlets.Unicode("").tag(sync=True)
    figure_label = traitlets.Unicode("").tag(sync=True)
    #: Keep the keys pressed on the controls of the box this text is in from JupyterLab's shortcuts.
    keep_keys = traitlets.Bool(False).tag(sync=True)


FIGURE_CLASS = "rfmaps-figure"  # the class an explorer's picture widget carries, for LiveText(describes=...)
