"""Explore by hand: two ipywidgets explorers for the lessons (JupyterLab 4 and Colab, ipywidgets 8).

- ``augmentation_explorer(image)`` (lesson 1): sliders for the rotation, zoom, translation, contrast
  and brightness factors, menus for the flip mode, ``fill_mode`` and ``value_range``; a grid of the
  image that re-augments whenever a setting changes, the exact Keras code that builds what is
  shown, and what Keras really did with it: the flips it made, the ranges it stored, the contrast
  factors it drew, the error it raised.
- ``threshold_explorer(labels, scores)`` (lesson 3): a threshold slider over validation scores; the
  confusion matrix, precision, recall and the point on the precision–recall curve follow it
  (matplotlib, metrics from scikit-learn).

Only ipywidgets' own core widgets are used (sliders, menus, HTML, Image), which Colab renders
without a custom widget manager. Nothing here waits for a front end: built where no one is looking
(nbclient, nbgrader, grading, progress), an explorer draws once, returns and never runs again,
since only a front end's messages call its handlers. TensorFlow and Keras are imported only when an
augmentation explorer is built.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field, replace
from typing import Any

import ipywidgets as widgets
import numpy as np

FLIP_MODES: tuple[tuple[str, str | None], ...] = (
    ("no flip", None),
    ("horizontal", "horizontal"),
    ("vertical", "vertical"),
    ("horizontal_and_vertical", "horizontal_and_vertical"),
    ("diagonal", "diagonal"),  # not a Keras mode: Keras accepts it and never flips
)
KERAS_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
VALUE_RANGES: tuple[tuple[str, tuple[int, int]], ...] = (("(0, 1)", (0, 1)), ("(0, 255)", (0, 255)))
FLIP_TRIALS = 8  # calls of a flip layer on a small batch, to see which flips it really makes
LABEL_STYLE = {"description_width": "90px"}
CODE_STYLE = (
    "font-family: var(--jp-code-font-family, monospace); font-size: 12px; margin: 0; "
    "white-space: pre; line-height: 1.4"
)


def _number(value: float) -> str:
    """A slider value as Python source: rounded, so 0.30000000000000004 reads 0.3."""
    return repr(round(float(value), 3))


def _png(picture: np.ndarray, fmt: str = "jpeg") -> bytes:
    """An RGB array in [0, 1] as image bytes (JPEG by default: a photo grid stays small)."""
    from PIL import Image

    pixels = (np.clip(picture, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt.upper(), quality=90)
    return buffer.getvalue()


def grid(pictures: np.ndarray, columns: int = 4, gap: int = 4) -> np.ndarray:
    """Images ``(n, h, w, c)`` side by side, ``columns`` to a row, on a white background."""
    pictures = np.asarray(pictures, dtype=np.float32)
    if pictures.shape[-1] == 1:
        pictures = np.repeat(pictures, 3, axis=-1)
    count, height, width = pictures.shape[:3]
    rows = -(-count // columns)
    sheet = np.ones((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), np.float32)
    for i, picture in enumerate(pictures):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        sheet[top : top + height, left : left + width] = picture
    return sheet


# ---- lesson 1: the augmentation explorer ---------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the augmentation explorer's controls say; a factor of 0 leaves its layer out."""

    flip: str | None = "horizontal"
    rotation: float = 0.1
    zoom: float = 0.1
    translation: float = 0.0
    contrast: float = 0.0
    contrast_pair: bool = False
    brightness: float = 0.0
    fill_mode: str = "reflect"
    value_range: tuple[int, int] = (0, 1)


def layer_lines(settings: Settings) -> list[str]:
    """One line of Keras code per layer the settings ask for, in pipeline order."""
    s = settings
    fill = "" if s.fill_mode == "reflect" else f", fill_mode={s.fill_mode!r}"
    value_range = f"value_range={tuple(s.value_range)!r}"
    lines = []
    if s.flip is not None:
        lines.append(f"keras.layers.RandomFlip({s.flip!r})")
    if round(s.rotation, 3):
        lines.append(f"keras.layers.RandomRotation({_number(s.rotation)}{fill})")
    if round(s.zoom, 3):
        lines.append(f"keras.layers.RandomZoom({_number(s.zoom)}{fill})")
    if round(s.translation, 3):
        factor = _number(s.translation)
        lines.append(f"keras.layers.RandomTranslation({factor}, {factor}{fill})")
    if round(s.contrast, 3):
        factor = _number(s.contrast)
        factor = f"({factor}, {factor})" if s.contrast_pair else factor
        lines.append(f"keras.layers.RandomContrast({factor}, {value_range})")
    if round(s.brightness, 3):
        lines.append(f"keras.layers.RandomBrightness({_number(s.brightness)}, {value_range})")
    return [line.replace("'", '"') for line in lines]


