"""What a figure shows, in words, for a reader who cannot see it: `describe(fig, text)` keeps the words on the figure.

Every figure of plots.py is described from the data it draws, so the words stay true when the figure changes; a
notebook that draws its own figure describes it with ch.describe. In a notebook (an IPython shell), a described
figure's PNG output carries its words as metadata {"image/png": {"alt": text}}: IPython's display formatters may
return (data, metadata), and the one for matplotlib figures is wrapped so that it adds them, keeping the inline
backend's own PNG settings. The book (book/stage.py) turns them into each image's alt text. Outside IPython,
describe only keeps the words.
"""

import sys

ATTRIBUTE = "alt_text"  # the figure's attribute that holds its description


def describe(fig, text: str, add: bool = False):
    """Keep `text` as what `fig` shows (add=True: after what it says already), for its alt text; returns `fig`.

    Introduced in notebook 00.
    """
    old = description(fig) if add else None
    setattr(fig, ATTRIBUTE, f"{old} {text}" if old else text)
    show_descriptions()
    return fig


def description(fig):
    """What `describe` keeps for `fig`, or None."""
    return getattr(fig, ATTRIBUTE, None)


def listed(names) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = [str(name) for name in names]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def capitalised(text: str) -> str:
    """`text` with its first letter upper-case and the rest as it is (str.capitalize would lower "GPU")."""
    return text[:1].upper() + text[1:]


def percent(share) -> str:
    """A share 0..1 as a percentage with one decimal: 0.6234 -> '62.3%'."""
    return f"{share:.1%}"


class WithAltText:
    """A PNG formatter for matplotlib figures: the one it wraps, with a described figure's alt in its metadata."""

    def __init__(self, wrapped):
        self.wrapped = wrapped  # the inline backend's formatter (print_figure with its kwargs), kept as it is

    def __call__(self, fig):
        """(png, {"alt": description}) for a described figure, else what the wrapped formatter returns."""
        found, text = self.wrapped(fig), description(fig)
        if found is None or not text:
            return found
        data, metadata = found if isinstance(found, tuple) else (found, None)  # retina PNGs come with their size
        return data, {**(metadata or {}), "alt": text}


def add_alt_text(png_formatter) -> None:
    """Wrap `png_formatter`'s function for matplotlib figures in WithAltText (once; none registered: nothing to do)."""
    from matplotlib.figure import Figure

    try:
        current = png_formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if not isinstance(current, WithAltText):
        png_formatter.for_type(Figure, WithAltText(current))


def show_descriptions() -> None:
    """In an IPython shell, make figures' PNG outputs carry their descriptions (again after a backend reset)."""
    ipython = sys.modules.get("IPython")  # never imported here: a script has no shell to display in
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        add_alt_text(shell.display_formatter.formatters["image/png"])
