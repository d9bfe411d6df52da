"""The body chart as a form control: the one tap-friendly chart that the assess form, the referral atlas and
the records' new-episode form all draw (with ``templates/_chart.html`` around it and app.js behind it)."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from dryneedling.catalog import Catalog
from dryneedling.render.body_chart import body_chart_svg, legend_words

# The smallest hit area of a chart region, in chart units. app.js shows one view at a time, or the two
# views stacked, each as wide as the box: that is about 370 px for the 200 units of a view at a 390 px wide
# phone (1.85 px a unit) and more on a desktop, so 14 units make at least 24 px everywhere.
CHART_MIN_TARGET = 14


def tap_chart(
    catalog: Catalog,
    highlight: Mapping[str, str] | None = None,
    title: str = "Body chart: tap where it hurts",
) -> Markup:
    """The interactive chart (every region a finger-sized target), shaded by ``highlight`` (see
    :func:`dryneedling.render.body_chart.highlight_for`), with its legend in words below when shaded."""
    svg = body_chart_svg(
        dict(highlight or {}),
        {rid: region.label for rid, region in catalog.kb.regions.items()},
        interactive=True,
        title=title,
        min_target=CHART_MIN_TARGET,
    )
    words = legend_words(highlight or {})
    if not words:
        return Markup(svg)
    legend = Markup("").join(
        Markup("<li>{}: {}</li>").format(colour.capitalize(), meaning) for colour, meaning in words
    )
    return Markup(svg) + Markup('<ul class="chart-legend">') + legend + Markup("</ul>")