def pipeline_code(settings: Settings) -> str:
    """The Keras code that builds the pipeline the settings describe."""
    lines = layer_lines(settings)
    if not lines:
        return "keras.Sequential([])  # no layer chosen: nothing to augment"
    body = "".join(f"    {line},\n" for line in lines)
    return f"augmenter = keras.Sequential([\n{body}])"


def _build(line: str) -> Any:
    """Evaluate one line of Keras code (the text shown is what runs)."""
    import keras

    return eval(line, {"keras": keras})  # our own generated code, never the student's


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class Augmented:
    """One run of the explorer's pipeline: its pictures, or the errors Keras raised building it."""

    code: str
    pictures: np.ndarray
    errors: dict[str, str]  # line -> the error that line raised
    notes: list[str]  # what Keras really did, in words
    layers: list = field(default_factory=list)  # the layers built from the code, in order


def flips_seen(layer: Any, trials: int = FLIP_TRIALS, seed: int = 0) -> set[str]:
    """The flips a flip layer really makes over ``trials`` calls on six small random images."""
    x = np.random.default_rng(seed).random((6, 5, 7, 1)).astype("float32")
    kinds = {
        "none": x,
        "horizontal": x[:, :, ::-1],
        "vertical": x[:, ::-1],
        "both axes": x[:, ::-1, ::-1],
    }
    seen = set()
    for _ in range(trials):
        out = np.asarray(layer(x, training=True))
        for i in range(len(x)):
            seen |= {name for name, want in kinds.items() if np.allclose(out[i], want[i], atol=1e-6)}
    return seen


def _pair(value: Any) -> tuple[float, float]:
    """A factor as Keras stores it, normalised to ``(low, high)``: one number ``f`` is ``(-f, f)``."""
    if isinstance(value, list | tuple):
        low, high = (float(v) for v in value)
    else:
        low, high = -abs(float(value)), abs(float(value))
    return min(low, high), max(low, high)


def _stored(value: Any) -> str:
    """A factor as Keras stored it, in Python's notation."""
    return repr(tuple(value)) if isinstance(value, list | tuple) else repr(value)


def _contrast_factors(layer: Any, image: np.ndarray, value_range: tuple[int, int]) -> np.ndarray:
    """The contrast factor each of 32 copies got: spread around channel means, after over before."""
    low, high = value_range
    grey = low + (high - low) * (0.25 + 0.5 * np.repeat(image[np.newaxis], 32, axis=0))
    out = np.asarray(layer(grey, training=True))

    def spread(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axis=(1, 2), keepdims=True)).std(axis=(1, 2, 3))

    return spread(out) / spread(grey)


def _describe(line: str, layer: Any, settings: Settings, image: np.ndarray) -> str:
    """What one built layer does, read from its config or measured on the image."""
    name = type(layer).__name__
    config = layer.get_config()
    if name == "RandomFlip":
        seen = flips_seen(layer) - {"none"}
        if not seen:
            return (
                f"⚠️ <code>{html.escape(line)}</code> raised no error, yet in {FLIP_TRIALS} calls it "
                "never flipped an image: Keras ignores a mode it does not know "
                f"({', '.join(repr(m) for m in KERAS_FLIP_MODES)} are its modes)."
            )
        made = ", ".join(sorted(seen))
        return f"RandomFlip({settings.flip!r}) made these flips in {FLIP_TRIALS} calls: {made}."
    if name == "RandomRotation":
        low, high = _pair(config["factor"])
        turns = f"{low * 360:+.0f}° to {high * 360:+.0f}°"
        return f"RandomRotation turns by {turns} (its factor is a fraction of a full turn)."
    if name == "RandomZoom":
        low, high = _pair(config["height_factor"])
        change = f"{low:+.0%} to {high:+.0%}"
        return f"RandomZoom changes the size by {change} (positive zooms out, negative zooms in)."
    if name == "RandomTranslation":
        low, high = _pair(config["height_factor"])
        return (
            f"RandomTranslation shifts by {low:+.0%} to {high:+.0%} of the height, and the same of the width."
        )
    if name == "RandomContrast":
        found = _contrast_factors(layer, image, settings.value_range)
        text = (
            f"RandomContrast stored factor={_stored(config.get('factor'))} and drew contrast factors "
            f"from {found.min():.2f} to {found.max():.2f} (1 keeps the contrast)."
        )
        if found.min() > 0.995 and found.max() > 1.005:
            text += " ⚠️ It only ever raises contrast: tick “both ways” to pass the pair (f, f)."
        return text
    if name == "RandomBrightness":
        batch = np.repeat(image[np.newaxis], 8, axis=0)
        out = np.asarray(layer(batch, training=True))
        text = f"RandomBrightness: pixel values now from {out.min():.2f} to {out.max():.2f}."
        if tuple(settings.value_range) != (0, 1):
            low, high = _pair(config["factor"])
            shift = max(abs(low), abs(high)) * (settings.value_range[1] - settings.value_range[0])
            text += (
                f" ⚠️ With value_range={tuple(settings.value_range)} on an image in [0, 1] it adds up to "
                f"±{shift:.0f}: the picture washes out."
            )
        return text
    return name


def augment(settings: Settings, image: np.ndarray, copies: int = 8) -> Augmented:
    """Build the pipeline from the code shown, run it on ``copies`` copies of ``image``, describe it."""
    code = pipeline_code(settings)
    batch = np.repeat(np.asarray(image, dtype=np.float32)[np.newaxis], copies, axis=0)
    lines = layer_lines(settings)
    if not lines:
        return Augmented(code, batch, {}, ["No layer chosen: these are the original pictures."])
    layers, errors = [], {}
    for line in lines:
        try:
            layers.append(_build(line))
        except Exception as error:
            errors[line] = _error(error)
    if errors:
        notes = [
            f"❌ Keras rejects <code>{html.escape(line)}</code>: {html.escape(message)}"
            for line, message in errors.items()
        ]
        notes.append("Nothing could be built, so the pictures are the original, not augmented.")
        return Augmented(code, batch, errors, notes)
    import keras

    try:
        pictures = np.asarray(keras.Sequential(layers)(batch, training=True))
    except Exception as error:  # a layer that builds but fails when called
        return Augmented(
            code, batch, {"call": _error(error)}, [f"❌ Calling it raised {html.escape(_error(error))}"]
        )
    notes: list[str] = []
    for line, layer in zip(lines, layers, strict=True):
        try:
            notes.append(_describe(line, layer, settings, image))
        except Exception as error:  # a Keras whose config reads otherwise: say so, show the rest
            notes.append(f"<code>{html.escape(line)}</code> (not described: {html.escape(_error(error))})")
    return Augmented(code, pictures, {}, notes, layers)


class AugmentationExplorer(widgets.VBox):
    """Sliders and menus over a Keras augmentation pipeline, its pictures, its code and its traps."""

    def __init__(self, image: np.ndarray | None = None, copies: int = 8, settings: Settings | None = None):
        if image is None:
            from augcourse import images

            image = images.cat(96)
        self.image = np.asarray(image, dtype=np.float32)
        self.copies = copies
        s = settings or Settings()

        def slider(description: str, value: float, low: float, high: float, step: float, tip: str):
            return widgets.FloatSlider(
                value=value,
                min=low,
                max=high,
                step=step,
                description=description,
                readout_format=".2f",
                continuous_update=False,
                style=LABEL_STYLE,
                description_allow_html=False,
                tooltip=tip,
                layout=widgets.Layout(width="340px"),
            )

        # The sliders reach past what Keras accepts (1.0), so that its errors can be seen too.
        self.rotation = slider("rotation", s.rotation, 0.0, 1.2, 0.01, "a fraction of a full turn")
        self.zoom = slider("zoom", s.zoom, -1.2, 1.2, 0.05, "positive zooms out, negative zooms in")
        self.translation = slider("translation", s.translation, 0.0, 1.2, 0.05, "a fraction of the size")
        self.contrast = slider("contrast", s.contrast, 0.0, 1.2, 0.05, "how far contrast may change")
        self.contrast_pair = widgets.Checkbox(
            value=s.contrast_pair,
            description="both ways (f, f)",
            indent=False,
            layout=widgets.Layout(width="auto"),
        )
        self.brightness = slider("brightness", s.brightness, 0.0, 1.2, 0.05, "a fraction of the value range")
        self.flip = widgets.Dropdown(
            options=FLIP_MODES, value=s.flip, description="flip mode", style=LABEL_STYLE
        )
        self.fill_mode = widgets.Dropdown(
            options=FILL_MODES, value=s.fill_mode, description="fill_mode", style=LABEL_STYLE
        )
        self.value_range = widgets.Dropdown(
            options=VALUE_RANGES, value=tuple(s.value_range), description="value_range", style=LABEL_STYLE
        )
        self.again = widgets.Button(description="augment again", icon="refresh", tooltip="new random draws")
        self.picture = widgets.Image(format="jpeg", layout=widgets.Layout(width="720px", max_width="100%"))
        self.code = widgets.HTML(
            layout=widgets.Layout(margin="0 0 0 16px", min_width="360px", overflow="auto")
        )
        self.notes = widgets.HTML()
        self.runs = 0  # how many times the pictures were drawn
        self.last: Augmented | None = None

        controls = [
            self.flip,
            self.rotation,
            self.zoom,
            self.translation,
            widgets.HBox([self.contrast, self.contrast_pair]),
            self.brightness,
            self.fill_mode,
            self.value_range,
            self.again,
        ]
        super().__init__(
            [
                widgets.HBox(
                    [widgets.VBox(controls), self.code], layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.picture,
                self.notes,
            ]
        )
        self.add_class("augcourse-augmentation-explorer")
        for control in self.controls:
            control.observe(self._changed, names="value")
        self.again.on_click(lambda _: self.update())
        self.update()

    def __repr__(self) -> str:  # what a notebook shows where widgets cannot be drawn
        return "AugmentationExplorer (sliders need a live notebook: JupyterLab or Colab)"

    @property
    def controls(self) -> list[widgets.ValueWidget]:
        return [
            self.flip,
            self.rotation,
            self.zoom,
            self.translation,
            self.contrast,
            self.contrast_pair,
            self.brightness,
            self.fill_mode,
            self.value_range,
        ]

    def settings(self) -> Settings:
        """The settings the controls show now."""
        return Settings(
            flip=self.flip.value,
            rotation=self.rotation.value,
            zoom=self.zoom.value,
            translation=self.translation.value,
            contrast=self.contrast.value,
            contrast_pair=self.contrast_pair.value,
            brightness=self.brightness.value,
            fill_mode=self.fill_mode.value,
            value_range=tuple(self.value_range.value),
        )

    def _changed(self, _change: dict) -> None:
        self.update()

    def update(self) -> Augmented:
        """Re-augment with the current settings and show the pictures, the code and the notes."""
        result = augment(self.settings(), self.image, self.copies)
        self.last = result
        self.runs += 1
        self.picture.value = _png(grid(result.pictures))
        marked = []
        for line in result.code.splitlines():
            text = html.escape(line)
            if any(line.strip().rstrip(",") == bad for bad in result.errors):
                text = f'<span style="background:#fdd">{text}  # ← raises</span>'
            marked.append(text)
        self.code.value = (
            f"<b>The Keras code of what is shown</b> (draw {self.runs})"
            f'<pre style="{CODE_STYLE}">{chr(10).join(marked)}\n'
            f"pictures = augmenter(images, training=True)</pre>"
            if result.code.startswith("augmenter")
            else f'<b>The Keras code</b><pre style="{CODE_STYLE}">{html.escape(result.code)}</pre>'
        )
        self.notes.value = (
            "<b>What Keras did</b><ul>" + "".join(f"<li>{n}</li>" for n in result.notes) + "</ul>"
        )
        return result


def augmentation_explorer(
    image: np.ndarray | None = None, copies: int = 8, **settings: Any
) -> AugmentationExplorer:
    """An augmentation explorer over ``image`` (default: the cat of ``augcourse.images.cat(96)``).

    ``settings`` start the controls elsewhere than the defaults, e.g. ``rotation=0.2, flip=None``.
    """
    return AugmentationExplorer(image, copies, replace(Settings(), **settings))


# ---- lesson 3: the threshold explorer ------------------------------------------------------------


@dataclass(frozen=True)
class AtThreshold:
    """Everything the threshold explorer shows for one threshold (flagged: ``score >= threshold``)."""

    threshold: float
    matrix: np.ndarray  # [[TN, FP], [FN, TP]], rows true labels, columns predictions
    precision: float  # nan when nothing is flagged
    recall: float

    @property
    def flagged(self) -> int:
        return int(self.matrix[:, 1].sum())


def at_threshold(labels: np.ndarray, scores: np.ndarray, threshold: float) -> AtThreshold:
    """The confusion matrix, precision and recall of flagging ``scores >= threshold`` (scikit-learn)."""
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    flagged = (np.asarray(scores) >= threshold).astype(int)
    matrix = confusion_matrix(labels, flagged, labels=[0, 1])
    precision = precision_score(labels, flagged, zero_division=np.nan)
    recall = recall_score(labels, flagged, zero_division=np.nan)
    return AtThreshold(float(threshold), matrix, float(precision), float(recall))


class ThresholdExplorer(widgets.VBox):
    """A threshold slider over validation scores; confusion matrix, precision, recall and PR curve."""

    def __init__(
        self,
        labels: Any,
        scores: Any,
        threshold: float = 0.5,
        names: tuple[str, str] = ("negative", "positive"),
    ):
        from sklearn.metrics import precision_recall_curve

        self.labels = np.asarray(labels).astype(int).ravel()
        self.scores = np.asarray(scores, dtype=float).ravel()
        if self.labels.shape != self.scores.shape or not len(self.labels):
            raise ValueError(
                f"labels and scores must have the same length (got {len(self.labels)} and {len(self.scores)})"
            )
        if not set(np.unique(self.labels)) <= {0, 1}:
            raise ValueError("labels must be 0 (negative) and 1 (positive)")
        self.names = tuple(names)
        self.curve_precision, self.curve_recall, _ = precision_recall_curve(self.labels, self.scores)
        low = min(0.0, float(np.floor(self.scores.min() * 100) / 100))
        high = max(1.0, float(np.ceil(self.scores.max() * 100) / 100))
        self.threshold = widgets.FloatSlider(
            value=float(np.clip(threshold, low, high)),
            min=low,
            max=high,
            step=0.01,
            description="threshold",
            readout_format=".2f",
            continuous_update=False,
            style=LABEL_STYLE,
            layout=widgets.Layout(width="520px"),
        )
        self.numbers = widgets.HTML()
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="672px", max_width="100%"))
        self.current: AtThreshold | None = None
        super().__init__([self.threshold, self.numbers, self.picture])
        self.add_class("augcourse-threshold-explorer")
        self.threshold.observe(lambda _: self.update(), names="value")
        self.update()

    def __repr__(self) -> str:  # what a notebook shows where widgets cannot be drawn
        return "ThresholdExplorer (the slider needs a live notebook: JupyterLab or Colab)"

    def update(self) -> AtThreshold:
        """Recompute everything for the slider's threshold and redraw."""
        now = at_threshold(self.labels, self.scores, self.threshold.value)
        self.current = now
        (tn, fp), (fn, tp) = now.matrix
        precision = "— (nothing flagged)" if np.isnan(now.precision) else f"{now.precision:.3f}"
        self.numbers.value = (
            f'<div style="{CODE_STYLE}">'
            f"flag a sample when its score ≥ <b>{now.threshold:.2f}</b>: "
            f"{now.flagged} of {len(self.labels)} flagged"
            f"\nTP {tp}  FP {fp}  FN {fn}  TN {tn}"
            f"\nprecision <b>{precision}</b>   recall <b>{now.recall:.3f}</b></div>"
        )
        self.picture.value = self._figure(now)
        return now

    def _figure(self, now: AtThreshold) -> bytes:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(8.4, 3.3), dpi=80)
        left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        matrix = now.matrix
        left.imshow(matrix, cmap="Blues", vmin=0, vmax=max(1, matrix.max()))
        left.set(
            xticks=[0, 1],
            yticks=[0, 1],
            xticklabels=self.names,
            yticklabels=self.names,
            xlabel="predicted label",
            ylabel="true label",
            title=f"Confusion matrix at {now.threshold:.2f}",
        )
        for (row, col), count in np.ndenumerate(matrix):
            dark = count > matrix.max() / 2
            left.text(col, row, str(count), ha="center", va="center", color="white" if dark else "black")
        right.plot(self.curve_recall, self.curve_precision, color="tab:blue")
        if not np.isnan(now.precision):
            right.plot(
                [now.recall], [now.precision], "o", color="tab:red", markersize=9, label="this threshold"
            )
            right.legend(loc="lower left")
        right.set(
            xlabel="recall",
            ylabel="precision",
            xlim=(0, 1.02),
            ylim=(0, 1.05),
            title="Precision–recall curve",
        )
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()


def threshold_explorer(
    labels: Any, scores: Any, threshold: float = 0.5, names: tuple[str, str] = ("negative", "positive")
) -> ThresholdExplorer:
    """A threshold explorer over validation ``labels`` (0/1) and ``scores`` (higher: more positive)."""
    return ThresholdExplorer(labels, scores, threshold, names)
